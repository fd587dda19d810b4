// Feature tests such as `typeof Symbol !== "undefined" ? ... : ...` that esbuild's helpers use. A reference to a
// missing name is allowed in a branch that only runs when a test has shown the name to exist.

import { dottedName } from "./walk.mjs";

const MIRRORED_OPERATORS = { "<": ">", ">": "<", "<=": ">=", ">=": "<=" };

function compare(operator, left, right) {
  switch (operator) {
    case "===": case "==": return left === right;
    case "!==": case "!=": return left !== right;
    case "<": return left < right;
    case ">": return left > right;
    case "<=": return left <= right;
    case ">=": return left >= right;
    default: return null;
  }
}

function typeofOperandName(node) {
  if (node.type !== "UnaryExpression" || node.operator !== "typeof") return null;
  return dottedName(node.argument);
}

function intersect(left, right) {
  return new Set([...left].filter((name) => right.has(name)));
}

/**
 * Derives which names a test expression proves to be defined.
 *
 * It understands `typeof X` compared with a string (including esbuild's minified `typeof X<"u"`), `!`, `&&`, `||`,
 * and, for member chains such as `Object.freeze`, a plain truthiness test.
 *
 * @param {object} test an acorn expression node used as a condition.
 * @returns {{whenTrue: Set<string>, whenFalse: Set<string>}} dotted names known to be defined when the test is
 *   true and when it is false.
 */
export function definedNames(test) {
  if (test.type === "UnaryExpression" && test.operator === "!") {
    const inner = definedNames(test.argument);
    return { whenTrue: inner.whenFalse, whenFalse: inner.whenTrue };
  }

  if (test.type === "LogicalExpression" && (test.operator === "&&" || test.operator === "||")) {
    const left = definedNames(test.left);
    const right = definedNames(test.right);
    const union = (a, b) => new Set([...a, ...b]);
    if (test.operator === "&&") return { whenTrue: union(left.whenTrue, right.whenTrue), whenFalse: intersect(left.whenFalse, right.whenFalse) };
    return { whenTrue: intersect(left.whenTrue, right.whenTrue), whenFalse: union(left.whenFalse, right.whenFalse) };
  }

  if (test.type === "BinaryExpression") {
    let operator = test.operator;
    let name = typeofOperandName(test.left);
    let literal = test.right;
    if (name === null) {
      name = typeofOperandName(test.right);
      literal = test.left;
      operator = MIRRORED_OPERATORS[operator] ?? operator;
    }
    if (name !== null && literal.type === "Literal" && typeof literal.value === "string") {
      // Ask what the comparison gives when the name is missing; the opposite outcome proves it is defined.
      const outcomeWhenMissing = compare(operator, "undefined", literal.value);
      if (outcomeWhenMissing === false) return { whenTrue: new Set([name]), whenFalse: new Set() };
      if (outcomeWhenMissing === true) return { whenTrue: new Set(), whenFalse: new Set([name]) };
    }
  }

  const memberName = test.type === "MemberExpression" ? dottedName(test) : null;
  if (memberName !== null) return { whenTrue: new Set([memberName]), whenFalse: new Set() };

  return { whenTrue: new Set(), whenFalse: new Set() };
}

/**
 * Returns whether the node at the end of `path` only runs when a feature test has shown `name` to be defined, or is
 * itself the operand of `typeof`.
 *
 * NOTE: only the branches of `?:`, `if` and the right side of `&&` / `||` count. An early exit such as
 * `if (typeof X === "undefined") return;` does not guard the statements after it.
 *
 * @param {string} name a global name or dotted member chain, e.g. `Proxy` or `Object.freeze`.
 * @param {Array<{node: object, key: string|null}>} path path from the root to the node that uses `name`.
 * @returns {boolean} true when the use is guarded.
 */
export function isGuarded(name, path) {
  const last = path.length - 1;
  if (last > 0) {
    const parent = path[last - 1].node;
    if (parent.type === "UnaryExpression" && parent.operator === "typeof") return true;
  }

  for (let index = last; index > 0; index -= 1) {
    const owner = path[index - 1].node;
    const key = path[index].key;

    if ((owner.type === "ConditionalExpression" || owner.type === "IfStatement") && key !== "test") {
      const facts = definedNames(owner.test);
      if (key === "consequent" && facts.whenTrue.has(name)) return true;
      if (key === "alternate" && facts.whenFalse.has(name)) return true;
    }

    if (owner.type === "LogicalExpression" && key === "right") {
      const facts = definedNames(owner.left);
      if (owner.operator === "&&" && facts.whenTrue.has(name)) return true;
      if (owner.operator === "||" && facts.whenFalse.has(name)) return true;
    }
  }
  return false;
}
