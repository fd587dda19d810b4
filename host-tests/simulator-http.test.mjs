// Tests of the simulator's `require("http")` against real TLS servers on 127.0.0.1, and one end-to-end run of a
// small ES5 provisioning client.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSimulatedDevice } from "../scripts/simulator/device.mjs";
import { startLoopbackHttpsServer, startLoopbackTlsServer } from "../scripts/simulator/loopback-https-server.mjs";

const HOST = "dps.example";
const devices = [];
const servers = [];

// Device code that connects WiFi and then defines `send(options, body)`, which logs every event.
const CLIENT = `
  var http = require("http");
  var events = [];
  function send(options, body) {
    var req = http.request(options, function (res) {
      print("status " + typeof res.statusCode + " " + res.statusCode);
      res.on("data", function (d) { events.push("data:" + d.length); print("data " + btoa(d)); });
      res.on("end", function () { events.push("end"); print("end"); });
      res.on("close", function () { events.push("close"); print("close"); });
    });
    req.on("error", function (e) { events.push("error:" + e.code); print("error " + e.code + " " + e.message); });
    req.end(body);
    return req;
  }
  require("Wifi").connect("net", {password: "pw"}, function () { print("wifi up"); });
`;

function makeStorageDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "simulator-http-test-"));
}

async function bootClient(port, extraCode, options) {
  const device = createSimulatedDevice({
    storageDir: makeStorageDir(),
    hosts: { [HOST]: { address: "127.0.0.1", port } },
    wifi: { attemptMs: 1 },
    code: CLIENT + (extraCode || ""),
    ...(options || {}),
  });
  devices.push(device);
  device.boot();
  await device.waitForLog(/^wifi up$/, 2000);
  return device;
}

async function httpsServer(handler) {
  const server = await startLoopbackHttpsServer(handler);
  servers.push(server);
  return server;
}

async function tlsServer(onSocket) {
  const server = await startLoopbackTlsServer(onSocket);
  servers.push(server);
  return server;
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function options(extra) {
  return JSON.stringify({ host: HOST, path: "/0ne000A1B2C/registrations/sensor-01/register?api-version=2021-06-01",
    method: "PUT", protocol: "https:", ...(extra || {}) });
}

afterEach(async () => {
  for (const device of devices.splice(0)) {
    device.stop();
  }
  for (const server of servers.splice(0)) {
    await server.close();
  }
});

describe("simulator http request", () => {
  it("sends method, path and headers as Espruino does", async () => {
    const server = await httpsServer((request, response) => response.end("{}"));
    const device = await bootClient(server.port);
    device.eval(`send(${options({ headers: { "content-type": "application/json", "Content-Length": 2 } })}, "{}")`);
    await device.waitForLog(/^close$/, 5000);

    const [request] = server.requests;
    assert.equal(request.method, "PUT");
    assert.equal(request.url, "/0ne000A1B2C/registrations/sensor-01/register?api-version=2021-06-01");
    assert.deepEqual(request.rawHeaders, ["User-Agent", "Espruino 2v29", "Connection", "close",
      "content-type", "application/json", "Content-Length", "2", "Host", HOST]);
    assert.equal(request.body, "{}");
    assert.equal(request.serverName, "mbed TLS Server 1");
  });

  it("adds no Content-Length", async () => {
    const server = await tlsServer((socket) => socket.end("HTTP/1.1 204 No Content\r\n\r\n"));
    const device = await bootClient(server.port);
    device.eval(`send(${options({ method: "POST" })}, "abc")`);
    await device.waitForLog(/^close$/, 5000);
    await delay(20);
    assert.ok(!/content-length/i.test(server.requests[0]), server.requests[0]);
    assert.ok(server.requests[0].startsWith("POST /0ne000A1B2C/"));
  });

  it("sends nothing before end", async () => {
    const server = await httpsServer((request, response) => response.end("ok"));
    const device = await bootClient(server.port);
    device.eval(`var pending = http.request(${options()}, function () {});`);
    await delay(50);
    assert.equal(server.requests.length, 0);
    assert.equal(device.httpRequests.length, 0);
    device.eval("pending.end()");
    await delay(100);
    assert.equal(server.requests.length, 1);
  });

  it("uses an explicit port and puts it in Host", async () => {
    const server = await httpsServer((request, response) => response.end("ok"));
    const device = await bootClient(1, "", { hosts: { [HOST]: { address: "127.0.0.1", port: 1 } } });
    device.eval(`send(${options({ port: server.port })})`);
    await device.waitForLog(/^close$/, 5000);
    assert.equal(server.requests[0].rawHeaders.at(-1), `${HOST}:${server.port}`);
    assert.equal(device.httpRequests[0].port, server.port);
  });

  it("reaches a loopback IP with a port directly", async () => {
    const server = await httpsServer((request, response) => response.end("ok"));
    const device = await bootClient(1);
    device.eval(`send(${options({ host: "127.0.0.1", port: server.port })})`);
    await device.waitForLog(/^close$/, 5000);
    assert.equal(server.requests.length, 1);
  });

  it("throws Unable to locate host for unknown names", async () => {
    const device = await bootClient(1);
    assert.throws(() => device.eval(`send(${options({ host: "elsewhere.example" })})`), /^Error: Unable to locate host$/);
    assert.throws(() => device.eval(`send(${options({ host: "10.1.2.3", port: 443 })})`), /Unable to locate host/);
  });

  it("throws Unable to locate host without WiFi", async () => {
    const server = await httpsServer((request, response) => response.end("ok"));
    const device = await bootClient(server.port);
    device.setWifi({ available: false });
    assert.throws(() => device.eval(`send(${options()})`), /Unable to locate host/);
    assert.equal(server.requests.length, 0);
  });

  it("allows one open connection at a time", async () => {
    let release;
    const server = await httpsServer((request, response) => {
      if (release === undefined) {
        release = () => response.end("late");
      } else {
        response.end("second");
      }
    });
    const device = await bootClient(server.port);
    device.eval(`send(${options({ headers: { "Content-Length": 0 } })})`);
    assert.throws(() => device.eval(`send(${options()})`), /^Error: Unable to create socket$/);
    while (release === undefined) {
      await delay(5);
    }
    release();
    await device.waitForLog(/^close$/, 5000);
    device.eval(`send(${options({ headers: { "Content-Length": 0 } })})`);
    await device.waitForLog(/^close$/, 5000, device.logs.indexOf("close") + 1);
    assert.equal(server.requests.length, 2);
  });

  it("writes typed arrays as their text", async () => {
    const server = await httpsServer((request, response) => response.end("ok"));
    const device = await bootClient(server.port);
    device.eval(`send(${options({ headers: { "Content-Length": 5 } })}, new Uint8Array([1, 2, 3]))`);
    await device.waitForLog(/^close$/, 5000);
    assert.equal(server.requests[0].body, "1,2,3");
  });
});

describe("simulator http response", () => {
  it("gives a string status, server header case and binary chunks", async () => {
    const body = Buffer.alloc(1300);
    for (let i = 0; i < body.length; i++) {
      body[i] = i % 256;
    }
    const server = await httpsServer((request, response) => {
      response.writeHead(202, { "Retry-After": "3", "Content-Length": body.length });
      response.end(body);
    });
    const device = await bootClient(server.port, `
      var received = "", seen = {};
      var probe = http.request(${options()}, function (res) {
        seen.type = typeof res.statusCode; seen.status = res.statusCode;
        seen.exact = res.headers["Retry-After"]; seen.lower = res.headers["retry-after"];
        res.on("data", function (d) { received += d; events.push("data:" + d.length); });
        res.on("end", function () { events.push("end"); });
        res.on("close", function (hadError) { events.push("close:" + hadError); print("close"); });
      });
      probe.on("error", function (e) { events.push("error:" + e.code); print("late error"); });
    `);
    device.eval("probe.end()");
    await device.waitForLog(/^late error$/, 5000);

    assert.equal(device.eval("seen.type"), "string");
    assert.equal(device.eval("seen.status"), "202");
    assert.equal(device.eval("seen.exact"), "3");
    assert.equal(device.eval("seen.lower"), undefined);
    assert.deepEqual(Buffer.from(device.eval("received"), "latin1"), body);
    assert.deepEqual([...device.eval("events")],
      ["data:536", "data:536", "data:228", "end", "close:false", "error:-30848"]);
    assert.deepEqual(device.httpRequests[0].lateError, { code: -30848,
      message: "SSL - The peer notified us that the connection is going to be closed" });
    assert.equal(device.httpRequests[0].statusCode, 202);
  });

  it("de-chunks chunked responses", async () => {
    const server = await httpsServer((request, response) => {
      response.write("hello ");
      setTimeout(() => response.end("world"), 10);
    });
    const device = await bootClient(server.port, 'var text = ""; function collect(d) { text += d; }');
    device.eval(`http.request(${options()}, function (res) { res.on("data", collect); res.on("close", function () { print("done"); }); }).end()`);
    await device.waitForLog(/^done$/, 5000);
    assert.equal(device.eval("text"), "hello world");
  });

  it("cuts off a body without framing", async () => {
    const server = await tlsServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nfirst");
      setTimeout(() => socket.end("second"), 50);
    });
    const device = await bootClient(server.port, 'var text = "";');
    device.eval(`http.request(${options()}, function (res) { res.on("data", function (d) { text += d; }); res.on("close", function () { print("done"); }); }).end()`);
    await device.waitForLog(/^done$/, 5000);
    assert.equal(device.eval("text"), "first");
  });

  it("reports -15 when the server closes before headers", async () => {
    const server = await tlsServer((socket) => socket.end());
    const device = await bootClient(server.port);
    device.eval(`send(${options()})`);
    assert.equal(await device.waitForLog(/^error /, 5000), "error -15 no response");
    assert.deepEqual(device.httpRequests[0].error, { code: -15, message: "no response" });
  });

  it("ends quietly when the body is short", async () => {
    const server = await tlsServer((socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    const device = await bootClient(server.port);
    device.eval(`send(${options()})`);
    await device.waitForLog(/^close$/, 5000);
    await delay(30);
    assert.deepEqual([...device.eval("events")], ["data:3", "end", "close"]);
  });

  it("closes the socket on clsNow", async () => {
    let serverSocketClosed = false;
    const server = await tlsServer((socket) => {
      socket.on("close", () => {
        serverSocketClosed = true;
      });
    });
    const device = await bootClient(server.port);
    device.eval(`var hung = send(${options()})`);
    while (server.requests.length === 0) {
      await delay(5);
    }
    device.eval("hung.clsNow = true");
    await delay(100);
    assert.equal(serverSocketClosed, true);
    assert.deepEqual([...device.eval("events")], []);
    device.eval(`send(${options()})`);
    await delay(50);
    assert.equal(server.requests.length, 2);
  });

  it("removes a data handler that throws", async () => {
    const server = await httpsServer((request, response) => response.end("x".repeat(1000)));
    const device = await bootClient(server.port, "var calls = 0;");
    device.eval(`http.request(${options()}, function (res) { res.on("data", function () { calls++; throw new Error("bad handler"); }); res.on("close", function () { print("done"); }); }).end()`);
    await device.waitForLog(/^done$/, 5000);
    assert.equal(device.eval("calls"), 1);
    assert.equal(device.uncaughtErrors[0].source, 'http response "data" handler');
    assert.deepEqual([...device.eval("E.getErrorFlags()")], ["CALLBACK"]);
  });

  it("stalls unread data until a listener is attached", async () => {
    const server = await httpsServer((request, response) => response.end("b".repeat(2000)));
    const device = await bootClient(server.port, 'var late = "", lateResponse;');
    device.eval(`http.request(${options()}, function (res) { lateResponse = res; res.on("close", function () { print("done"); }); }).end()`);
    await delay(150);
    assert.deepEqual(device.logs.filter((line) => line === "done"), []);
    device.eval('lateResponse.on("data", function (d) { late += d; })');
    await device.waitForLog(/^done$/, 5000);
    assert.equal(device.eval("late"), "b".repeat(2000));
  });

  it("never records header values", async () => {
    const server = await httpsServer((request, response) => response.end("ok"));
    const device = await bootClient(server.port);
    device.eval(`send(${options({ headers: { Authorization: "SharedAccessSignature sig=TOPSECRET" } })})`);
    await device.waitForLog(/^close$/, 5000);
    assert.deepEqual(device.httpRequests[0].headerNames, ["Authorization"]);
    assert.ok(!JSON.stringify(device.httpRequests).includes("TOPSECRET"));
  });
});

// An ES5 client as the firmware would be: HMAC-SHA256 over crypto.SHA256, clock from the Date header, PUT, poll
// with Retry-After, and the result saved with Storage.writeJSON.
const PROVISIONING_CLIENT = `
  var crypto = require("crypto"), Storage = require("Storage");
  function hmac(key, message) {
    var inner = new Uint8Array(64), outer = new Uint8Array(64);
    for (var i = 0; i < 64; i++) {
      var k = i < key.length ? key.charCodeAt(i) : 0;
      inner[i] = k ^ 0x36; outer[i] = k ^ 0x5c;
    }
    return crypto.SHA256(E.toString(outer) + E.toString(crypto.SHA256(E.toString(inner) + message)));
  }
  function call(method, path, body, done) {
    var finished = false, text = "";
    var headers = { "Content-Type": "application/json", "Content-Length": body.length };
    if (method === "PUT") {
      var expiry = Math.floor(Date.now() / 1000) + 3600;
      var resource = "0ne000A1B2C%2Fregistrations%2Fsensor-01";
      headers.Authorization = "SharedAccessSignature sr=" + resource + "&sig=" +
        encodeURIComponent(btoa(hmac(atob(DEVICE_KEY), resource + "\\n" + expiry))) + "&se=" + expiry + "&skn=registration";
    }
    var req = require("http").request({ host: "${HOST}", path: path, method: method, protocol: "https:", headers: headers },
      function (res) {
        res.on("data", function (d) { text += d; });
        res.on("close", function () {
          if (finished) return;
          finished = true;
          var date = res.headers.Date || res.headers.date;
          if (date && Date.now() < 1000000000000) setTime(Date.parse(date) / 1000);
          done(parseInt(res.statusCode, 10), res.headers["Retry-After"] || res.headers["retry-after"], JSON.parse(text));
        });
      });
    req.on("error", function (e) { if (!finished) { finished = true; print("request failed " + e.code); } });
    req.end(body);
  }
  function poll(operationId) {
    call("GET", "/0ne000A1B2C/registrations/sensor-01/operations/" + operationId + "?api-version=2021-06-01", "",
      function (status, retryAfter, result) {
        if (result.status === "assigning") { setTimeout(function () { poll(operationId); }, parseInt(retryAfter, 10) * 1000); return; }
        Storage.writeJSON("dps.json", { hub: result.registrationState.assignedHub, device: result.registrationState.deviceId });
        print("assigned " + result.registrationState.assignedHub);
      });
  }
  require("Wifi").connect("net", { password: "pw" }, function () {
    call("GET", "/time", "", function () {
      call("PUT", "/0ne000A1B2C/registrations/sensor-01/register?api-version=2021-06-01",
        JSON.stringify({ registrationId: "sensor-01" }),
        function (status, retryAfter, result) { print("registering " + status); setTimeout(function () { poll(result.operationId); }, parseInt(retryAfter, 10) * 1000); });
    });
  });
`;

describe("simulator end to end", () => {
  it("provisions against a loopback HTTPS server", async () => {
    const deviceKey = "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=";
    const signatures = [];
    let polls = 0;
    const server = await httpsServer((request, response, body) => {
      response.setHeader("Date", "Thu, 01 Jan 2026 00:00:00 GMT");
      response.setHeader("Content-Type", "application/json");
      if (request.url === "/time") {
        response.end("{}");
        return;
      }
      if (request.method === "PUT") {
        const token = new URLSearchParams(request.headers.authorization.replace("SharedAccessSignature ", ""));
        const expected = crypto.createHmac("sha256", Buffer.from(deviceKey, "base64"))
          .update(encodeURIComponent("0ne000A1B2C/registrations/sensor-01") + "\n" + token.get("se"))
          .digest("base64");
        signatures.push({ matches: token.get("sig") === expected, expiry: Number(token.get("se")), body });
        response.setHeader("Retry-After", "1");
        response.statusCode = 202;
        response.end(JSON.stringify({ operationId: "5.abc.def", status: "assigning" }));
        return;
      }
      polls += 1;
      if (polls === 1) {
        response.setHeader("Retry-After", "1");
        response.statusCode = 202;
        response.end(JSON.stringify({ operationId: "5.abc.def", status: "assigning" }));
        return;
      }
      response.end(JSON.stringify({ operationId: "5.abc.def", status: "assigned",
        registrationState: { assignedHub: "example-hub.azure-devices.net", deviceId: "sensor-01", status: "assigned" } }));
    });

    const device = createSimulatedDevice({
      storageDir: makeStorageDir(),
      hosts: { [HOST]: { address: "127.0.0.1", port: server.port } },
      wifi: { ssid: "net", password: "pw", attemptMs: 1 },
      code: `var DEVICE_KEY = "${deviceKey}";` + PROVISIONING_CLIENT,
    });
    devices.push(device);
    device.boot();
    await device.waitForLog(/^assigned /, 15000);

    assert.equal(signatures.length, 1);
    assert.equal(signatures[0].matches, true);
    assert.equal(signatures[0].expiry, 1767225600 + 3600);
    assert.equal(signatures[0].body, '{"registrationId":"sensor-01"}');
    assert.equal(polls, 2);
    assert.deepEqual(device.eval('JSON.stringify(require("Storage").readJSON("dps.json"))'),
      '{"hub":"example-hub.azure-devices.net","device":"sensor-01"}');
    assert.deepEqual(device.httpRequests.map((record) => `${record.method} ${record.statusCode}`),
      ["GET 200", "PUT 202", "GET 202", "GET 200"]);
    // The late close-notify errors were ignored because the client guards with a flag.
    assert.equal(device.uncaughtErrors.length, 0);
    assert.ok(!device.logs.some((line) => line.includes(deviceKey)));
  });
});
