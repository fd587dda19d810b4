// Lists of the built-ins and names that Espruino 2v29 lacks or reserves, for the profile rules to look up. The
// entries come from runs on the interpreter and from its built-in list (the JSON wrapper tags in src/jswrap_*.c).

/**
 * Globals that Espruino 2v29 does not define, with the replacement to suggest.
 * Most were run on the interpreter or have no wrapper in its source. `EvalError`, `URIError`, `AggregateError`,
 * `SharedArrayBuffer`, `Atomics`, `FinalizationRegistry`, the 64-bit typed arrays and `WebAssembly` are standard
 * built-ins with no wrapper in that source either, but were never run on the interpreter.
 */
export const MISSING_GLOBALS = new Map([
  ["Map", "use a plain object as a dictionary"],
  ["Set", "use a plain object or an array"],
  ["WeakMap", "use a plain object or a field on the key object"],
  ["WeakSet", "use a plain object or a field on the key object"],
  ["WeakRef", "keep a normal reference"],
  ["FinalizationRegistry", "release resources explicitly"],
  ["Symbol", "use a string key"],
  ["Proxy", "write the wrapper object explicitly"],
  ["Reflect", "call the Object or Function method directly"],
  ["BigInt", "use numbers or byte arrays"],
  ["TextEncoder", "treat strings as byte strings and use E.toUint8Array"],
  ["TextDecoder", "treat strings as byte strings and use E.toString"],
  ["URL", "split the URL with indexOf and slice"],
  ["URLSearchParams", "build the query string with encodeURIComponent"],
  ["fetch", "use require(\"http\").request"],
  ["setImmediate", "use setTimeout(fn, 0)"],
  ["queueMicrotask", "use Promise.resolve().then(fn)"],
  ["structuredClone", "use JSON.parse(JSON.stringify(value))"],
  ["RangeError", "throw new Error(message) with a code field"],
  ["EvalError", "throw new Error(message) with a code field"],
  ["URIError", "throw new Error(message) with a code field"],
  ["AggregateError", "throw new Error(message) with an errors field"],
  ["Intl", "format numbers and dates by hand"],
  ["SharedArrayBuffer", "use ArrayBuffer"],
  ["Atomics", "use plain typed array access"],
  ["BigInt64Array", "use two Int32Array elements per value"],
  ["BigUint64Array", "use two Uint32Array elements per value"],
  ["WebAssembly", "write the code in JavaScript"],
]);

/** Static members that Espruino 2v29 lacks, keyed by "Object.member", with the replacement to suggest. */
export const MISSING_STATIC_MEMBERS = new Map([
  ["Array.from", "copy with a for loop or Array.prototype.slice.call"],
  ["Array.of", "use an array literal"],
  ["Promise.race", "settle a shared callback once from each promise"],
  ["Promise.any", "settle a shared callback once from each promise"],
  ["Promise.allSettled", "wrap each promise with then/catch and use Promise.all"],
  ["Object.freeze", "leave the object mutable"],
  ["Object.seal", "leave the object extensible"],
  ["Object.is", "use === (and x !== x for NaN)"],
  ["Number.isFinite", "use the global isFinite on a value known to be a number"],
  ["Number.isInteger", "use typeof x === \"number\" && x % 1 === 0"],
  ["Number.isNaN", "use x !== x"],
  ["Number.EPSILON", "use the literal 2.220446049250313e-16"],
  ["Date.UTC", "compute epoch milliseconds by hand or use Date.parse on an ISO string"],
  ["String.fromCodePoint", "use String.fromCharCode with byte values"],
  ["Math.trunc", "use x < 0 ? Math.ceil(x) : Math.floor(x)"],
  ["Math.log2", "use Math.log(x) / Math.LN2"],
  ["Math.log10", "use Math.log(x) / Math.LN10"],
  ["Math.hypot", "use Math.sqrt of the sum of squares"],
  ["Math.cbrt", "use Math.pow(x, 1 / 3) with the sign restored"],
  ["Math.imul", "multiply the 16-bit halves by hand"],
]);

/**
 * Instance methods that Espruino 2v29 lacks on at least one of its built-in types, recognised by name on any
 * receiver. `lastIndexOf` is left out because strings have it, and `keys`, `values` and `entries` are allowed on
 * `Object` itself.
 */
export const MISSING_METHODS = new Map([
  ["at", "index with [i] (and length + i for negative indexes)"],
  ["flat", "concatenate the inner arrays in a loop"],
  ["flatMap", "use map, then concatenate in a loop"],
  ["findLast", "loop backwards over the indexes"],
  ["findLastIndex", "loop backwards over the indexes"],
  ["reduceRight", "loop backwards over the indexes"],
  ["copyWithin", "copy elements in a loop, or use set and subarray on typed arrays"],
  ["trimStart", "use a loop or replace with a simple regex"],
  ["trimEnd", "use a loop or replace with a simple regex"],
  ["codePointAt", "use charCodeAt, because strings are byte strings"],
  ["normalize", "leave strings as bytes"],
  ["localeCompare", "compare with < and >"],
  ["matchAll", "call exec in a loop on a regex with the g flag"],
  ["search", "use indexOf, or match and read its index"],
  ["toPrecision", "use toFixed"],
  ["finally", "call the cleanup in both then and catch"],
  ["entries", "use Object.entries or an index loop"],
  ["keys", "use Object.keys or an index loop"],
  ["values", "use Object.values or the array itself"],
]);

/** Receivers on which `keys`, `values` and `entries` exist in Espruino 2v29 (`Object.keys` and friends). */
export const OBJECT_ITERATION_METHODS = new Set(["keys", "values", "entries"]);

/** Built-in constructors that a class cannot extend on Espruino 2v29, because `super(...)` into them throws. */
export const BUILT_IN_CLASSES = new Set([
  "Error", "TypeError", "SyntaxError", "ReferenceError", "InternalError", "RangeError", "EvalError", "URIError",
  "AggregateError", "Array", "Promise", "Object", "Function", "String", "Number", "Boolean", "Date", "RegExp",
  "ArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Uint24Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "Map", "Set", "WeakMap", "WeakSet",
]);

/**
 * Words that the Espruino 2v29 lexer turns into reserved-word tokens (LEX_R_* in src/jslex.h) although standard
 * JavaScript accepts them as identifiers in some positions. They stay valid as property names after `.` and as
 * object keys.
 */
export const ESPRUINO_RESERVED_WORDS = new Set(["of", "static", "let"]);

/** `undefined` is a reserved-word token too, but reading it works, so only declaring it is rejected. */
export const ESPRUINO_RESERVED_BINDINGS = new Set(["undefined"]);

/** Regex flags that Espruino 2v29 honours. It ignores every other flag without an error. */
export const SUPPORTED_REGEX_FLAGS = new Set(["g", "i"]);

/**
 * Array methods that call their callback before they return, so a function passed to them runs at once.
 * `new Promise(executor)` also runs its executor at once.
 */
export const SYNCHRONOUS_CALLBACK_METHODS = new Set([
  "forEach", "map", "filter", "reduce", "some", "every", "find", "findIndex", "sort",
]);
