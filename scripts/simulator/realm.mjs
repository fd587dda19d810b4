// Values that cross from the host into the device context must be built from the context's own intrinsics.
// A host array, for example, still has `Array.prototype.at` and fails `instanceof Array` inside the context.

import vm from "node:vm";

/**
 * Captures the constructors of a fresh context before any intrinsic is removed, and builds context values.
 *
 * @param {vm.Context} context a context made by `vm.createContext`
 * @returns {Realm} helpers that create values belonging to that context
 */
export function createRealm(context) {
  const intrinsics = vm.runInContext(
    "({ Object: Object, Array: Array, Error: Error, ArrayBuffer: ArrayBuffer, Uint8Array: Uint8Array, " +
      "Promise: Promise })",
    context,
  );
  return new Realm(intrinsics);
}

/** Factory for values of one device context. */
export class Realm {
  /**
   * @param {{Object: Function, Array: Function, Error: Function, ArrayBuffer: Function, Uint8Array: Function,
   *   Promise: Function}} intrinsics the context's constructors
   */
  constructor(intrinsics) {
    this.intrinsics = intrinsics;
  }

  /**
   * Creates a context object with the given own properties (functions are copied as they are).
   *
   * @param {object} [properties] the properties to copy
   * @returns {object} the context object
   */
  newObject(properties) {
    const target = new this.intrinsics.Object();
    if (properties !== undefined) {
      for (const key of Object.keys(properties)) {
        target[key] = properties[key];
      }
    }
    return target;
  }

  /**
   * Creates a context `Error`, so that `e instanceof Error` holds in device code.
   *
   * @param {string} message the error message
   * @returns {Error} the context error
   */
  newError(message) {
    return new this.intrinsics.Error(message);
  }

  /**
   * Creates a context `ArrayBuffer` holding a copy of the bytes.
   *
   * @param {Uint8Array} bytes the content
   * @returns {ArrayBuffer} the context buffer
   */
  newArrayBuffer(bytes) {
    const buffer = new this.intrinsics.ArrayBuffer(bytes.length);
    new this.intrinsics.Uint8Array(buffer).set(bytes);
    return buffer;
  }

  /**
   * Creates a context `Uint8Array` holding a copy of the bytes.
   *
   * @param {ArrayLike<number>} bytes the content
   * @returns {Uint8Array} the context array
   */
  newUint8Array(bytes) {
    const array = new this.intrinsics.Uint8Array(bytes.length);
    array.set(bytes);
    return array;
  }

  /**
   * Deep-copies plain host data (objects, arrays, primitives) into context values.
   *
   * @param {unknown} value JSON-like host data
   * @returns {unknown} the same data made of context objects and arrays
   */
  toContextValue(value) {
    if (value === null || typeof value !== "object") {
      return value;
    }
    if (Array.isArray(value)) {
      const array = new this.intrinsics.Array();
      for (const item of value) {
        array.push(this.toContextValue(item));
      }
      return array;
    }
    const target = new this.intrinsics.Object();
    for (const key of Object.keys(value)) {
      target[key] = this.toContextValue(value[key]);
    }
    return target;
  }

  /**
   * Tells whether a promise was created inside this context.
   *
   * @param {unknown} promise any value
   * @returns {boolean} true for a promise of this context
   */
  ownsPromise(promise) {
    return promise instanceof this.intrinsics.Promise;
  }
}
