// Rules on the characters of the file. Espruino strings are 8-bit byte strings: the upload tool sends code points
// below 256 as single Latin-1 bytes and others as UTF-8, and the lexer truncates `\uXXXX` escapes to their low byte.

function hexCodePoint(codePoint) {
  return "U+" + codePoint.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Reports characters outside ASCII (rule `non-ascii`), once per line with the count on that line.
 *
 * @param {string} source the file text.
 * @param {{report: Function}} context the shared check state.
 * @returns {void}
 */
export function checkNonAsciiText(source, context) {
  let lineStart = 0;
  while (lineStart <= source.length) {
    let lineEnd = source.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = source.length;

    let firstOffset = -1;
    let count = 0;
    for (let offset = lineStart; offset < lineEnd; offset += 1) {
      if (source.charCodeAt(offset) > 0x7f) {
        if (firstOffset < 0) firstOffset = offset;
        count += 1;
      }
    }
    if (firstOffset >= 0) {
      const codePoint = source.codePointAt(firstOffset);
      const more = count > 1 ? ` (${count} non-ASCII characters on this line)` : "";
      context.report("non-ascii", { start: firstOffset }, `non-ASCII character ${hexCodePoint(codePoint)}${more}: Espruino stores strings as bytes and the uploader encodes these inconsistently; use ASCII with \\xHH escapes for bytes`);
    }
    lineStart = lineEnd + 1;
  }
}

/**
 * Reports string literals and template parts whose escapes produce a character above U+00FF (rule
 * `wide-char-escape`), e.g. `"\u20AC"`, which Espruino truncates to one byte without an error. Raw non-ASCII
 * characters are left to `non-ascii`.
 *
 * @param {object} node the node being visited.
 * @param {Array<object>} path path from the root to `node` (unused).
 * @param {{source: string, report: Function}} context the shared check state.
 * @returns {void}
 */
export function checkWideEscapeNode(node, path, context) {
  let value = null;
  if (node.type === "Literal" && typeof node.value === "string") value = node.value;
  if (node.type === "TemplateElement" && typeof node.value.cooked === "string") value = node.value.cooked;
  if (value === null) return;

  const raw = context.source.slice(node.start, node.end);
  if (/[^\x00-\x7f]/.test(raw)) return;

  for (let index = 0; index < value.length; index += 1) {
    const codePoint = value.codePointAt(index);
    if (codePoint > 0xff) {
      context.report("wide-char-escape", node, `string escape for ${hexCodePoint(codePoint)}: Espruino strings hold bytes and keep only the low byte (0x${(codePoint & 0xff).toString(16).toUpperCase().padStart(2, "0")}); encode the text as UTF-8 bytes with \\xHH escapes`);
      return;
    }
  }
}
