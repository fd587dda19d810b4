// Runs every profile rule over one JavaScript file and returns the violations in source order.

import * as acorn from "acorn";

import { checkBuiltinsNode } from "./rules-builtins.mjs";
import { checkInheritedStatics } from "./rules-classes.mjs";
import { checkDeclarationOrder } from "./rules-order.mjs";
import { checkRegexNode } from "./rules-regex.mjs";
import { checkSyntaxNode } from "./rules-syntax.mjs";
import { checkNonAsciiText, checkWideEscapeNode } from "./rules-text.mjs";
import { analyzeScopes } from "./scope.mjs";
import { walkTree } from "./walk.mjs";

const SNIPPET_BEFORE_CHARS = 30;
const SNIPPET_AFTER_CHARS = 50;

const NODE_RULES = [checkSyntaxNode, checkRegexNode, checkBuiltinsNode, checkWideEscapeNode];

function lineStarts(source) {
  const starts = [0];
  for (let offset = 0; offset < source.length; offset += 1) {
    if (source.charCodeAt(offset) === 10) starts.push(offset + 1);
  }
  return starts;
}

function locate(starts, offset) {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - starts[low] + 1 };
}

function excerpt(source, starts, line, column) {
  const lineStart = starts[line - 1];
  const lineEnd = line < starts.length ? starts[line] - 1 : source.length;
  const offset = lineStart + column - 1;
  const from = Math.max(lineStart, offset - SNIPPET_BEFORE_CHARS);
  const to = Math.min(lineEnd, offset + SNIPPET_AFTER_CHARS);
  const text = source.slice(from, to).replace(/\r$/, "");
  return (from > lineStart ? "..." : "") + text + (to < lineEnd ? "..." : "");
}

/**
 * Checks a bundled JavaScript file against what Espruino 2v29 can parse and run.
 *
 * The file is parsed as a script with acorn (ecmaVersion "latest"). Each rule reports a construct that Espruino
 * rejects or runs wrongly. The syntax rules cover ES2015+ syntax it lacks, class field initializers and closures
 * over `for (let ...)` variables. The name rules cover missing globals, static members and instance methods,
 * reserved words used as names, and static members read through a subclass. The class rules cover extending a
 * built-in or an expression and named class expressions. The remaining rules cover unsupported regex features
 * and flags, top-level use of a function before its declaration, and non-ASCII text. Uses of a missing global guarded by a `typeof` test are
 * allowed, as in esbuild's helpers.
 *
 * @example
 *   const violations = checkProfile('var m = new Map();', { fileName: "dist/firmware.js" });
 *   // [{ rule: "missing-global", line: 1, column: 13, message: "Map is not defined on Espruino; ...", ... }]
 *
 * @param {string} sourceText the JavaScript text, e.g. the contents of `dist/firmware.js`.
 * @param {{fileName?: string}} [options] `fileName` names the file in the `syntax` message.
 * @returns {Array<{rule: string, message: string, line: number, column: number, snippet: string}>} the
 *   violations sorted by position, empty when the file is clean. `line` and `column` are 1-based (the column
 *   counts UTF-16 code units); `snippet` is up to 80 characters of the line around the position. A syntax error
 *   is returned as one violation with rule `syntax`.
 * @throws {TypeError} when `sourceText` is not a string or `options.fileName` is given and is not a string.
 */
export function checkProfile(sourceText, options) {
  if (typeof sourceText !== "string") {
    throw new TypeError(`checkProfile: sourceText must be a string with the JavaScript text, got ${typeof sourceText}`);
  }
  const fileName = options && options.fileName !== undefined ? options.fileName : "<input>";
  if (typeof fileName !== "string") {
    throw new TypeError(`checkProfile: options.fileName must be a string, got ${typeof fileName}`);
  }

  const starts = lineStarts(sourceText);
  const violations = [];
  const seen = new Set();

  function report(rule, nodeOrPosition, message) {
    const { line, column } = locate(starts, nodeOrPosition.start);
    const key = `${rule}:${line}:${column}`;
    if (seen.has(key)) return;

    seen.add(key);
    violations.push({ rule, message, line, column, snippet: excerpt(sourceText, starts, line, column) });
  }

  checkNonAsciiText(sourceText, { report });

  let ast;
  try {
    ast = acorn.parse(sourceText, { ecmaVersion: "latest", sourceType: "script", locations: true, allowHashBang: false });
  } catch (error) {
    if (!(error instanceof SyntaxError) || typeof error.pos !== "number") throw error;
    const reason = error.message.replace(/ \(\d+:\d+\)$/, "");
    report("syntax", { start: error.pos }, `${fileName} does not parse as a JavaScript script: ${reason}`);
    return sortByPosition(violations);
  }

  const context = { source: sourceText, scopes: analyzeScopes(ast), report };
  walkTree(ast, (node, path) => {
    for (const rule of NODE_RULES) rule(node, path, context);
  });
  checkDeclarationOrder(ast, context);
  checkInheritedStatics(ast, context);

  return sortByPosition(violations);
}

function sortByPosition(violations) {
  return violations.sort((left, right) => left.line - right.line || left.column - right.column || left.rule.localeCompare(right.rule));
}

/**
 * Formats one violation as a compiler-style line plus an indented excerpt.
 *
 * @param {string} fileName the path to print, e.g. `dist/firmware.js`.
 * @param {{rule: string, message: string, line: number, column: number, snippet: string}} violation one entry
 *   returned by `checkProfile`.
 * @returns {string} two lines: `FILE:LINE:COLUMN rule: message` and the excerpt.
 */
export function formatViolation(fileName, violation) {
  return `${fileName}:${violation.line}:${violation.column} ${violation.rule}: ${violation.message}\n    ${violation.snippet}`;
}
