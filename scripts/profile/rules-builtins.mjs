// Rules for names: globals, static members and instance methods that Espruino 2v29 lacks, words its lexer
// reserves, and class shapes it cannot run (extending a built-in or an expression, named class expressions).

import { isGuarded } from "./guards.mjs";
import {
  BUILT_IN_CLASSES,
  ESPRUINO_RESERVED_BINDINGS,
  ESPRUINO_RESERVED_WORDS,
  MISSING_GLOBALS,
  MISSING_METHODS,
  MISSING_STATIC_MEMBERS,
  OBJECT_ITERATION_METHODS,
} from "./profile-data.mjs";
import { dottedName, identifierRole, staticPropertyName, walkTree } from "./walk.mjs";

function isTruthinessTest(path) {
  const last = path.length - 1;
  const parent = path[last - 1].node;
  const key = path[last].key;
  if ((parent.type === "ConditionalExpression" || parent.type === "IfStatement") && key === "test") return true;
  if (parent.type === "LogicalExpression" && key === "left") return true;
  return parent.type === "UnaryExpression" && parent.operator === "!";
}

function checkIdentifier(node, path, context) {
  const role = identifierRole(path);

  if ((role === "binding" || role === "reference") && ESPRUINO_RESERVED_WORDS.has(node.name)) {
    context.report("reserved-word", node, `"${node.name}" used as a variable name: Espruino reserves it as a keyword; rename it (esbuild's minifier can pick "of" in large scopes)`);
  }
  if (role === "binding" && ESPRUINO_RESERVED_BINDINGS.has(node.name)) {
    context.report("reserved-word", node, `"${node.name}" declared as a variable: Espruino reserves it as a keyword; rename it`);
  }

  if (role !== "reference" || !MISSING_GLOBALS.has(node.name)) return;
  if (context.scopes.resolve(node.name, path) !== null || isGuarded(node.name, path)) return;

  context.report("missing-global", node, `${node.name} is not defined on Espruino; ${MISSING_GLOBALS.get(node.name)}, or guard the use with typeof ${node.name} !== "undefined"`);
}

function checkStaticMember(node, path, context) {
  if (node.object.type !== "Identifier") return;

  const propertyName = staticPropertyName(node);
  const memberName = node.object.name + "." + propertyName;
  if (propertyName === null || !MISSING_STATIC_MEMBERS.has(memberName)) return;

  const objectPath = path.concat([{ node: node.object, key: "object" }]);
  if (context.scopes.resolve(node.object.name, objectPath) !== null) return;
  if (isGuarded(memberName, path) || isTruthinessTest(path)) return;

  context.report("missing-static", node, `${memberName} is undefined on Espruino; ${MISSING_STATIC_MEMBERS.get(memberName)}`);
}

function checkMethodCall(node, path, context) {
  const callee = node.callee;
  if (callee.type !== "MemberExpression") return;

  const methodName = staticPropertyName(callee);
  if (methodName === null || !MISSING_METHODS.has(methodName)) return;

  const receiver = callee.object;
  const isObjectItself = receiver.type === "Identifier" && receiver.name === "Object" &&
    context.scopes.resolve("Object", path) === null;
  if (OBJECT_ITERATION_METHODS.has(methodName) && isObjectItself) return;

  const calleeName = dottedName(callee);
  if (calleeName !== null && isGuarded(calleeName, path)) return;

  context.report("missing-method", callee.property, `.${methodName}() is missing on Espruino built-ins; ${MISSING_METHODS.get(methodName)}`);
}

function checkClass(node, path, context) {
  const superClass = node.superClass;
  if (superClass) {
    if (superClass.type !== "Identifier") {
      context.report("extends-expression", superClass, "class extends an expression: Espruino only accepts a plain class name after extends; assign the class to a variable first");
    } else if (BUILT_IN_CLASSES.has(superClass.name) && context.scopes.resolve(superClass.name, path) === null) {
      context.report("extends-builtin", superClass, `class extends the built-in ${superClass.name}: Espruino throws when super() calls a built-in constructor; create a plain object, or set fields such as code on new Error(message)`);
    }
  }

  if (node.type === "ClassExpression" && node.id) {
    const innerName = node.id.name;
    let usedInside = false;
    walkTree(node.body, (inner, innerPath) => {
      if (inner.type === "Identifier" && inner.name === innerName && identifierRole(innerPath) === "reference") usedInside = true;
    });
    const consequence = usedInside
      ? `it is referenced inside the class body, which throws ReferenceError "${innerName}" is not defined`
      : "any reference to it inside the class body would throw ReferenceError";
    context.report("named-class-expression", node, `named class expression "${innerName}": Espruino does not bind the inner name, so ${consequence}; refer to the class through this (new this(), this.name) in static methods`);
  }
}

/**
 * Reports uses of names that Espruino 2v29 lacks or reserves, and class shapes it cannot run, for one node.
 *
 * Rules: missing-global, missing-static, missing-method, reserved-word, extends-builtin, extends-expression,
 * named-class-expression. A missing global or member is allowed as the operand of `typeof` and inside a branch
 * that a `typeof` test guards.
 *
 * @param {object} node the node being visited.
 * @param {Array<{node: object, key: string|null}>} path path from the root to `node`.
 * @param {{scopes: object, report: Function}} context the shared check state.
 * @returns {void}
 */
export function checkBuiltinsNode(node, path, context) {
  switch (node.type) {
    case "Identifier":
      checkIdentifier(node, path, context);
      break;
    case "MemberExpression":
      checkStaticMember(node, path, context);
      break;
    case "CallExpression":
      checkMethodCall(node, path, context);
      break;
    case "ClassDeclaration":
    case "ClassExpression":
      checkClass(node, path, context);
      break;
    default:
      break;
  }
}
