// HMAC-SHA256 (RFC 2104) over an injected SHA-256 function.
//
// Bytes are binary strings (one character per byte, codes 0 to 255) rather than Uint8Array. On Espruino a string
// made by concatenation or returned by `E.toString` is stored flat, `crypto.SHA256` reads a string in place, and
// Base64 and `encodeURIComponent` take strings directly, so no conversion is needed anywhere between the key in the
// configuration and the signature in the token. A Uint8Array would need a copy into a string at every one of those
// steps, and typed arrays turn into "1,2,3" text if they ever reach `req.write`.

/** SHA-256 over a binary string, returning the 32-byte digest as a binary string. */
export type Sha256 = (data: string) => string;

/** Block size of SHA-256 in bytes, which fixes the HMAC pad length (RFC 2104, B). */
const SHA256_BLOCK_BYTES = 64;

const INNER_PAD = 0x36;
const OUTER_PAD = 0x5c;

/**
 * Computes HMAC-SHA256 of `message` under `key`.
 *
 * Keys longer than the 64-byte block are hashed first, as RFC 2104 requires. Empty keys and empty messages are
 * valid.
 *
 * @param sha256 SHA-256 over binary strings; on the board it wraps `require("crypto").SHA256`.
 * @param key Key bytes as a binary string.
 * @param message Message bytes as a binary string.
 * @returns The 32-byte MAC as a binary string.
 * @example
 *   hmacSha256(sha256, decodeBase64(deviceKey), "0ne000A1B2C%2Fregistrations%2Fsensor-01\n1767225600")
 */
export function hmacSha256(sha256: Sha256, key: string, message: string): string {
  let blockKey = key.length > SHA256_BLOCK_BYTES ? sha256(key) : key;

  let innerKey = "";
  let outerKey = "";
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
    const byte = i < blockKey.length ? blockKey.charCodeAt(i) & 255 : 0;
    innerKey += String.fromCharCode(byte ^ INNER_PAD);
    outerKey += String.fromCharCode(byte ^ OUTER_PAD);
  }
  blockKey = "";

  const innerHash = sha256(innerKey + message);
  return sha256(outerKey + innerHash);
}
