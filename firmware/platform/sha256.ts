// SHA-256 on the board's native `require("crypto").SHA256`, adapted to binary strings for the core.

const crypto = require("crypto");

/**
 * Hashes a binary string with the interpreter's native SHA-256.
 *
 * @param data Bytes as a binary string.
 * @returns The 32-byte digest as a binary string.
 */
export function sha256(data: string): string {
  return E.toString(crypto.SHA256(data));
}
