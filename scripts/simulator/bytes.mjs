// Byte conversions with Espruino's rules: strings are 8-bit byte strings, so every character counts as one byte
// (its low 8 bits), and Base64 decoding skips characters it does not know instead of throwing.

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * Converts a value that Espruino reads byte by byte into host bytes.
 *
 * @param {unknown} data a string (each character one byte, low 8 bits), an array of numbers (low 8 bits each),
 *   a typed array or DataView (its underlying bytes) or an ArrayBuffer
 * @param {string} what the name of the argument, used in the error message
 * @returns {Uint8Array} a new host array holding the bytes
 * @throws {TypeError} when `data` has none of those types; Espruino is more lenient here, but any other type
 *   is a firmware bug that the simulator reports early
 */
export function toBytes(data, what) {
  if (typeof data === "string") {
    return binaryStringToBytes(data);
  }

  // Typed arrays and ArrayBuffers may come from the device context, so check by tag, not by instanceof.
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") {
    return new Uint8Array(data).slice();
  }

  if (Array.isArray(data)) {
    const bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      bytes[i] = Number(data[i]) & 0xff;
    }
    return bytes;
  }

  throw new TypeError(
    `${what} must be a binary string, an array of byte values, a typed array or an ArrayBuffer, ` +
      `but it is ${describeType(data)}`,
  );
}

/**
 * Converts a binary string to bytes, keeping the low 8 bits of each character as Espruino's 8-bit strings do.
 *
 * @param {string} text a binary string
 * @returns {Uint8Array} one byte per character
 */
export function binaryStringToBytes(text) {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    bytes[i] = text.charCodeAt(i) & 0xff;
  }
  return bytes;
}

/**
 * Converts bytes to a binary string with one character (code 0-255) per byte.
 *
 * @param {Uint8Array} bytes the bytes
 * @returns {string} the binary string
 */
export function bytesToBinaryString(bytes) {
  let text = "";
  const pieceLength = 8192;
  for (let start = 0; start < bytes.length; start += pieceLength) {
    text += String.fromCharCode.apply(null, Array.prototype.slice.call(bytes, start, start + pieceLength));
  }
  return text;
}

/**
 * Encodes bytes as standard Base64 (with `+`, `/` and `=` padding) like Espruino's `btoa`.
 *
 * Unlike `toBytes`, typed arrays are read element by element (low 8 bits of each element), because Espruino's
 * `btoa` iterates over its argument.
 *
 * @param {unknown} data a binary string, an array of numbers, a typed array or an ArrayBuffer
 * @returns {string} the Base64 text
 * @throws {TypeError} for any other type (Espruino: "Expecting String or Array")
 */
export function espruinoBtoa(data) {
  let bytes;
  if (ArrayBuffer.isView(data) && Object.prototype.toString.call(data) !== "[object DataView]") {
    bytes = Uint8Array.from(Array.prototype.map.call(data, (element) => Number(element) & 0xff));
  } else {
    bytes = toBytes(data, "btoa argument");
  }
  return Buffer.from(bytes).toString("base64");
}

/**
 * Decodes Base64 like Espruino's `atob`: characters outside `A-Z a-z 0-9 + /` (including whitespace, `=`, and the
 * Base64url characters `-` and `_`) are skipped silently, and a trailing group of 2 or 3 characters yields 1 or 2
 * bytes.
 *
 * @param {unknown} text the Base64 text; other types are converted with `String()`
 * @returns {string} the decoded binary string
 */
export function espruinoAtob(text) {
  const source = String(text);
  const sextets = [];
  for (let i = 0; i < source.length; i++) {
    const value = BASE64_ALPHABET.indexOf(source[i]);
    if (value >= 0) {
      sextets.push(value);
    }
  }

  let output = "";
  for (let i = 0; i + 1 < sextets.length; i += 4) {
    const a = sextets[i];
    const b = sextets[i + 1];
    const c = sextets[i + 2];
    const d = sextets[i + 3];
    output += String.fromCharCode(((a << 2) | (b >> 4)) & 0xff);
    if (c !== undefined) {
      output += String.fromCharCode(((b << 4) | (c >> 2)) & 0xff);
    }
    if (d !== undefined) {
      output += String.fromCharCode(((c << 6) | d) & 0xff);
    }
  }
  return output;
}

/**
 * Flattens the arguments of `E.toString` and `E.toUint8Array` into bytes.
 *
 * @param {unknown[]} items strings, numbers (one byte each), arrays, typed arrays, ArrayBuffers,
 *   `{data, count}` objects (data repeated `count` times) and `{callback}` objects (the result of the call)
 * @returns {number[]} the bytes
 * @throws {TypeError} for an item of any other type
 */
export function flattenToBytes(items) {
  const bytes = [];
  const append = (item) => {
    if (typeof item === "number") {
      bytes.push(item & 0xff);
      return;
    }
    if (typeof item === "string" || ArrayBuffer.isView(item) || Array.isArray(item) ||
        Object.prototype.toString.call(item) === "[object ArrayBuffer]") {
      if (Array.isArray(item)) {
        item.forEach(append);
        return;
      }
      for (const byte of toBytes(item, "E.toString argument")) {
        bytes.push(byte);
      }
      return;
    }
    if (item !== null && typeof item === "object" && "data" in item) {
      const count = item.count === undefined ? 1 : Number(item.count);
      for (let i = 0; i < count; i++) {
        append(item.data);
      }
      return;
    }
    if (item !== null && typeof item === "object" && typeof item.callback === "function") {
      append(item.callback());
      return;
    }
    throw new TypeError(`E.toString and E.toUint8Array cannot read ${describeType(item)}`);
  };

  items.forEach(append);
  return bytes;
}

/**
 * Names the type of a value for error messages.
 *
 * @param {unknown} value any value
 * @returns {string} for example "undefined", "a number" or "an object"
 */
export function describeType(value) {
  if (value === null || value === undefined) {
    return String(value);
  }
  const type = typeof value;
  return (/^[aeiou]/.test(type) ? "an " : "a ") + type;
}
