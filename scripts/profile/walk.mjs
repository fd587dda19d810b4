// Generic traversal of an acorn (ESTree) syntax tree with the path from the root, and helpers that classify nodes
// by their position in that path.

import { SYNCHRONOUS_CALLBACK_METHODS } from "./profile-data.mjs";

const NON_CHILD_KEYS = new Set(["type", "start", "end", "loc", "range", "raw", "regex", "bigint"]);

const FUNCTION_TYPES = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

const PATTERN_CONTAINER_TYPES = new Set(["ObjectPattern", "ArrayPattern", "RestElement", "AssignmentPattern"]);

function isNode(value) {
  return value !== null && typeof value === "object" && typeof value.type === "string";
}

/**
 * Lists the child nodes of an ESTree node in source order.
 *
 * @param {object} node an acorn node.
 * @returns {Array<{key: string, node: object}>} each child with the property of `node` that contains it.
 */
export function childEntries(node) {
  const children = [];
  for (const key of Object.keys(node)) {
    if (NON_CHILD_KEYS.has(key)) continue;

    const value = node[key];
    if (Array.isArray(value)) {
      for (const item of value) {
        if (isNode(item)) children.push({ key, node: item });
      }
    } else if (isNode(value)) {
      children.push({ key, node: value });
    }
  }
  children.sort((left, right) => left.node.start - right.node.start);
  return children;
}

/**
 * Visits every node under `root` depth-first in source order.
 *
 * @param {object} root the node to start at; it is visited first.
 * @param {(node: object, path: Array<{node: object, key: string|null}>) => (boolean|void)} visit called with
 *   each node and the path from `root` to it (the last entry is the node itself, `key` is the property of the
 *   parent that contains it). Returning `false` skips the children of that node.
 * @returns {void}
 */
export function walkTree(root, visit) {
  const path = [];

  function enter(node, key) {
    path.push({ node, key });
    if (visit(node, path) !== false) {
      for (const child of childEntries(node)) enter(child.node, child.key);
    }
    path.pop();
  }

  enter(root, null);
}

/**
 * Returns whether a node is a function (declaration, expression or arrow).
 *
 * @param {object} node an acorn node.
 * @returns {boolean} true for the three function node types.
 */
export function isFunctionNode(node) {
  return FUNCTION_TYPES.has(node.type);
}

/**
 * Classifies the identifier at the end of `path` by what the name means there.
 *
 * @param {Array<{node: object, key: string|null}>} path path whose last entry is an `Identifier`.
 * @returns {"binding"|"reference"|"property"|"label"} `binding` when it declares a name (variable, parameter,
 *   function or class name, catch parameter), `reference` when it reads or assigns a variable, `property` for a
 *   non-computed member or key name, `label` for a statement label.
 */
export function identifierRole(path) {
  const index = path.length - 1;
  const key = path[index].key;
  const parent = index > 0 ? path[index - 1].node : null;
  if (!parent) return "reference";

  if (parent.type === "MemberExpression" && key === "property" && !parent.computed) return "property";
  if (parent.type === "MetaProperty") return "property";
  const isKeyOwner = parent.type === "Property" || parent.type === "MethodDefinition" || parent.type === "PropertyDefinition";
  if (isKeyOwner && key === "key" && !parent.computed) return "property";
  if (key === "label") return "label";

  // Climb through destructuring patterns to the construct that owns the outermost pattern.
  let position = index;
  while (position > 0) {
    const owner = path[position - 1].node;
    const ownerKey = path[position].key;
    const insidePattern = PATTERN_CONTAINER_TYPES.has(owner.type) && !(owner.type === "AssignmentPattern" && ownerKey === "right");
    const insidePatternProperty = owner.type === "Property" && ownerKey === "value" && position >= 2 && path[position - 2].node.type === "ObjectPattern";
    if (!insidePattern && !insidePatternProperty) break;
    position -= 1;
  }
  if (position === 0) return "reference";

  const owner = path[position - 1].node;
  const ownerKey = path[position].key;
  if (owner.type === "VariableDeclarator" && ownerKey === "id") return "binding";
  if (isFunctionNode(owner) && (ownerKey === "params" || ownerKey === "id")) return "binding";
  if ((owner.type === "ClassDeclaration" || owner.type === "ClassExpression") && ownerKey === "id") return "binding";
  if (owner.type === "CatchClause" && ownerKey === "param") return "binding";
  return "reference";
}

/**
 * Returns whether the function at `path[index]` runs before the expression that creates it finishes: an immediately
 * invoked function, a callback of an array method that calls it at once (`forEach`, `map`, ...) or the executor of
 * `new Promise(...)`.
 *
 * @param {Array<{node: object, key: string|null}>} path path from some root.
 * @param {number} index position of a function node in `path`.
 * @returns {boolean} true when the function body runs at once.
 */
export function runsImmediately(path, index) {
  if (index === 0) return false;

  let parentIndex = index - 1;
  let childKey = path[index].key;
  const parent = path[parentIndex].node;

  // `(function () {...}).call(this)` and `.apply(...)` are immediate calls too.
  if (parent.type === "MemberExpression" && childKey === "object" && !parent.computed &&
      (parent.property.name === "call" || parent.property.name === "apply") && parentIndex > 0) {
    const grandParent = path[parentIndex - 1].node;
    return grandParent.type === "CallExpression" && path[parentIndex].key === "callee";
  }

  if (parent.type === "CallExpression" && childKey === "callee") return true;
  if (parent.type === "NewExpression" && childKey === "arguments") {
    return parent.callee.type === "Identifier" && parent.callee.name === "Promise";
  }
  if (parent.type === "CallExpression" && childKey === "arguments") {
    const callee = parent.callee;
    return callee.type === "MemberExpression" && !callee.computed && callee.property.type === "Identifier" &&
      SYNCHRONOUS_CALLBACK_METHODS.has(callee.property.name);
  }
  return false;
}

/**
 * Turns a name or a chain of non-computed member accesses into a dotted key, e.g. `Array.from` or `s.trimStart`.
 *
 * @param {object} node an acorn expression node.
 * @returns {string|null} the dotted key, or null for any other expression.
 */
export function dottedName(node) {
  if (node.type === "Identifier") return node.name;
  if (node.type === "ThisExpression") return "this";
  if (node.type !== "MemberExpression" || node.optional) return null;

  const objectName = dottedName(node.object);
  if (objectName === null) return null;

  const propertyName = staticPropertyName(node);
  return propertyName === null ? null : objectName + "." + propertyName;
}

/**
 * Returns the property name of a member expression when it is fixed in the source (`a.b` or `a["b"]`).
 *
 * @param {object} node a `MemberExpression`.
 * @returns {string|null} the property name, or null when it is computed from an expression.
 */
export function staticPropertyName(node) {
  if (!node.computed && node.property.type === "Identifier") return node.property.name;
  if (node.computed && node.property.type === "Literal" && typeof node.property.value === "string") return node.property.value;
  return null;
}
