// Rule for declaration order. Espruino 2v29 does not hoist function declarations at the top level of a script:
// a `function f() {}` statement defines `f` only when execution reaches it. The body of the outermost
// immediately invoked function (esbuild's IIFE wrapper) behaves the same way, so both are checked.

import { identifierRole, isFunctionNode, runsImmediately, walkTree } from "./walk.mjs";

function immediateFunctionBody(expression) {
  let call = expression;
  if (call.type === "UnaryExpression") call = call.argument;
  if (call.type !== "CallExpression") return null;

  let callee = call.callee;
  const isCallOrApply = callee.type === "MemberExpression" && !callee.computed &&
    (callee.property.name === "call" || callee.property.name === "apply");
  if (isCallOrApply) callee = callee.object;

  const isFunction = callee.type === "FunctionExpression" || callee.type === "ArrowFunctionExpression";
  if (!isFunction || callee.body.type !== "BlockStatement") return null;
  return callee;
}

/**
 * Lists the statement lists that Espruino runs in order as a script: the program body and the body of each
 * top-level immediately invoked function.
 *
 * @param {object} ast the `Program` node.
 * @returns {Array<{owner: object, statements: object[]}>} each body with the node that declares its scope.
 */
export function topLevelBodies(ast) {
  const bodies = [{ owner: ast, statements: ast.body }];
  for (const statement of ast.body) {
    if (statement.type !== "ExpressionStatement") continue;

    const wrapper = immediateFunctionBody(statement.expression);
    if (wrapper) bodies.push({ owner: wrapper, statements: wrapper.body.body });
  }
  return bodies;
}

// Collects the names referenced by code that runs when `root` runs: nested function bodies are skipped unless
// they run at once (immediately invoked, array callbacks, Promise executors).
function immediateReferences(root, scopes, ownScope) {
  const references = [];
  walkTree(root, (node, path) => {
    const index = path.length - 1;
    if (index > 0 && isFunctionNode(node) && !runsImmediately(path, index)) return false;
    if (node.type === "MethodDefinition") return false;
    if (node.type === "PropertyDefinition" && !node.static) return false;

    if (node.type !== "Identifier" || identifierRole(path) !== "reference") return true;

    const parent = index > 0 ? path[index - 1].node : null;
    if (parent && parent.type === "UnaryExpression" && parent.operator === "typeof") return true;
    if (scopes.resolve(node.name, path) !== null) return true;
    if (ownScope && scopes.declares(ownScope, node.name)) return true;

    const isCall = parent !== null && (parent.type === "CallExpression" || parent.type === "NewExpression") && path[index].key === "callee";
    references.push({ node, name: node.name, isCall });
    return true;
  });
  return references;
}

function checkBody(body, scopes, context) {
  const declarationIndex = new Map();
  body.statements.forEach((statement, index) => {
    if (statement.type === "FunctionDeclaration" && statement.id && !declarationIndex.has(statement.id.name)) {
      declarationIndex.set(statement.id.name, index);
    }
  });
  if (declarationIndex.size === 0) return;

  // What each top-level function reaches when it is called.
  const calleesByFunction = new Map();
  for (const [name, index] of declarationIndex) {
    const declaration = body.statements[index];
    const names = immediateReferences(declaration.body, scopes, declaration)
      .map((reference) => reference.name)
      .filter((referenced) => declarationIndex.has(referenced));
    calleesByFunction.set(name, new Set(names));
  }

  function firstLaterFunction(startName, statementIndex) {
    const seen = new Set([startName]);
    const queue = [startName];
    while (queue.length > 0) {
      const current = queue.shift();
      for (const callee of calleesByFunction.get(current)) {
        if (seen.has(callee)) continue;
        if (declarationIndex.get(callee) > statementIndex) return { via: current, name: callee };
        seen.add(callee);
        queue.push(callee);
      }
    }
    return null;
  }

  body.statements.forEach((statement, statementIndex) => {
    if (statement.type === "FunctionDeclaration") return;

    for (const reference of immediateReferences(statement, scopes, null)) {
      if (!declarationIndex.has(reference.name)) continue;

      const declaredAt = body.statements[declarationIndex.get(reference.name)];
      const usage = reference.isCall ? "called" : "referenced";
      if (declarationIndex.get(reference.name) > statementIndex) {
        context.report("hoisting", reference.node, `function ${reference.name} is ${usage} before its declaration at line ${declaredAt.loc.start.line}: Espruino does not hoist top-level function declarations; move the declaration above this statement`);
        continue;
      }

      const later = reference.isCall ? firstLaterFunction(reference.name, statementIndex) : null;
      if (later) {
        const laterLine = body.statements[declarationIndex.get(later.name)].loc.start.line;
        context.report("hoisting", reference.node, `call of ${reference.name} runs ${later.via === reference.name ? "" : later.via + ", which calls "}${later.name} before its declaration at line ${laterLine}: Espruino does not hoist top-level function declarations; move ${later.name} above this statement`);
      }
    }
  });
}

/**
 * Reports top-level code that uses a function before its declaration has run (rule `hoisting`), directly or
 * through a function it calls.
 *
 * NOTE: callbacks are assumed to run later unless they are immediately invoked, passed to a synchronous array
 * method (forEach, map, ...) or a Promise executor. A callback that another API runs at once is not followed.
 *
 * @param {object} ast the `Program` node.
 * @param {{scopes: object, report: Function}} context the shared check state.
 * @returns {void}
 */
export function checkDeclarationOrder(ast, context) {
  for (const body of topLevelBodies(ast)) checkBody(body, context.scopes, context);
}
