// Rules for syntax that the Espruino 2v29 parser rejects, or accepts and then runs wrongly.

import { isFunctionNode, runsImmediately, walkTree } from "./walk.mjs";

const LOGICAL_ASSIGNMENT_OPERATORS = new Set(["&&=", "||=", "??="]);

function reportFunctionKinds(node, context) {
  if (node.async) {
    context.report("async-function", node, "async function: Espruino has no async/await; return a Promise and chain then/catch");
  }
  if (node.generator) {
    context.report("generator", node, "generator function (function*): Espruino has no generators; use a callback or an explicit state object");
  }
}

function reportParameters(node, context) {
  for (const parameter of node.params) {
    if (parameter.type === "AssignmentPattern") {
      const name = parameter.left.type === "Identifier" ? parameter.left.name : "x";
      context.report("default-parameter", parameter, `default parameter value: Espruino has no default parameters; write if (${name} === undefined) ${name} = ... in the body`);
    } else if (parameter.type === "RestElement") {
      context.report("rest-parameter", parameter, "rest parameter: Espruino has no rest parameters; read the arguments object or pass an array");
    }
  }
}

function isNestedPattern(path) {
  for (let index = path.length - 2; index >= 0; index -= 1) {
    const ancestor = path[index].node;
    if (ancestor.type === "ObjectPattern" || ancestor.type === "ArrayPattern") return true;
    const continuesPattern = ancestor.type === "Property" || ancestor.type === "RestElement" || ancestor.type === "AssignmentPattern";
    if (!continuesPattern) return false;
  }
  return false;
}

function describeSpread(parent) {
  if (parent.type === "CallExpression" && parent.callee.type === "Super") {
    return "spread in super(...) call: esbuild emits super(...arguments) for a derived class with field initializers and no constructor; write the constructor with its parameters";
  }
  if (parent.type === "CallExpression" || parent.type === "NewExpression") return "spread in call arguments: Espruino has no spread; use fn.apply(thisValue, array)";
  if (parent.type === "ArrayExpression") return "spread in array literal: Espruino has no spread; use concat or a loop";
  return "spread in object literal: Espruino has no object spread; use Object.assign";
}

function reportOptionalChain(node, context) {
  const before = node.type === "MemberExpression" ? node.object : node.callee;
  const operatorOffset = context.source.indexOf("?.", before.end);
  const position = operatorOffset >= 0 ? operatorOffset : node.start;
  context.report("optional-chaining", { start: position }, "optional chaining ?.: Espruino has no ?. operator; test with x == null ? undefined : x.y");
}

function reportLoopClosures(loop, context) {
  const declaration = loop.init;
  if (!declaration || declaration.type !== "VariableDeclaration" || declaration.kind === "var") return;

  const loopNames = new Set();
  for (const declarator of declaration.declarations) {
    if (declarator.id.type === "Identifier") loopNames.add(declarator.id.name);
  }
  const reported = new Set();

  for (const part of [loop.test, loop.update, loop.body]) {
    if (!part) continue;

    walkTree(part, (node, path) => {
      if (node.type !== "Identifier" || !loopNames.has(node.name) || reported.has(node.name)) return;
      if (context.scopes.resolve(node.name, path) !== null) return;

      // The reference must sit inside a function that can outlive the iteration.
      const escapes = path.some((entry, index) => isFunctionNode(entry.node) && !runsImmediately(path, index));
      if (!escapes) return;

      reported.add(node.name);
      context.report("loop-closure", node, `closure captures "${node.name}" of for (${declaration.kind} ${node.name} ...): Espruino shares one binding across iterations, so the closure sees the last value; copy it into a const inside the loop body`);
    });
  }
}

/**
 * Reports syntax that Espruino 2v29 cannot run, for one node of the tree.
 *
 * Rules: destructuring, default-parameter, rest-parameter, spread, async-function, await, generator, yield,
 * optional-chaining, exponent, logical-assignment, computed-key, tagged-template, private-member, static-block,
 * label, for-await, with-statement, bigint-literal, dynamic-import, class-field, loop-closure.
 *
 * @param {object} node the node being visited.
 * @param {Array<{node: object, key: string|null}>} path path from the root to `node`.
 * @param {{source: string, scopes: object, report: Function}} context the shared check state; `report(rule,
 *   nodeOrPosition, message)` records a violation at a node or at `{start}` (a character offset).
 * @returns {void}
 */
export function checkSyntaxNode(node, path, context) {
  const parent = path.length > 1 ? path[path.length - 2].node : null;

  switch (node.type) {
    case "ObjectPattern":
    case "ArrayPattern":
      if (!isNestedPattern(path)) {
        context.report("destructuring", node, `${node.type === "ObjectPattern" ? "object" : "array"} destructuring: Espruino has no destructuring; read each property into its own variable`);
      }
      break;
    case "FunctionDeclaration":
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      reportFunctionKinds(node, context);
      reportParameters(node, context);
      break;
    case "SpreadElement":
      context.report("spread", node, describeSpread(parent));
      break;
    case "AwaitExpression":
      context.report("await", node, "await: Espruino has no async/await; chain then/catch on the Promise");
      break;
    case "YieldExpression":
      context.report("yield", node, "yield: Espruino has no generators");
      break;
    case "MemberExpression":
    case "CallExpression":
      if (node.optional) reportOptionalChain(node, context);
      if (node.type === "MemberExpression" && node.property.type === "PrivateIdentifier") {
        context.report("private-member", node.property, `private member #${node.property.name}: Espruino has no #private members (esbuild lowers them to WeakMap, which Espruino lacks); use a TypeScript private field`);
      }
      break;
    case "BinaryExpression":
      if (node.operator === "**") context.report("exponent", node, "** operator: Espruino has no exponent operator; use Math.pow");
      if (node.left.type === "PrivateIdentifier") context.report("private-member", node.left, `#${node.left.name} in ...: Espruino has no #private members`);
      break;
    case "AssignmentExpression":
      if (node.operator === "**=") context.report("exponent", node, "**= operator: Espruino has no exponent operator; use x = Math.pow(x, y)");
      if (LOGICAL_ASSIGNMENT_OPERATORS.has(node.operator)) {
        context.report("logical-assignment", node, `${node.operator} operator: Espruino has no logical assignment; write it as an if statement or x = x ${node.operator.slice(0, 2)} y`);
      }
      break;
    case "Property":
      if (node.computed && parent && parent.type === "ObjectExpression") {
        context.report("computed-key", node, "computed key in object literal: Espruino has no computed keys; create the object, then assign obj[key] = value");
      }
      break;
    case "MethodDefinition":
    case "PropertyDefinition":
      if (node.computed) context.report("computed-key", node, "computed key in class body: Espruino has no computed class members; use a plain name");
      if (node.key.type === "PrivateIdentifier") {
        context.report("private-member", node, `private member #${node.key.name}: Espruino has no #private members; use a TypeScript private field`);
      }
      if (node.type === "PropertyDefinition" && !node.static && node.value) {
        context.report("class-field", node, "class field with an initializer: Espruino stores it on the prototype, so all instances share one value evaluated once; assign it in the constructor (useDefineForClassFields: false)");
      }
      break;
    case "TaggedTemplateExpression":
      context.report("tagged-template", node, "tagged template: Espruino throws a SyntaxError on tagged templates; call the function with a plain string");
      break;
    case "StaticBlock":
      context.report("static-block", node, "class static block: Espruino has no static blocks; run the code after the class declaration");
      break;
    case "LabeledStatement":
      context.report("label", node, `label "${node.label.name}": Espruino has no labels; use a flag variable or a function with return`);
      break;
    case "ForOfStatement":
      if (node.await) context.report("for-await", node, "for await: Espruino has no async iteration");
      break;
    case "ForStatement":
      reportLoopClosures(node, context);
      break;
    case "WithStatement":
      context.report("with-statement", node, "with statement: Espruino has no with; name the object explicitly");
      break;
    case "Literal":
      if (typeof node.bigint === "string") context.report("bigint-literal", node, "BigInt literal: Espruino has no BigInt; use numbers or byte arrays");
      break;
    case "ImportExpression":
      context.report("dynamic-import", node, "import(): Espruino has no dynamic import; use require");
      break;
    default:
      break;
  }
}
