// Shapes the intrinsics of a fresh `vm` context into those of Espruino 2v29 on ESP32: built-ins that the
// interpreter lacks are deleted, and `Date`, `String.fromCharCode` and `JSON.stringify` get Espruino's semantics.

import vm from "node:vm";

/**
 * Built-ins that Espruino 2v29 on ESP32 does not have, as paths from the global object.
 *
 * NOTE: `Number.EPSILON` and the other Number constants are also absent on the device, but V8 defines them as
 * non-configurable, so the simulator cannot remove them.
 */
export const ABSENT_INTRINSICS = [
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol", "Reflect", "Proxy", "BigInt",
  "BigInt64Array", "BigUint64Array", "AggregateError", "RangeError", "SharedArrayBuffer", "Atomics", "WebAssembly",
  "Intl", "TextEncoder", "TextDecoder", "URL", "URLSearchParams", "fetch", "setImmediate", "clearImmediate",
  "queueMicrotask", "structuredClone", "Buffer",
  "Array.from", "Array.of",
  "Array.prototype.at", "Array.prototype.flat", "Array.prototype.flatMap", "Array.prototype.findLast",
  "Array.prototype.findLastIndex", "Array.prototype.lastIndexOf", "Array.prototype.reduceRight",
  "Array.prototype.copyWithin", "Array.prototype.entries", "Array.prototype.keys", "Array.prototype.values",
  "Promise.race", "Promise.any", "Promise.allSettled", "Promise.prototype.finally",
  "Object.freeze", "Object.seal", "Object.is", "Object.isFrozen", "Object.isSealed", "Object.getOwnPropertySymbols",
  "Number.isFinite", "Number.isInteger", "Number.isNaN", "Number.isSafeInteger",
  "Number.prototype.toPrecision",
  "Date.UTC",
  "Math.trunc", "Math.log2", "Math.log10", "Math.hypot", "Math.imul", "Math.cbrt",
  "String.fromCodePoint",
  "String.prototype.at", "String.prototype.trimStart", "String.prototype.trimEnd", "String.prototype.trimLeft",
  "String.prototype.trimRight", "String.prototype.codePointAt", "String.prototype.normalize",
  "String.prototype.localeCompare", "String.prototype.matchAll", "String.prototype.search",
  // Espruino added the getUTC* methods of Date after 2v29; 2v29 only has the local-time getters.
  "Date.prototype.getUTCFullYear", "Date.prototype.getUTCMonth", "Date.prototype.getUTCDate",
  "Date.prototype.getUTCDay", "Date.prototype.getUTCHours", "Date.prototype.getUTCMinutes",
  "Date.prototype.getUTCSeconds", "Date.prototype.getUTCMilliseconds",
];

// Runs inside the context. It may use any syntax because it is simulator code, not firmware. `Reflect` is captured
// before it is deleted.
const PREPARE_SOURCE = `
(function (absentPaths, deviceNowMs) {
  var NativeDate = Date;
  var construct = Reflect.construct;
  var defineProperty = Object.defineProperty;
  var nativeStringify = JSON.stringify;
  var nativeFromCharCode = String.fromCharCode;

  function DeviceDate() {
    if (new.target === undefined) {
      return new NativeDate(deviceNowMs()).toString();
    }
    if (arguments.length === 0) {
      return construct(NativeDate, [deviceNowMs()], new.target);
    }
    return construct(NativeDate, Array.prototype.slice.call(arguments), new.target);
  }
  DeviceDate.prototype = NativeDate.prototype;
  defineProperty(NativeDate.prototype, "constructor", { value: DeviceDate, writable: true, configurable: true });
  DeviceDate.now = function now() { return deviceNowMs(); };
  DeviceDate.parse = NativeDate.parse;
  globalThis.Date = DeviceDate;

  String.fromCharCode = function fromCharCode() {
    var codes = [];
    for (var i = 0; i < arguments.length; i++) codes.push(Number(arguments[i]) & 255);
    return nativeFromCharCode.apply(String, codes);
  };

  JSON.stringify = function stringify(value, replacer, space) {
    var text = nativeStringify(value, replacer, space);
    if (typeof text !== "string") return text;
    return text.replace(/[\\u007f-\\uffff]/g, function (character) {
      return "\\\\u00" + ("0" + (character.charCodeAt(0) & 255).toString(16)).slice(-2);
    });
  };

  absentPaths.forEach(function (path) {
    var parts = path.split(".");
    var owner = globalThis;
    for (var i = 0; i < parts.length - 1 && owner !== undefined; i++) owner = owner[parts[i]];
    if (owner !== undefined) delete owner[parts[parts.length - 1]];
  });
})
`;

/**
 * Deletes the built-ins Espruino lacks and installs the device clock and 8-bit string behaviour in a context.
 *
 * After this call, `Date.now()` and `new Date()` inside the context read `deviceNowMs`. `String.fromCharCode`
 * keeps the low 8 bits of each code, and `JSON.stringify` escapes characters from 0x7F up as `\u00XX` of their
 * low 8 bits, because Espruino's strings are 8-bit.
 *
 * @param {vm.Context} context a fresh context
 * @param {() => number} deviceNowMs returns the device clock in milliseconds since 1970 (may have a fraction)
 * @returns {void}
 */
export function prepareIntrinsics(context, deviceNowMs) {
  const prepare = vm.runInContext(PREPARE_SOURCE, context);
  prepare(vm.runInContext("[]", context).concat(ABSENT_INTRINSICS), deviceNowMs);
}
