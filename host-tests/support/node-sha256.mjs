// SHA-256 over binary strings on Node, standing in for the board's native `crypto.SHA256` in core tests.

import { createHash } from "node:crypto";

/**
 * Hashes a binary string (one character per byte) and returns the digest as a binary string.
 *
 * @param {string} data
 * @returns {string}
 */
export function nodeSha256(data) {
  return createHash("sha256").update(Buffer.from(data, "latin1")).digest("latin1");
}

/** Converts hex to a binary string. */
export function hexToBinary(hex) {
  return Buffer.from(hex, "hex").toString("latin1");
}

/** Converts a binary string to hex. */
export function binaryToHex(binary) {
  return Buffer.from(binary, "latin1").toString("hex");
}
