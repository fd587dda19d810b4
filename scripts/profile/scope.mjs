// Lexical scope analysis, enough to tell a local name from a global one. It records which names each
// scope-creating node declares; resolving a reference walks the path from the root outwards.

import { identifierRole, isFunctionNode, walkTree } from "./walk.mjs";

const BLOCK_SCOPE_TYPES = new Set([
  "Program", "BlockStatement", "StaticBlock", "SwitchStatement", "ForStatement", "ForInStatement", "ForOfStatement",
]);

function nearestIndex(path, fromIndex, predicate) {
  for (let index = fromIndex; index >= 0; index -= 1) {
    if (predicate(path[index].node)) return index;
  }
  return -1;
}

function declaringScopeIndex(path, identifierIndex) {
  // Find the construct that declares the name, then the scope it declares into.
  let position = identifierIndex;
  while (position > 0) {
    const owner = path[position - 1].node;
    const declares = owner.type === "VariableDeclarator" || isFunctionNode(owner) ||
      owner.type === "ClassDeclaration" || owner.type === "ClassExpression" || owner.type === "CatchClause";
    if (declares) break;
    position -= 1;
  }
  const ownerIndex = position - 1;
  const owner = path[ownerIndex].node;
  const ownerKey = path[position].key;

  if (owner.type === "VariableDeclarator") {
    const declaration = path[ownerIndex - 1].node;
    if (declaration.kind === "var") return nearestIndex(path, ownerIndex - 2, (node) => isFunctionNode(node) || node.type === "Program");
    return nearestIndex(path, ownerIndex - 2, (node) => BLOCK_SCOPE_TYPES.has(node.type) || isFunctionNode(node));
  }
  if (owner.type === "FunctionDeclaration" && ownerKey === "id") {
    return nearestIndex(path, ownerIndex - 1, (node) => BLOCK_SCOPE_TYPES.has(node.type) || isFunctionNode(node));
  }
  if (owner.type === "ClassDeclaration") {
    return nearestIndex(path, ownerIndex - 1, (node) => BLOCK_SCOPE_TYPES.has(node.type) || isFunctionNode(node));
  }
  // Parameters, the name of a function or class expression and a catch parameter belong to the owner itself.
  return ownerIndex;
}

/**
 * Collects the names each scope declares in a parsed program.
 *
 * NOTE: a function declared inside a block is scoped to that block, as in strict mode. A script that calls it
 * outside the block (allowed in sloppy mode) resolves that call as a global name.
 *
 * @param {object} ast the `Program` node returned by acorn.
 * @returns {{ declares: (node: object, name: string) => boolean, resolve: (name: string,
 *   path: Array<{node: object}>) => object|null }} `declares` returns whether a scope node declares a name, and
 *   `resolve` returns the innermost node on `path` that declares `name`, or null for a global name.
 */
export function analyzeScopes(ast) {
  const namesByScope = new Map();

  walkTree(ast, (node, path) => {
    if (node.type !== "Identifier" || identifierRole(path) !== "binding") return;

    const scopeIndex = declaringScopeIndex(path, path.length - 1);
    if (scopeIndex < 0) return;

    const scopeNode = path[scopeIndex].node;
    if (!namesByScope.has(scopeNode)) namesByScope.set(scopeNode, new Set());
    namesByScope.get(scopeNode).add(node.name);
  });

  function declares(node, name) {
    const names = namesByScope.get(node);
    if (names !== undefined && names.has(name)) return true;
    return node.type === "FunctionExpression" || node.type === "FunctionDeclaration" ? name === "arguments" : false;
  }

  function resolve(name, path) {
    for (let index = path.length - 1; index >= 0; index -= 1) {
      if (declares(path[index].node, name)) return path[index].node;
    }
    return null;
  }

  return { declares, resolve };
}
