// `require("Storage")` of Espruino 2v29, backed by a host folder with one file per Storage file.

import fs from "node:fs";
import path from "node:path";
import { binaryStringToBytes, bytesToBinaryString, toBytes } from "./bytes.mjs";
import { parseEspruinoJson, toEspruinoJson } from "./storage-json.mjs";

/** Maximum length of a Storage file name, in characters. */
export const MAX_FILE_NAME_LENGTH = 28;

/** Size of the Storage area of the ESP32 build since 2v26, in bytes (224 pages of 4096 bytes). */
export const STORAGE_CAPACITY_BYTES = 917504;

/** Bytes each file costs on top of its content for its header, an estimate used only for `getFree`. */
const FILE_HEADER_BYTES = 32;

/**
 * Maps a Storage file name to a host file name: characters other than letters, digits, `.`, `_` and `-` become
 * `%XX`, and so do names made only of dots.
 *
 * @param {string} name the Storage file name
 * @returns {string} a safe host file name
 */
export function encodeFileName(name) {
  const encoded = name.replace(/[^A-Za-z0-9._-]/g, (character) =>
    "%" + character.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"),
  );
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, "%2E") : encoded;
}

/**
 * Reverses `encodeFileName`.
 *
 * @param {string} fileName the host file name
 * @returns {string} the Storage file name
 */
export function decodeFileName(fileName) {
  return fileName.replace(/%([0-9A-F]{2})/g, (_match, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Creates the device's `Storage` module on top of a folder (created if missing).
 *
 * NOTE: the 896 KB capacity only feeds `getFree` and `getStats`; writes beyond it succeed in the simulator, and
 * `open()` (StorageFile) is not simulated.
 *
 * @param {string} storageDir the folder that contains the files
 * @param {import("./realm.mjs").Realm} realm the device context's value factory
 * @returns {object} the module object
 */
export function createStorageModule(storageDir, realm) {
  fs.mkdirSync(storageDir, { recursive: true });

  const fail = (message) => {
    throw realm.newError(message);
  };

  const hostPath = (name, operation) => {
    if (typeof name !== "string" || name.length === 0) {
      fail(`Storage.${operation}: the file name must be a non-empty string, but it is ${JSON.stringify(name)}`);
    }
    if (name.length > MAX_FILE_NAME_LENGTH) {
      fail(
        `Storage.${operation}: the file name "${name}" has ${name.length} characters, but Storage allows at most ` +
          `${MAX_FILE_NAME_LENGTH}; use a shorter name`,
      );
    }
    return path.join(storageDir, encodeFileName(name));
  };

  const readBytes = (name, operation) => {
    const file = hostPath(name, operation);
    return fs.existsSync(file) ? new Uint8Array(fs.readFileSync(file)) : undefined;
  };

  const contentBytes = (data) => {
    if (data !== null && typeof data === "object" && !Array.isArray(data) && !ArrayBuffer.isView(data) &&
        Object.prototype.toString.call(data) !== "[object ArrayBuffer]") {
      return binaryStringToBytes(toEspruinoJson(data));
    }
    if (typeof data === "number" || typeof data === "boolean") {
      return binaryStringToBytes(String(data));
    }
    try {
      return toBytes(data, "Storage.write data");
    } catch (error) {
      return fail(error.message);
    }
  };

  const write = (name, data, offset, size) => {
    const file = hostPath(name, "write");
    const bytes = contentBytes(data);
    const offsetBytes = offset === undefined ? 0 : Number(offset);
    const sizeBytes = size === undefined || Number(size) === 0 ? bytes.length : Number(size);
    if (!(offsetBytes >= 0) || !(sizeBytes >= 0)) {
      fail(`Storage.write("${name}"): offset (${offset}) and size (${size}) must be 0 or more`);
    }

    if (offsetBytes === 0) {
      // A write at offset 0 creates the file, of `size` bytes when given; unwritten bytes read as 0xFF.
      if (bytes.length > sizeBytes) {
        fail(`Storage.write("${name}"): ${bytes.length} bytes do not fit in a file of size ${sizeBytes}`);
      }
      const content = new Uint8Array(sizeBytes).fill(0xff);
      content.set(bytes, 0);
      fs.writeFileSync(file, content);
      return true;
    }

    if (!fs.existsSync(file)) {
      fail(
        `Storage.write("${name}", data, ${offsetBytes}): the file does not exist; create it first with a write ` +
          "at offset 0 that gives the total size",
      );
    }
    const content = new Uint8Array(fs.readFileSync(file));
    if (offsetBytes + bytes.length > content.length) {
      fail(
        `Storage.write("${name}"): writing ${bytes.length} bytes at offset ${offsetBytes} passes the file size ` +
          `${content.length}; give the total size in the first write`,
      );
    }
    content.set(bytes, offsetBytes);
    fs.writeFileSync(file, content);
    return true;
  };

  const listNames = () =>
    fs.readdirSync(storageDir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => decodeFileName(entry.name))
      .sort();

  const usedBytes = () =>
    listNames().reduce((total, name) => total + fs.statSync(hostPath(name, "getFree")).size + FILE_HEADER_BYTES, 0);

  return realm.newObject({
    read(name, offset, length) {
      const bytes = readBytes(name, "read");
      if (bytes === undefined) {
        return undefined;
      }
      const start = offset === undefined ? 0 : Number(offset);
      const end = length === undefined ? bytes.length : start + Number(length);
      return bytesToBinaryString(bytes.subarray(start, end));
    },

    readArrayBuffer(name) {
      const bytes = readBytes(name, "readArrayBuffer");
      return bytes === undefined ? undefined : realm.newArrayBuffer(bytes);
    },

    readJSON(name, noExceptions) {
      const bytes = readBytes(name, "readJSON");
      if (bytes === undefined) {
        return undefined;
      }
      try {
        return realm.toContextValue(parseEspruinoJson(bytesToBinaryString(bytes)));
      } catch (error) {
        if (noExceptions) {
          return undefined;
        }
        return fail(`Storage.readJSON("${name}"): ${error.message}`);
      }
    },

    write,

    writeJSON(name, data) {
      return write(name, toEspruinoJson(data));
    },

    erase(name) {
      const file = hostPath(name, "erase");
      fs.rmSync(file, { force: true });
    },

    eraseAll() {
      for (const name of listNames()) {
        fs.rmSync(hostPath(name, "eraseAll"), { force: true });
      }
    },

    list(pattern) {
      const names = listNames().filter((name) => {
        if (pattern === undefined) {
          return true;
        }
        pattern.lastIndex = 0;
        return pattern.test(name);
      });
      return realm.toContextValue(names);
    },

    getFree() {
      return Math.max(0, STORAGE_CAPACITY_BYTES - usedBytes());
    },

    getStats() {
      const names = listNames();
      const fileBytes = usedBytes();
      return realm.toContextValue({
        totalBytes: STORAGE_CAPACITY_BYTES,
        freeBytes: Math.max(0, STORAGE_CAPACITY_BYTES - fileBytes),
        fileBytes,
        fileCount: names.length,
        trashBytes: 0,
        trashCount: 0,
      });
    },

    compact() {},
  });
}
