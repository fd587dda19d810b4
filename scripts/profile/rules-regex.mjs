// Rules for regular expressions. Espruino 2v29 has a small backtracking matcher: `.`, classes, `\d\s\w` and their
// negations, `^`, `$`, capturing groups, `|`, greedy `*` and `+`, flags `g` and `i`. Anything else is matched
// literally, ignored or throws, mostly without an error at parse time.

import { SUPPORTED_REGEX_FLAGS } from "./profile-data.mjs";

const COUNTED_QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

/**
 * Scans a regex pattern for constructs that Espruino 2v29 does not support.
 *
 * @param {string} pattern the pattern source as written between the slashes (or the string given to `RegExp`).
 * @param {string} flags the flags, e.g. `"gi"`.
 * @returns {Array<{rule: string, offset: number|null, message: string}>} one finding per rule (the first
 *   occurrence), with `offset` the index in `pattern`, or null for a flag.
 */
export function findRegexProblems(pattern, flags) {
  const findings = new Map();
  const add = (rule, offset, message) => {
    if (!findings.has(rule)) findings.set(rule, { rule, offset, message });
  };

  let index = 0;
  let inClass = false;
  while (index < pattern.length) {
    const character = pattern[index];

    if (character === "\\") {
      const escaped = pattern[index + 1];
      if (!inClass && (escaped === "b" || escaped === "B")) {
        add("regex-word-boundary", index, `\\${escaped} in a regex: Espruino reads \\b as a backspace character, not a word boundary; test the neighbouring characters explicitly`);
      } else if (!inClass && escaped >= "1" && escaped <= "9") {
        add("regex-backreference", index, `backreference \\${escaped} in a regex: Espruino throws on backreferences; compare the captured groups in code`);
      } else if (!inClass && escaped === "k" && pattern[index + 2] === "<") {
        add("regex-named-group", index, "named backreference \\k<...> in a regex: Espruino has no named groups");
      }
      index += 2;
      continue;
    }

    if (inClass) {
      if (character === "]") inClass = false;
      index += 1;
      continue;
    }

    if (character === "[") {
      inClass = true;
      index += 1;
      continue;
    }

    if (character === "(" && pattern[index + 1] === "?") {
      const kind = pattern[index + 2];
      const lookbehind = kind === "<" && (pattern[index + 3] === "=" || pattern[index + 3] === "!");
      if (kind === ":") {
        add("regex-group-syntax", index, "non-capturing group (?: in a regex: Espruino reads the ? literally; use a plain capturing group");
      } else if (kind === "=" || kind === "!" || lookbehind) {
        add("regex-group-syntax", index, `lookaround ${pattern.slice(index, index + (lookbehind ? 4 : 3))} in a regex: Espruino has no lookahead or lookbehind; check the neighbouring text in code`);
      } else if (kind === "<") {
        add("regex-named-group", index, "named group (?<name>...) in a regex: Espruino has no named groups; use a numbered group");
      }
      index += 2;
      continue;
    }

    if (character === "?") {
      const previous = pattern[index - 1];
      const lazy = previous === "*" || previous === "+" || previous === "?" || previous === "}";
      add("regex-optional", index, lazy
        ? `lazy quantifier ${previous}? in a regex: Espruino has no lazy quantifiers and reads the ? literally; split the string with indexOf`
        : "? quantifier in a regex: Espruino reads it as a literal ?, so the regex silently fails to match; use (x|) or test in code");
      index += 1;
      continue;
    }

    if (character === "{") {
      const counted = COUNTED_QUANTIFIER.exec(pattern.slice(index));
      if (counted) {
        add("regex-counted-quantifier", index, `quantifier ${counted[0]} in a regex: Espruino does not support {n} or {n,m}, so the regex silently fails to match; repeat the atom or check the length in code`);
        index += counted[0].length;
        continue;
      }
    }

    index += 1;
  }

  for (const flag of flags) {
    if (!SUPPORTED_REGEX_FLAGS.has(flag)) {
      add("regex-flag", null, `regex flag "${flag}": Espruino only honours the g and i flags and ignores "${flag}" without an error`);
    }
  }

  return [...findings.values()];
}

function stringValue(node) {
  if (!node) return null;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return null;
}

/**
 * Reports unsupported regex constructs in regex literals and in `RegExp("...")` / `new RegExp("...")` calls whose
 * pattern is a string literal.
 *
 * @param {object} node the node being visited.
 * @param {Array<{node: object, key: string|null}>} path path from the root to `node`.
 * @param {{scopes: object, report: Function}} context the shared check state.
 * @returns {void}
 */
export function checkRegexNode(node, path, context) {
  if (node.type === "Literal" && node.regex) {
    const { pattern, flags } = node.regex;
    for (const finding of findRegexProblems(pattern, flags)) {
      // The pattern of a literal appears verbatim after the opening slash, so offsets map onto the source.
      const position = finding.offset === null ? node.start : node.start + 1 + finding.offset;
      context.report(finding.rule, { start: position }, `${finding.message} (in /${pattern}/${flags})`);
    }
    return;
  }

  const isRegExpCall = (node.type === "NewExpression" || node.type === "CallExpression") &&
    node.callee.type === "Identifier" && node.callee.name === "RegExp" && context.scopes.resolve("RegExp", path) === null;
  if (!isRegExpCall) return;

  const pattern = stringValue(node.arguments[0]);
  if (pattern === null) return;

  const flags = stringValue(node.arguments[1]) ?? "";
  for (const finding of findRegexProblems(pattern, flags)) {
    context.report(finding.rule, node.arguments[0], `${finding.message} (in RegExp(${JSON.stringify(pattern)}))`);
  }
}
