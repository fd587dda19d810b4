// Tests for the Espruino profile check: each rule rejects its constructs, ES2015 code that Espruino runs passes,
// esbuild's output with the project's settings passes, and the command line prints and exits as documented.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

import { FIRMWARE_BUILD_OPTIONS } from "../scripts/build.mjs";
import { checkProfile } from "../scripts/profile-check.mjs";
import { MISSING_GLOBALS, MISSING_METHODS, MISSING_STATIC_MEMBERS } from "../scripts/profile/profile-data.mjs";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const cliPath = join(repoRoot, "scripts", "profile-check.mjs");

// The esbuild settings of the real build, without writing a file.
const BUILD_OPTIONS = { ...FIRMWARE_BUILD_OPTIONS, write: false, tsconfig: join(repoRoot, "tsconfig.json") };

function rulesOf(source) {
  return checkProfile(source, { fileName: "snippet.js" }).map((violation) => violation.rule);
}

function describeViolations(source) {
  return JSON.stringify(checkProfile(source, { fileName: "snippet.js" }).map((v) => `${v.line}:${v.column} ${v.rule}: ${v.message}`), null, 2);
}

// [expected rule, snippet]
const REJECTED = [
  ["syntax", "var x = (;"],
  ["syntax", "await fetchIt();"],
  ["destructuring", "var { a } = o;"],
  ["destructuring", "let [a, b] = list;"],
  ["destructuring", "function f({ a }) { return a; }"],
  ["destructuring", "var f = ([a]) => a;"],
  ["destructuring", "({ a } = o);"],
  ["destructuring", "[a, b] = [b, a];"],
  ["destructuring", "try { g(); } catch ({ message }) { log(message); }"],
  ["destructuring", "for (const [k, v] of pairs) { log(k, v); }"],
  ["default-parameter", "function f(a = 1) { return a; }"],
  ["default-parameter", "var f = (a = 1) => a;"],
  ["default-parameter", "function f({ a } = {}) { return a; }"],
  ["rest-parameter", "function f(...args) { return args; }"],
  ["rest-parameter", "var f = (first, ...others) => others;"],
  ["spread", "f(...args);"],
  ["spread", "new Thing(...args);"],
  ["spread", "var a = [...b, 1];"],
  ["spread", "var o = { ...p, q: 1 };"],
  ["spread", "class B extends A { constructor() { super(...arguments); } }"],
  ["async-function", "async function f() { return 1; }"],
  ["async-function", "var f = async () => 1;"],
  ["async-function", "var o = { async m() { return 1; } };"],
  ["async-function", "class A { async m() { return 1; } }"],
  ["await", "async function f() { await g(); }"],
  ["generator", "function* g() { return 1; }"],
  ["generator", "var o = { *items() { return 1; } };"],
  ["yield", "function* g() { yield 1; }"],
  ["optional-chaining", "var v = a?.b;"],
  ["optional-chaining", "a?.();"],
  ["optional-chaining", "var v = a?.[0];"],
  ["exponent", "var x = 2 ** 3;"],
  ["exponent", "x **= 2;"],
  ["logical-assignment", "a &&= b;"],
  ["logical-assignment", "a ||= b;"],
  ["logical-assignment", "a ??= b;"],
  ["computed-key", "var o = { [k]: 1 };"],
  ["computed-key", "var o = { [k]() { return 1; } };"],
  ["computed-key", "class A { [k]() { return 1; } }"],
  ["tagged-template", "tag`x${1}`;"],
  ["private-member", "class A { #x = 1; get() { return this.#x; } }"],
  ["private-member", "class A { #m() { return 1; } }"],
  ["private-member", "class A { #x; static has(o) { return #x in o; } }"],
  ["static-block", "class A { static { init(); } }"],
  ["label", "outer: for (;;) { break outer; }"],
  ["for-await", "async function f() { for await (const x of xs) { log(x); } }"],
  ["class-field", "class A { items = []; }"],
  ["loop-closure", "for (let i = 0; i < 3; i++) { setTimeout(() => log(i), 10); }"],
  ["loop-closure", "for (let i = 0; i < 3; i++) { handlers.push(function () { return i; }); }"],
  ["with-statement", "with (o) { x = 1; }"],
  ["bigint-literal", "var n = 10n;"],
  ["dynamic-import", "import(\"x\");"],
  ["regex-optional", "/ab?c/.test(s);"],
  ["regex-optional", "var r = /a*?b/;"],
  ["regex-optional", "var r = /a+?/;"],
  ["regex-optional", "var r = new RegExp(\"ab?c\", \"g\");"],
  ["regex-optional", "var r = RegExp(`a?`);"],
  ["regex-group-syntax", "var r = /(?:ab)+/;"],
  ["regex-group-syntax", "var r = /a(?=b)/;"],
  ["regex-group-syntax", "var r = /a(?!b)/;"],
  ["regex-group-syntax", "var r = /(?<=a)b/;"],
  ["regex-group-syntax", "var r = /(?<!a)b/;"],
  ["regex-counted-quantifier", "var r = /^[0-9]{1,3}$/;"],
  ["regex-counted-quantifier", "var r = /a{2}/;"],
  ["regex-counted-quantifier", "var r = /a{2,}/;"],
  ["regex-counted-quantifier", "var r = new RegExp(\"x{3}\");"],
  ["regex-word-boundary", "var r = /\\bword\\b/;"],
  ["regex-word-boundary", "var r = new RegExp(\"\\\\Bx\");"],
  ["regex-named-group", "var r = /(?<year>\\d+)-/;"],
  ["regex-named-group", "var r = /(?<y>a)\\k<y>/;"],
  ["regex-backreference", "var r = /(a)\\1/;"],
  ["regex-flag", "var r = /a/s;"],
  ["regex-flag", "var r = /a/u;"],
  ["regex-flag", "var r = /a/y;"],
  ["regex-flag", "var r = /a/d;"],
  ["regex-flag", "var r = /a/m;"],
  ["regex-flag", "var r = new RegExp(\"a\", \"gy\");"],
  ["reserved-word", "var of = 1;"],
  ["reserved-word", "function f(of) { return of; }"],
  ["reserved-word", "var static = 1;"],
  ["reserved-word", "var let = 1;"],
  ["reserved-word", "x = of + 1;"],
  ["reserved-word", "var o = { of };"],
  ["reserved-word", "var undefined = 1;"],
  ["reserved-word", "function f(undefined) { return 1; }"],
  ["missing-global", "var m = new Map();"],
  ["missing-global", "var k = Symbol.iterator;"],
  ["missing-global", "if (Proxy) { log(1); }"],
  ["missing-global", "var s = typeof Symbol > \"u\" ? Symbol.iterator : \"@@iterator\";"],
  ["missing-global", "var s = typeof Symbol === \"undefined\" && Symbol.iterator;"],
  ["missing-global", "throw new RangeError(\"too big\");"],
  ["missing-static", "var a = Array.from(x);"],
  ["missing-static", "var e = Number.EPSILON;"],
  ["missing-static", "var f = Object.freeze;"],
  ["missing-static", "var t = Math[\"trunc\"](x);"],
  ["missing-method", "var last = list.at(-1);"],
  ["missing-method", "p.finally(done);"],
  ["missing-method", "for (const k of list.keys()) { log(k); }"],
  ["missing-method", "var s = text[\"trimStart\"]();"],
  ["extends-builtin", "class E extends Error { constructor(m) { super(m); } }"],
  ["extends-builtin", "class L extends Array {}"],
  ["extends-builtin", "class P extends Promise {}"],
  ["extends-builtin", "var T = class extends TypeError {};"],
  ["extends-expression", "class A extends mixin(B) {}"],
  ["extends-expression", "class A extends ns.B {}"],
  ["named-class-expression", "var A = class B { static make() { return new B(); } };"],
  ["named-class-expression", "var A = class B {};"],
  ["inherited-static", "class A { static make() { return 1; } }\nclass B extends A {}\nB.make();"],
  ["inherited-static", "var a = class { static make() { return 1; } }, b = class extends a {}; b.make();"],
  ["inherited-static", "(() => { class A {} A.count = 0; class B extends A {} log(B.count); })();"],
  ["hoisting", "f(); function f() { return 1; }"],
  ["hoisting", "var x = f() + 1; function f() { return 1; }"],
  ["hoisting", "(() => { var x = f(); function f() { return 1; } })();"],
  ["hoisting", "\"use strict\";(()=>{g();function g(){}})();"],
  ["hoisting", "!function () { g(); function g() {} }();"],
  ["hoisting", "(function () { g(); function g() {} }).call(this);"],
  ["hoisting", "function a() { return b(); } a(); function b() { return 1; }"],
  ["hoisting", "function a() { return b(); } function b() { return c(); } a(); function c() { return 1; }"],
  ["hoisting", "setTimeout(main, 0); function main() { return 1; }"],
  ["hoisting", "[1].forEach(function () { later(); }); function later() { return 1; }"],
  ["hoisting", "var p = new Promise(function (resolve) { resolve(later()); }); function later() { return 1; }"],
  ["non-ascii", "var s = \"\u00e9\";"],
  ["non-ascii", "// comment \u00fc\nvar x = 1;"],
  ["non-ascii", "var s = \"\u20ac\";"],
  ["wide-char-escape", "var s = \"\\u20AC\";"],
  ["wide-char-escape", "var s = `\\u{1F600}`;"],
];

for (const name of MISSING_GLOBALS.keys()) REJECTED.push(["missing-global", `var v = ${name};`]);
for (const name of MISSING_STATIC_MEMBERS.keys()) REJECTED.push(["missing-static", `var v = ${name};`]);
for (const name of MISSING_METHODS.keys()) REJECTED.push(["missing-method", `var v = thing.${name}(1);`]);

// [what it shows, snippet]: ES2015 code that Espruino 2v29 runs.
const ACCEPTED = [
  ["arrow functions", "var add = (a, b) => a + b; var one = x => x; var f = () => { return this; };"],
  ["class extends a user class", "class A { constructor(n) { this.n = n; } get twice() { return this.n * 2; } static make() { return new this(1); } }\nclass B extends A { constructor(n) { super(n); this.k = 1; } m() { return super.m(); } }"],
  ["template literals", "var s = `a${1}b${x + 1}`; var t = `line1\nline2`;"],
  ["let and const", "let a = 1; const b = 2; { let a = 3; }"],
  ["for...of and for...in", "for (const x of [1, 2]) { log(x); } for (var k in o) { log(k); }"],
  ["nullish coalescing", "var v = a ?? b;"],
  ["optional catch binding", "try { f(); } catch { log(1); }"],
  ["getters and setters", "var o = { get x() { return 1; }, set x(v) { log(v); } };"],
  ["shorthand properties and methods", "var a = 1; var o = { a, m() { return 1; } };"],
  ["Object iteration statics", "var k = Object.keys(o); var v = Object.values(o); var e = Object.entries(o); var f = Object.fromEntries(e);"],
  ["present built-ins", "Promise.all([Promise.resolve(1)]).then(log).catch(log); var s = \"ab\".padStart(4, \"0\").lastIndexOf(\"a\"); var m = Math.sign(-1); var o = Object.assign({}, p);"],
  ["reserved words as property names", "var o = { of: 1, static: 2 }; var v = o.of + o.static; class A { static of() { return 1; } }"],
  ["supported regex", "var r = /^[a-z]+\\d*(x|y)$/gi; var q = /a\\?b\\{2\\}/; var c = /[?{}]+/; var d = /a{/; var e = /[\\b]/;"],
  ["string escapes up to 0xFF", "var s = \"\\xE9\\u00FF\\n\";"],
  ["locally declared names that shadow globals", "function f(Map, Symbol) { return new Map(Symbol); } var URL = \"http://x\"; log(URL);"],
  ["typeof operand", "var hasMap = typeof Map !== \"undefined\"; var hasFrom = typeof Array.from === \"function\";"],
  ["esbuild require shim", "var h=(t=>typeof require!=\"undefined\"?require:typeof Proxy!=\"undefined\"?new Proxy(t,{get:(n,e)=>(typeof require!=\"undefined\"?require:n)[e]}):t)(function(t){if(typeof require!=\"undefined\")return require.apply(this,arguments);throw Error('Dynamic require of \"'+t+'\" is not supported')});"],
  ["minified typeof guards", "var a = typeof Symbol<\"u\"?Symbol.iterator:\"@@iterator\"; var b = typeof Symbol>\"u\"?\"@@iterator\":Symbol.iterator; var c = typeof WeakMap==\"function\"&&new WeakMap;"],
  ["if statement guards", "if (typeof Map !== \"undefined\") { m = new Map(); } else { m = {}; } if (!(typeof Set > \"u\")) { s = new Set(); }"],
  ["guarded static members", "var f = Object.freeze ? Object.freeze(o) : o; var g = typeof Math.trunc === \"function\" ? Math.trunc(x) : Math.floor(x);"],
  ["guarded method calls", "var t = typeof s.trimStart === \"function\" ? s.trimStart() : s.trim();"],
  ["declaration before use", "function f() { return 1; } f(); var x = f();"],
  ["later function used only inside a function body", "function a() { return b(); } function b() { return 1; } a();"],
  ["later function in a deferred callback", "setTimeout(function () { later(); }, 0); function later() { return 1; }"],
  ["nested hoisting inside a function", "function outer() { inner(); function inner() { return 1; } } outer();"],
  ["loop variable copied into a const", "for (let i = 0; i < 3; i++) { const j = i; setTimeout(() => log(j), 10); }"],
  ["loop variable in a synchronous callback", "for (let i = 0; i < 3; i++) { list.forEach((x) => log(x, i)); }"],
  ["var loop", "for (var i = 0; i < 3; i++) { log(i); }"],
  ["static member on its own class", "class A { static make() { return 1; } }\nclass B extends A { static make() { return 2; } }\nA.make(); B.make(); B.name;"],
  ["error with fields", "var e = new Error(\"boom\"); e.code = \"E_X\"; throw e;"],
  ["minified esbuild IIFE with use strict", "\"use strict\";(()=>{var a=Object.defineProperty;function n(t){return t+1}var r=n(1);console.log(r);})();"],
  ["empty file", ""],
];

describe("checkProfile", function () {
  describe("rejects each unsupported construct", function () {
    for (const [rule, snippet] of REJECTED) {
      it(`${rule}: ${JSON.stringify(snippet).slice(0, 70)}`, function () {
        const rules = rulesOf(snippet);
        assert.ok(rules.includes(rule), `expected rule ${rule}, got ${describeViolations(snippet)}`);
      });
    }
  });

  describe("accepts ES2015 code that Espruino runs", function () {
    for (const [label, snippet] of ACCEPTED) {
      it(label, function () {
        assert.deepEqual(checkProfile(snippet, { fileName: "snippet.js" }), [], describeViolations(snippet));
      });
    }
  });

  describe("violation fields", function () {
    it("reports 1-based line and column", function () {
      const [violation] = checkProfile("var a = 1;\nvar m = new Map();", { fileName: "x.js" });
      assert.equal(violation.rule, "missing-global");
      assert.equal(violation.line, 2);
      assert.equal(violation.column, 13);
      assert.equal(violation.snippet, "var m = new Map();");
    });

    it("points at the ?. operator", function () {
      const [violation] = checkProfile("var v = alpha?.beta;", {});
      assert.equal(violation.rule, "optional-chaining");
      assert.equal(violation.column, 14);
    });

    it("points into the regex pattern", function () {
      const [violation] = checkProfile("var r = /ab?c/;", {});
      assert.equal(violation.rule, "regex-optional");
      assert.equal(violation.column, 12);
      assert.match(violation.message, /\/ab\?c\//);
    });

    it("reports a syntax error with its location", function () {
      const violations = checkProfile("var a = 1;\nvar b = ;", { fileName: "broken.js" });
      assert.equal(violations.length, 1);
      assert.equal(violations[0].rule, "syntax");
      assert.equal(violations[0].line, 2);
      assert.equal(violations[0].column, 9);
      assert.match(violations[0].message, /broken\.js/);
    });

    it("shortens the snippet on a long line", function () {
      const source = "var a=1;".repeat(50) + "var m=new Map();" + "var b=2;".repeat(50);
      const [violation] = checkProfile(source, {});
      assert.equal(violation.rule, "missing-global");
      assert.ok(violation.snippet.length <= 86, violation.snippet);
      assert.ok(violation.snippet.startsWith("..."), violation.snippet);
      assert.ok(violation.snippet.includes("new Map()"), violation.snippet);
    });

    it("names the later function of a transitive call", function () {
      const [violation] = checkProfile("function a() { return b(); } a(); function b() { return 1; }", {});
      assert.equal(violation.rule, "hoisting");
      assert.equal(violation.column, 30);
      assert.match(violation.message, /\bb\b.*line 1/);
    });

    it("reports violations in source order", function () {
      const violations = checkProfile("var x = 2 ** 3;\nvar m = new Map();\nvar v = a?.b;", {});
      assert.deepEqual(violations.map((v) => v.line), [1, 2, 3]);
    });

    it("rejects a source that is not a string", function () {
      assert.throws(() => checkProfile(Buffer.from("var a;"), {}), /sourceText must be a string/);
    });

    it("rejects a fileName that is not a string", function () {
      assert.throws(() => checkProfile("var a;", { fileName: 7 }), /options\.fileName must be a string/);
    });
  });
});

describe("checkProfile on esbuild output", function () {
  let workDir;

  before(function () {
    workDir = mkdtempSync(join(tmpdir(), "profile-check-"));
  });

  after(function () {
    rmSync(workDir, { recursive: true, force: true });
  });

  async function bundle(files) {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(workDir, name), text);
    const result = await esbuild.build({ ...BUILD_OPTIONS, entryPoints: [join(workDir, "main.ts")] });
    return result.outputFiles[0].text;
  }

  it("passes a bundle that uses esbuild helpers", async function () {
    const output = await bundle({
      "shapes.ts": [
        "export class Shape {",
        "  protected sides: number;",
        "  private tags: string[] = [];",
        "  constructor(sides: number) { this.sides = sides; }",
        "  get sideCount(): number { return this.sides; }",
        "  static square(): Shape { return new this(4); }",
        "}",
        "export class Triangle extends Shape {",
        "  constructor() { super(3); }",
        "  describe(label?: string): string { return `${label ?? \"triangle\"} with ${this.sideCount} sides`; }",
        "}",
        "",
      ].join("\n"),
      "main.ts": [
        "declare function require(name: string): any;",
        "declare const console: { log(...values: any[]): void };",
        "import { Shape, Triangle } from \"./shapes\";",
        "const crypto = require(\"crypto\");",
        "interface Options { name?: string; retry?: { count?: number } }",
        "function merge(base: object, extra: object): object { return { ...base, ...extra, merged: true }; }",
        "function retryCount(options: Options): number { return options.retry?.count ?? 2 ** 3; }",
        "function main(): void {",
        "  const shapes: Shape[] = [Shape.square(), new Triangle()];",
        "  for (const shape of shapes) console.log(shape.sideCount);",
        "  const byName: { [key: string]: number } = {};",
        "  byName[\"x\"] = retryCount({ retry: {} });",
        "  console.log(new Triangle().describe(), merge(byName, { y: 1 }), crypto.SHA256(\"abc\"), Object.keys(byName));",
        "}",
        "main();",
        "",
      ].join("\n"),
    });

    assert.match(output, /typeof require/, "the bundle should contain esbuild's require shim");
    assert.match(output, /Proxy/, "the bundle should contain the guarded Proxy branch");
    assert.deepEqual(checkProfile(output, { fileName: "bundle.js" }), [], describeViolations(output));
  });

  it("flags esbuild's named class expression", async function () {
    const output = await bundle({
      "main.ts": [
        "declare const console: { log(...values: any[]): void };",
        "class Counter { static created = 0; static next(): Counter { Counter.created += 1; return new Counter(); } }",
        "console.log(Counter.next());",
        "",
      ].join("\n"),
    });

    assert.ok(rulesOf(output).includes("named-class-expression"), describeViolations(output));
  });

  it("flags the wide escape esbuild writes for a euro sign", async function () {
    const output = await bundle({
      "main.ts": "declare const console: { log(...values: any[]): void };\nconsole.log(\"price in \u20ac\");\n",
    });

    assert.match(output, /\\u20AC/);
    assert.deepEqual(rulesOf(output), ["wide-char-escape"], describeViolations(output));
  });

  it("passes dist/firmware.js when it exists", function () {
    const bundlePath = join(repoRoot, "dist", "firmware.js");
    if (!existsSync(bundlePath)) this.skip();

    const source = readFileSync(bundlePath, "utf8");
    assert.deepEqual(checkProfile(source, { fileName: "dist/firmware.js" }), [], describeViolations(source));
  });
});

describe("profile-check command line", function () {
  let workDir;

  before(function () {
    workDir = mkdtempSync(join(tmpdir(), "profile-cli-"));
  });

  after(function () {
    rmSync(workDir, { recursive: true, force: true });
  });

  function runCli(args) {
    return spawnSync(process.execPath, [cliPath, ...args], { cwd: workDir, encoding: "utf8" });
  }

  it("prints violations and exits 1", function () {
    writeFileSync(join(workDir, "bad.js"), "var a = 1;\nvar m = new Map();\n");
    const result = runCli(["bad.js"]);

    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^bad\.js:2:13 missing-global: Map is not defined on Espruino/m);
    assert.match(result.stdout, /^ {4}var m = new Map\(\);$/m);
    assert.match(result.stdout, /1 Espruino profile violation/);
  });

  it("prints a summary and exits 0 when clean", function () {
    writeFileSync(join(workDir, "good.js"), "\"use strict\";(()=>{function f(){return 1}f();})();\n");
    const result = runCli(["good.js"]);

    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.equal(result.stdout.trim().split("\n").length, 1);
    assert.match(result.stdout, /^good\.js: clean/);
  });

  it("reports a syntax error as a violation", function () {
    writeFileSync(join(workDir, "broken.js"), "var x = (;\n");
    const result = runCli(["broken.js"]);

    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /^broken\.js:1:10 syntax: /m);
  });

  it("exits 2 for a missing file", function () {
    const result = runCli(["missing.js"]);

    assert.equal(result.status, 2);
    assert.match(result.stderr, /failed to read missing\.js/);
  });

  it("exits 2 without arguments", function () {
    const result = runCli([]);

    assert.equal(result.status, 2);
    assert.match(result.stderr, /Usage/);
  });
});
