// Rule for static members reached through a subclass. Espruino 2v29 does not inherit statics: with
// `class B extends A {}`, `B.s` is undefined even when `A.s` exists.

import { topLevelBodies } from "./rules-order.mjs";
import { staticPropertyName, walkTree } from "./walk.mjs";

// Names every function object has, which are never reported.
const FUNCTION_OWN_NAMES = new Set(["prototype", "name", "length", "call", "apply", "bind", "toString"]);

function collectClasses(body) {
  const classes = new Map();

  function addClass(name, classNode) {
    const statics = new Set();
    for (const member of classNode.body.body) {
      const isStaticMember = (member.type === "MethodDefinition" || member.type === "PropertyDefinition") && member.static;
      if (isStaticMember && !member.computed && member.key.type === "Identifier") statics.add(member.key.name);
    }
    const superName = classNode.superClass && classNode.superClass.type === "Identifier" ? classNode.superClass.name : null;
    classes.set(name, { superName, statics });
  }

  for (const statement of body.statements) {
    if (statement.type === "ClassDeclaration" && statement.id) addClass(statement.id.name, statement);
    if (statement.type !== "VariableDeclaration") continue;

    for (const declarator of statement.declarations) {
      if (declarator.id.type !== "Identifier" || !declarator.init) continue;
      if (declarator.init.type === "ClassExpression") addClass(declarator.id.name, declarator.init);
      // esbuild aliases a class that names itself: `var c = class c {...}; var Counter = c;`.
      if (declarator.init.type === "Identifier" && classes.has(declarator.init.name)) {
        classes.set(declarator.id.name, classes.get(declarator.init.name));
      }
    }
  }
  return classes;
}

function collectAssignedStatics(body, classes) {
  // Statics added after the class: `A.s = ...` and esbuild's field helper `__publicField(A, "s", value)`.
  for (const statement of body.statements) {
    walkTree(statement, (node) => {
      if (node.type === "AssignmentExpression" && node.left.type === "MemberExpression" && node.left.object.type === "Identifier") {
        const info = classes.get(node.left.object.name);
        const name = staticPropertyName(node.left);
        if (info && name !== null) info.statics.add(name);
      }
      if (node.type === "CallExpression" && node.arguments.length >= 2 && node.arguments[0].type === "Identifier") {
        const info = classes.get(node.arguments[0].name);
        const key = node.arguments[1];
        if (info && key.type === "Literal" && typeof key.value === "string") info.statics.add(key.value);
      }
    });
  }
}

function inheritedFrom(classes, info, name) {
  const visited = new Set();
  let current = info.superName;
  while (current !== null && classes.has(current) && !visited.has(current)) {
    visited.add(current);
    const parent = classes.get(current);
    if (parent.statics.has(name)) return current;
    current = parent.superName;
  }
  return null;
}

/**
 * Reports reads of a static member through a subclass that only its superclass defines (rule
 * `inherited-static`), for classes declared at the top level of the script or of esbuild's IIFE.
 *
 * NOTE: statics added by a helper call are recognised by the shape `helper(Class, "name", ...)`. Any call of that
 * shape counts, so passing a class and a string to an unrelated function can hide a report.
 *
 * @param {object} ast the `Program` node.
 * @param {{scopes: object, report: Function}} context the shared check state.
 * @returns {void}
 */
export function checkInheritedStatics(ast, context) {
  for (const body of topLevelBodies(ast)) {
    const classes = collectClasses(body);
    if (classes.size === 0) continue;
    collectAssignedStatics(body, classes);

    for (const statement of body.statements) {
      walkTree(statement, (node, path) => {
        if (node.type !== "MemberExpression" || node.object.type !== "Identifier") return;

        const className = node.object.name;
        const info = classes.get(className);
        const name = staticPropertyName(node);
        if (!info || name === null || FUNCTION_OWN_NAMES.has(name) || info.statics.has(name)) return;
        // The name must mean the top-level class here, not a local that shadows it.
        if (context.scopes.resolve(className, path.concat([{ node: node.object, key: "object" }])) !== null) return;

        const owner = inheritedFrom(classes, info, name);
        if (owner !== null) {
          context.report("inherited-static", node, `${className}.${name} reads a static member defined on the superclass ${owner}: Espruino does not inherit static members, so it is undefined; use ${owner}.${name} or define it on ${className}`);
        }
      });
    }
  }
}
