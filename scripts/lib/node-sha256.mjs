// SHA-256 over binary strings on Node, in the shape `firmware/core/hmac.ts` expects (`Sha256`).
//
// The firmware signer takes the hash as a function so that the board can pass `require("crypto").SHA256`. Host
// tools pass this one, which hashes the same bytes with Node's `crypto`.

import { createHash } from "node:crypto";

/**
 * Hashes a binary string (one character per byte, codes 0 to 255) with SHA-256.
 *
 * @param {string} data Binary string; characters above 255 are not expected and would be truncated to their low byte.
 * @returns {string} The 32-byte digest as a binary string.
 */
export function sha256BinaryString(data) {
  return createHash("sha256").update(Buffer.from(data, "latin1")).digest("latin1");
}
