// Tests of the Espruino simulator's runtime: intrinsics, clock, timers, crypto, binary strings, globals, Storage,
// WiFi and the device lifecycle. HTTPS is tested in simulator-http.test.mjs.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSimulatedDevice } from "../scripts/simulator/device.mjs";
import { ABSENT_INTRINSICS } from "../scripts/simulator/intrinsics.mjs";

const devices = [];

function makeStorageDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "simulator-test-"));
}

function bootDevice(code, options) {
  const device = createSimulatedDevice({ storageDir: makeStorageDir(), ...(options || {}), code });
  devices.push(device);
  device.boot();
  return device;
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

afterEach(() => {
  for (const device of devices.splice(0)) {
    device.stop();
  }
});

describe("simulator intrinsics", () => {
  it("removes every absent built-in", () => {
    const device = bootDevice("");
    for (const intrinsicPath of ABSENT_INTRINSICS) {
      assert.equal(device.eval(`typeof ${intrinsicPath}`), "undefined", intrinsicPath);
    }
  });

  it("lists the built-ins the brief names as absent", () => {
    const required = ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Array.from", "Array.of", "Promise.race",
      "Promise.any", "Promise.allSettled", "Promise.prototype.finally", "Object.freeze", "Object.seal",
      "Number.isFinite", "Number.isInteger", "Date.UTC", "TextEncoder", "TextDecoder", "URL", "fetch",
      "setImmediate", "queueMicrotask", "Buffer", "Math.trunc", "String.prototype.at", "String.prototype.trimStart",
      "String.prototype.trimEnd", "String.prototype.codePointAt", "Array.prototype.at", "Array.prototype.flat",
      "Array.prototype.flatMap"];
    const device = bootDevice("");
    for (const name of required) {
      assert.equal(device.eval(`typeof ${name}`), "undefined", name);
    }
    assert.equal(device.eval('typeof "abc".at'), "undefined");
    assert.equal(device.eval("typeof [1].flat"), "undefined");
  });

  it("keeps the built-ins Espruino has working", async () => {
    const device = bootDevice(`
      class Counter { constructor() { this.count = 0; } add() { this.count++; return this; } }
      var results = [];
      results.push(new Counter().add().add().count);
      results.push([1, 2, 3].map((x) => x * 2).find((x) => x > 2));
      results.push(Object.assign({}, { a: 1 }).a);
      results.push("7".padStart(3, "0"));
      results.push(Object.entries({ k: "v" })[0].join("="));
      results.push(new Uint8Array([1, 2, 3]).slice(1).length);
      for (const item of ["x", "y"]) results.push(item);
      results.push(typeof globalThis, typeof global);
      Promise.all([Promise.resolve(1), 2]).then((values) => print("all " + values.join(",")));
      print(results.join("|"));
    `);
    assert.equal(device.logs[0], "2|4|1|007|k=v|2|x|y|object|object");
    assert.equal(await device.waitForLog(/^all /, 2000), "all 1,2");
  });

  it("truncates character codes to 8 bits", () => {
    const device = bootDevice("");
    assert.equal(device.eval("String.fromCharCode(0x20AC).charCodeAt(0)"), 0xac);
    assert.equal(device.eval('JSON.stringify("\\xe9")'), '"\\u00e9"');
  });
});

describe("simulator clock", () => {
  it("starts at 1970 by default", () => {
    const device = bootDevice("");
    assert.ok(device.eval("Date.now()") < 60000);
    assert.ok(device.eval("getTime()") < 60);
    assert.equal(device.eval("new Date().getFullYear() <= 1970"), true);
  });

  it("starts at clockStartEpochMs", () => {
    const device = bootDevice("", { clockStartEpochMs: Date.parse("2026-03-01T00:00:00Z") });
    assert.equal(device.eval("new Date().toISOString().slice(0, 10)"), "2026-03-01");
  });

  it("jumps on setTime and keeps advancing", async () => {
    const device = bootDevice("");
    device.eval("setTime(1767225600)");
    const first = device.eval("Date.now()");
    assert.ok(first >= 1767225600000, String(first));
    assert.ok(first < 1767225601000, String(first));
    assert.equal(device.eval("new Date().toISOString().slice(0, 16)"), "2026-01-01T00:00");
    await delay(20);
    assert.ok(device.eval("Date.now()") > first);
    assert.equal(typeof device.eval("getTime()"), "number");
  });

  it("parses RFC 1123 dates", () => {
    const device = bootDevice("");
    assert.equal(device.eval('Date.parse("Mon, 02 May 2022 08:04:03 GMT")'), 1651478643000);
  });
});

describe("simulator timers", () => {
  it("returns numeric ids and reuses them", async () => {
    const device = bootDevice(`
      var first = setTimeout(function () { print("fired " + first); }, 5);
      print(typeof first + " " + first);
    `);
    assert.equal(device.logs[0], "number 1");
    await device.waitForLog(/^fired 1$/, 2000);
    assert.equal(device.eval("setTimeout(function () {}, 1000)"), 1);
  });

  it("passes extra arguments to the callback", async () => {
    const device = bootDevice('setTimeout(function (a, b) { print(a + b); }, 1, "x", "y");');
    assert.equal(await device.waitForLog(/^xy$/, 2000), "xy");
  });

  it("throws on clearing an unknown timeout", () => {
    const device = bootDevice("");
    assert.throws(() => device.eval("clearTimeout(42)"), /Unknown Timeout/);
    assert.throws(() => device.eval("clearInterval(42)"), /Unknown Interval/);
  });

  it("clears every timer on clearTimeout(undefined)", async () => {
    const device = bootDevice(`
      setTimeout(function () { print("a"); }, 10);
      setInterval(function () { print("b"); }, 10);
      clearTimeout(undefined);
      setTimeout(function () { print("after"); }, 30);
    `);
    await device.waitForLog(/^after$/, 2000);
    assert.deepEqual(device.logs, ["after"]);
  });

  it("repeats intervals until cleared", async () => {
    const device = bootDevice(`
      var count = 0;
      var id = setInterval(function () { count++; if (count === 3) { clearInterval(id); print("done"); } }, 5);
    `);
    await device.waitForLog(/^done$/, 2000);
    await delay(30);
    assert.equal(device.eval("count"), 3);
  });
});

describe("simulator crypto", () => {
  const sha256Hex = (bytes) => crypto.createHash("sha256").update(Buffer.from(bytes)).digest("hex");

  it("SHA256 matches the FIPS 180-2 abc vector", () => {
    const device = bootDevice("");
    assert.equal(device.eval('btoa(require("crypto").SHA256("abc"))'), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    assert.equal(device.eval('require("crypto").SHA256("abc") instanceof ArrayBuffer'), true);
    assert.equal(device.eval('require("crypto").SHA256("abc").byteLength'), 32);
  });

  it("SHA256 reads every input type as bytes", () => {
    const device = bootDevice(`
      var c = require("crypto");
      function hex(buffer) {
        var bytes = new Uint8Array(buffer), text = "";
        for (var i = 0; i < bytes.length; i++) text += (bytes[i] + 256).toString(16).slice(1);
        return text;
      }
    `);
    const expected = sha256Hex([0, 1, 200, 255]);
    assert.equal(device.eval('hex(c.SHA256("\\x00\\x01\\xc8\\xff"))'), expected);
    assert.equal(device.eval("hex(c.SHA256([0, 1, 200, 255]))"), expected);
    assert.equal(device.eval("hex(c.SHA256(new Uint8Array([0, 1, 200, 255])))"), expected);
    assert.equal(device.eval("hex(c.SHA256(new Uint8Array([0, 1, 200, 255]).buffer))"), expected);
    assert.equal(device.eval('hex(c.SHA256(String.fromCharCode(0x1ff)))'), sha256Hex([0xff]));
  });

  it("SHA1 and SHA512 match Node", () => {
    const device = bootDevice("");
    assert.equal(device.eval('btoa(require("crypto").SHA1("abc"))'),
      crypto.createHash("sha1").update("abc").digest("base64"));
    assert.equal(device.eval('btoa(require("crypto").SHA512("abc"))'),
      crypto.createHash("sha512").update("abc").digest("base64"));
  });

  it("SHA256 rejects undefined with a clear error", () => {
    const device = bootDevice("");
    assert.throws(() => device.eval('require("crypto").SHA256(undefined)'), /crypto\.SHA256 data must be/);
  });
});

describe("simulator binary strings", () => {
  it("btoa encodes strings, arrays and buffers", () => {
    const device = bootDevice("");
    assert.equal(device.eval('btoa("\\xff\\x00a")'), Buffer.from([0xff, 0, 0x61]).toString("base64"));
    assert.equal(device.eval("btoa([255, 0, 97])"), "/wBh");
    assert.equal(device.eval("btoa(new Uint8Array([255, 0, 97]).buffer)"), "/wBh");
  });

  it("atob skips characters that are not Base64", () => {
    const device = bootDevice("");
    assert.equal(device.eval('atob("SGVs bG8=")'), "Hello");
    // "-" and "_" are dropped, so Base64url input decodes to different bytes instead of failing.
    assert.equal(device.eval('atob("_-SGVsbG8=")'), "Hello");
    assert.equal(device.eval('atob("@@@")'), "");
    assert.equal(device.eval('atob("/wBh").charCodeAt(0)'), 255);
  });

  it("E.toString and E.toUint8Array join their arguments", () => {
    const device = bootDevice("");
    assert.equal(device.eval('E.toString("ab", 67, [68, 69], new Uint8Array([70]), {data: "G", count: 2})'),
      "abCDEFGG");
    assert.equal(device.eval('E.toUint8Array("a", [1, 258]).join(",")'), "97,1,2");
    assert.equal(device.eval('E.toUint8Array("a") instanceof Uint8Array'), true);
    assert.equal(device.eval('E.toFlatString("x", 121)'), "xy");
  });
});

describe("simulator globals", () => {
  it("process.env describes the ESP32 build", () => {
    const device = bootDevice("", { env: { EXTRA: "1" } });
    assert.equal(device.eval("process.env.VERSION"), "2v29");
    assert.equal(device.eval("process.env.BOARD"), "ESP32");
    assert.match(device.eval("process.env.MODULES"), /(^|,)crypto(,|$)/);
    assert.equal(device.eval("process.env.EXTRA"), "1");
  });

  it("process.memory and ESP32.getState give plausible numbers", () => {
    const device = bootDevice("");
    const memory = device.eval("process.memory()");
    assert.equal(memory.blocksize, 14);
    assert.ok(memory.free > 0);
    assert.ok(memory.free < memory.total);
    assert.equal(memory.usage + memory.free, memory.total);
    const state = device.eval("ESP32.getState()");
    assert.ok(state.freeHeap > 0);
    assert.equal(typeof state.sdkVersion, "string");
  });

  it("E helpers record flags, seeds and console", () => {
    const device = bootDevice('E.setFlags({pretokenise: 1}); E.srand(1234); E.setConsole("Serial1", {force: true});');
    assert.deepEqual(device.flags, { pretokenise: 1 });
    assert.equal(device.randomSeed, 1234);
    assert.equal(device.consoleDevice, "Serial1");
    assert.equal(device.eval("E.getErrorFlags().length"), 0);
    assert.equal(device.eval("E.getErrorFlags() instanceof Array"), true);
  });

  it("E init handlers run after the code", () => {
    const device = bootDevice('E.on("init", function () { print("init"); }); print("code");');
    assert.deepEqual(device.logs, ["code", "init"]);
  });

  it("require of an unknown module throws", () => {
    const device = bootDevice("");
    assert.throws(() => device.eval('require("fancy")'), /^Error: Module fancy not found$/);
    assert.equal(device.eval('try { require("fancy"); } catch (e) { e instanceof Error; }'), true);
  });

  it("TelnetServer mode is recorded", () => {
    const device = bootDevice("");
    assert.equal(device.telnetMode, "on");
    device.eval('require("TelnetServer").setOptions({mode: "off"})');
    assert.equal(device.telnetMode, "off");
  });

  it("console.log and print write lines", () => {
    const lines = [];
    const device = bootDevice('console.log("a", 1, {b: true}); print("x\\ny");', { onLog: (line) => lines.push(line) });
    assert.deepEqual(device.logs, ['a 1 {"b":true}', "x", "y"]);
    assert.deepEqual(lines, device.logs);
  });
});

describe("simulator uncaught errors", () => {
  it("records top-level, timer and promise errors", async () => {
    const device = bootDevice(`
      setTimeout(function () { throw new Error("from timer"); }, 1);
      Promise.reject(new Error("from promise"));
      throw new Error("from top level");
    `);
    await device.waitForLog(/from timer/, 2000);
    await device.waitForLog(/from promise/, 2000);
    const sources = device.uncaughtErrors.map((entry) => entry.source).sort();
    assert.deepEqual(sources, ["setTimeout callback", "top-level code", "unhandled promise rejection"]);
    assert.ok(device.logs.includes("Uncaught Error: from top level"));
  });

  it("passes errors to process uncaughtException handlers", async () => {
    const device = bootDevice(`
      process.on("uncaughtException", function (e) { print("handled " + e.message); });
      setTimeout(function () { throw new Error("late"); }, 1);
    `);
    await device.waitForLog(/^handled late$/, 2000);
    assert.equal(device.uncaughtErrors.length, 1);
    assert.equal(device.uncaughtErrors[0].handled, true);
    assert.ok(!device.logs.some((line) => line.startsWith("Uncaught")));
  });

  it("reports syntax errors in the code", () => {
    const device = bootDevice("var = ;");
    assert.equal(device.uncaughtErrors.length, 1);
    assert.match(device.uncaughtErrors[0].message, /^SyntaxError/);
  });
});

describe("simulator Storage", () => {
  it("writes and reads files in the folder", () => {
    const device = bootDevice("");
    device.eval('require("Storage").write("cfg", "a\\xffb")');
    assert.equal(device.eval('require("Storage").read("cfg")'), "a\xffb");
    assert.deepEqual([...fs.readFileSync(path.join(device.storageDir, "cfg"))], [0x61, 0xff, 0x62]);
    assert.equal(device.eval('require("Storage").read("missing")'), undefined);
    assert.equal(device.eval('require("Storage").read("cfg", 1, 1)'), "\xff");
  });

  it("writes piecewise with offset and size", () => {
    const device = bootDevice("");
    device.eval('require("Storage").write("big", "ab", 0, 6)');
    assert.equal(device.eval('require("Storage").read("big")'), "ab\xff\xff\xff\xff");
    device.eval('require("Storage").write("big", "cdef", 2)');
    assert.equal(device.eval('require("Storage").read("big")'), "abcdef");
    assert.throws(() => device.eval('require("Storage").write("big", "xyz", 5)'), /passes the file size 6/);
    assert.throws(() => device.eval('require("Storage").write("nofile", "x", 3)'), /does not exist/);
  });

  it("round-trips JSON in Espruino's dialect", () => {
    const device = bootDevice("");
    device.eval('require("Storage").writeJSON("state.json", {hub: "h.example", "odd-key": 1, list: [1, "\\xe9"]})');
    const raw = fs.readFileSync(path.join(device.storageDir, "state.json"), "latin1");
    assert.equal(raw, '{hub:"h.example","odd-key":1,list:[1,"\\xe9"]}');
    assert.equal(device.eval('JSON.stringify(require("Storage").readJSON("state.json"))'),
      '{"hub":"h.example","odd-key":1,"list":[1,"\\u00e9"]}');
    assert.throws(() => device.eval('JSON.parse(require("Storage").read("state.json"))'), { name: "SyntaxError" });
  });

  it("readJSON handles missing and invalid files", () => {
    const device = bootDevice("");
    device.eval('require("Storage").write("bad.json", "{oops")');
    assert.equal(device.eval('require("Storage").readJSON("none.json")'), undefined);
    assert.equal(device.eval('require("Storage").readJSON("bad.json", true)'), undefined);
    assert.throws(() => device.eval('require("Storage").readJSON("bad.json")'), /Storage\.readJSON\("bad\.json"\)/);
  });

  it("lists, erases and counts free space", () => {
    const device = bootDevice("");
    const freeBefore = device.eval('require("Storage").getFree()');
    device.eval('require("Storage").write("a.txt", "1"); require("Storage").write("b.json", "2")');
    assert.deepEqual([...device.eval('require("Storage").list()')], ["a.txt", "b.json"]);
    assert.deepEqual([...device.eval('require("Storage").list(/\\.json$/)')], ["b.json"]);
    assert.ok(device.eval('require("Storage").getFree()') < freeBefore);
    device.eval('require("Storage").erase("a.txt")');
    assert.deepEqual([...device.eval('require("Storage").list()')], ["b.json"]);
  });

  it("rejects names longer than 28 characters", () => {
    const device = bootDevice("");
    device.eval(`require("Storage").write("${"n".repeat(28)}", "ok")`);
    assert.throws(() => device.eval(`require("Storage").write("${"n".repeat(29)}", "x")`), /at most 28/);
  });

  it("keeps files across reboot", () => {
    const device = bootDevice('require("Storage").write("boots", String((parseInt(require("Storage").read("boots") || "0", 10)) + 1));');
    device.reboot();
    assert.equal(device.eval('require("Storage").read("boots")'), "2");
  });
});

describe("simulator WiFi", () => {
  const connectCode = (ssid, password) => `
    var Wifi = require("Wifi");
    Wifi.on("connected", function (d) { print("connected " + d.ip); });
    Wifi.on("disconnected", function (d) { print("disconnected " + d.reason + " " + d.msg); });
    function go() { Wifi.connect("${ssid}", {password: "${password}"}, function (err) { print("callback " + err); }); }
    go();
  `;

  it("2v29 calls back only on success", async () => {
    const device = bootDevice(connectCode("home", "wrong"), { wifi: { ssid: "home", password: "secret", attemptMs: 5 } });
    await device.waitForLog(/^disconnected 202 AUTH_FAIL$/, 2000);
    await delay(30);
    assert.ok(!device.logs.some((line) => line.startsWith("callback")));

    device.eval('Wifi.connect("home", {password: "secret"}, function (err) { print("callback " + err); })');
    await device.waitForLog(/^callback null$/, 2000);
    assert.ok(device.logs.includes("connected 192.168.4.23"));
    assert.equal(device.eval("Wifi.getIP().ip"), "192.168.4.23");
    assert.equal(device.eval("Wifi.getDetails().status"), "connected");
  });

  it("2v29 fails an unknown SSID", async () => {
    const device = bootDevice(connectCode("other", "secret"), { wifi: { ssid: "home", attemptMs: 5 } });
    await device.waitForLog(/^disconnected 201 NO_AP_FOUND$/, 2000);
    assert.equal(device.eval("Wifi.getIP().ip"), "0.0.0.0");
  });

  it("failuresBeforeSuccess fails the first attempts", async () => {
    const device = bootDevice(connectCode("home", "pw"), { wifi: { failuresBeforeSuccess: 2, attemptMs: 5 } });
    await device.waitForLog(/^disconnected 203 ASSOC_FAIL$/, 2000);
    device.eval("go()");
    await device.waitForLog(/^disconnected/, 2000, 1);
    device.eval("go()");
    await device.waitForLog(/^callback null$/, 2000);
    assert.equal(device.wifiAttempts, 3);
  });

  it("2v30 retries three times then calls back with the reason", async () => {
    const device = bootDevice(connectCode("home", "wrong"),
      { wifi: { password: "secret", firmwareVersion: "2v30", attemptMs: 5 } });
    await device.waitForLog(/^callback AUTH_FAIL$/, 2000);
    assert.equal(device.wifiAttempts, 3);
    assert.equal(device.logs.filter((line) => line.startsWith("disconnected")).length, 1);
    assert.equal(device.eval("process.env.VERSION"), "2v30");
  });

  it("2v30 succeeds within its own retries", async () => {
    const device = bootDevice(connectCode("home", "pw"),
      { wifi: { failuresBeforeSuccess: 2, firmwareVersion: "2v30", attemptMs: 5 } });
    await device.waitForLog(/^callback null$/, 2000);
    assert.ok(!device.logs.some((line) => line.startsWith("disconnected")));
  });

  it("drops the link after dropAfterMs", async () => {
    const device = bootDevice(connectCode("home", "pw"), { wifi: { dropAfterMs: 20, attemptMs: 5 } });
    await device.waitForLog(/^callback null$/, 2000);
    await device.waitForLog(/^disconnected 200 BEACON_TIMEOUT$/, 2000);
    assert.equal(device.eval("Wifi.getIP().ip"), "0.0.0.0");
  });

  it("setWifi drops the link at run time", async () => {
    const device = bootDevice(connectCode("home", "pw"), { wifi: { attemptMs: 5 } });
    await device.waitForLog(/^callback null$/, 2000);
    device.setWifi({ available: false });
    await device.waitForLog(/^disconnected 200/, 2000);
    device.eval("go()");
    await device.waitForLog(/^disconnected 201 NO_AP_FOUND$/, 2000);
  });

  it("restores a saved configuration at boot", async () => {
    const device = bootDevice(connectCode("home", "pw"), { wifi: { attemptMs: 5 } });
    await device.waitForLog(/^callback null$/, 2000);
    device.eval("Wifi.save()");
    assert.ok(fs.existsSync(path.join(device.storageDir, ".wificfg")));
    device.reboot({ code: 'require("Wifi").on("connected", function () { print("restored"); });' });
    await device.waitForLog(/^restored$/, 2000);
    device.eval('require("Wifi").save("clear")');
    assert.ok(!fs.existsSync(path.join(device.storageDir, ".wificfg")));
  });
});

describe("simulator lifecycle", () => {
  it("reboot runs kill handlers and resets the clock", () => {
    const device = bootDevice('E.on("kill", function () { print("kill"); });');
    device.eval("setTime(1767225600)");
    device.reboot();
    assert.ok(device.logs.includes("kill"));
    assert.ok(device.eval("Date.now()") < 60000);
  });

  it("reboot with keepClock keeps the time", () => {
    const device = bootDevice("");
    device.eval("setTime(1767225600)");
    device.reboot({ keepClock: true });
    assert.ok(device.eval("Date.now()") >= 1767225600000);
  });

  it("stop clears timers", async () => {
    const device = bootDevice('setInterval(function () { print("tick"); }, 5);');
    await device.waitForLog(/^tick$/, 2000);
    device.stop();
    const count = device.logs.length;
    await delay(30);
    assert.equal(device.logs.length, count);
  });

  it("waitForLog rejects on timeout", async () => {
    const device = bootDevice('print("only line");');
    await assert.rejects(device.waitForLog(/never/, 20), /No device log line matched \/never\/ within 20 ms/);
  });

  it("rejects invalid options", () => {
    assert.throws(() => createSimulatedDevice({}), /exactly one of options\.code and options\.bundlePath/);
    assert.throws(() => createSimulatedDevice({ code: "", hosts: { h: { address: "10.0.0.1", port: 1 } } }),
      /options\.hosts\["h"\]\.address must be a loopback/);
    assert.throws(() => createSimulatedDevice({ code: "", wifi: { firmwareVersion: "2v28" } }),
      /wifi\.firmwareVersion/);
  });

  it("runs a bundle file", () => {
    const dir = makeStorageDir();
    const bundlePath = path.join(dir, "bundle.js");
    fs.writeFileSync(bundlePath, '"use strict";(()=>{print("bundle " + typeof require("Storage").read);})();');
    const device = createSimulatedDevice({ bundlePath, storageDir: path.join(dir, "storage") });
    devices.push(device);
    device.boot();
    assert.deepEqual(device.logs, ["bundle function"]);
    assert.ok(fs.existsSync(path.join(dir, "storage")));
  });
});
