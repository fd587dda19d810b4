// Strict Base64 (RFC 4648 section 4) over binary strings.
//
// Espruino's `atob` silently drops characters that are not Base64 instead of failing, so a mistyped key would turn
// into different key bytes and a bare 401 from the service. Decoding here rejects such input with its position.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Encodes a binary string (one character per byte, codes 0 to 255) as padded Base64.
 *
 * @param bytes Binary string.
 * @returns Base64 text with `+`, `/` and `=` padding.
 */
export function encodeBase64(bytes: string): string {
  let output = "";

  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes.charCodeAt(i) & 255;
    const b1 = i + 1 < bytes.length ? bytes.charCodeAt(i + 1) & 255 : 0;
    const b2 = i + 2 < bytes.length ? bytes.charCodeAt(i + 2) & 255 : 0;

    output += ALPHABET.charAt(b0 >> 2);
    output += ALPHABET.charAt(((b0 & 3) << 4) | (b1 >> 4));
    output += i + 1 < bytes.length ? ALPHABET.charAt(((b1 & 15) << 2) | (b2 >> 6)) : "=";
    output += i + 2 < bytes.length ? ALPHABET.charAt(b2 & 63) : "=";
  }
  return output;
}

/**
 * Describes why `text` is not valid padded Base64, or returns `undefined` when it is.
 *
 * @param text Candidate Base64 text.
 * @returns A sentence naming the first problem, without echoing the text itself (it may be a key).
 */
export function findBase64Problem(text: string): string | undefined {
  if (text.length === 0) return "it is empty";
  if (text.length % 4 !== 0) {
    return "its length (" + text.length + " characters) is not a multiple of 4; check that it was copied whole";
  }

  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);

    if (c === "=") {
      padding++;
      continue;
    }
    if (padding > 0) return "it has '=' padding before position " + (i + 1) + "; padding may only end the text";
    if (ALPHABET.indexOf(c) < 0) {
      if (c === "-" || c === "_") return "it contains '" + c + "' at position " + (i + 1) + ": Base64url, not Base64";
      if (c === " ") return "it contains a space at position " + (i + 1) + "; a '+' may have been turned into a space";
      return "it contains a character that is not Base64 at position " + (i + 1);
    }
  }
  if (padding > 2) return "it ends with more than two '=' padding characters";
  return undefined;
}

/**
 * Decodes padded Base64 into a binary string.
 *
 * @param text Base64 text with `+`, `/` and `=` padding.
 * @returns Binary string, one character per byte.
 * @throws Error naming the problem when `text` is not valid Base64.
 */
export function decodeBase64(text: string): string {
  const problem = findBase64Problem(text);
  if (problem !== undefined) throw new Error("Invalid Base64: " + problem);

  let output = "";
  for (let i = 0; i < text.length; i += 4) {
    const c0 = ALPHABET.indexOf(text.charAt(i));
    const c1 = ALPHABET.indexOf(text.charAt(i + 1));
    const c2 = text.charAt(i + 2) === "=" ? -1 : ALPHABET.indexOf(text.charAt(i + 2));
    const c3 = text.charAt(i + 3) === "=" ? -1 : ALPHABET.indexOf(text.charAt(i + 3));

    output += String.fromCharCode((c0 << 2) | (c1 >> 4));
    if (c2 >= 0) output += String.fromCharCode(((c1 & 15) << 4) | (c2 >> 2));
    if (c3 >= 0) output += String.fromCharCode(((c2 & 3) << 6) | c3);
  }
  return output;
}
