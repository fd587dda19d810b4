// `require("crypto")` of Espruino 2v29 on ESP32, limited to the hash functions the firmware may use.

import { createHash } from "node:crypto";
import { toBytes } from "./bytes.mjs";

/**
 * Creates the device's `crypto` module.
 *
 * Each function hashes its argument (a binary string with one byte per character, an array of byte values, a
 * typed array or an ArrayBuffer) and returns a context `ArrayBuffer`: 20 bytes for SHA1, 32 for SHA256 and 64 for
 * SHA512.
 *
 * NOTE: PBKDF2, AES, SHA224 and SHA384 exist on the device but are not simulated; calling them fails with
 * "is not a function".
 *
 * @param {import("./realm.mjs").Realm} realm the device context's value factory
 * @returns {object} the module object
 */
export function createCryptoModule(realm) {
  const hashWith = (algorithm, name) =>
    function (data) {
      let bytes;
      try {
        bytes = toBytes(data, `crypto.${name} data`);
      } catch (error) {
        throw realm.newError(error.message);
      }
      return realm.newArrayBuffer(createHash(algorithm).update(bytes).digest());
    };

  return realm.newObject({
    SHA1: hashWith("sha1", "SHA1"),
    SHA256: hashWith("sha256", "SHA256"),
    SHA512: hashWith("sha512", "SHA512"),
  });
}
