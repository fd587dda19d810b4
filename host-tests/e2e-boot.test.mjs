// End to end on the board's side: WiFi, clock, configuration, cached assignment, BOOT button and Telnet, with the
// bundle in the simulator against the emulator.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deriveDeviceKey } from "../firmware/core/sas.ts";
import { hostSha256 } from "../scripts/lib/demo-setup.mjs";
import { dpsRequests, sleep, startEndToEnd } from "./support/e2e.mjs";

const WIFI = { ssid: "demo-wifi", password: "demo-wifi-password" };

function editStoredConfig(demo, edit) {
  const path = join(demo.storageDir, "dpscfg.json");
  const config = JSON.parse(readFileSync(path, "utf8"));
  edit(config);
  writeFileSync(path, JSON.stringify(config));
}

describe("cached assignment", function () {
  this.timeout(60000);
  let demo;

  afterEach(async () => {
    if (demo) await demo.close();
    demo = undefined;
  });

  it("warm boot makes no DPS request", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);
    const before = dpsRequests(demo.emulator).length;

    demo.device.reboot();
    await demo.device.waitForLog(/using the cached assignment hub=localhost deviceId=demo-sensor-01/, 30000,
      demo.device.logs.length);
    await sleep(2000);

    assert.equal(dpsRequests(demo.emulator).length, before, "the warm boot sent a DPS request");
    assert.equal(demo.device.eval("dps.status().assignmentSource"), "cache");
  });

  it("changed registration ID provisions again", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    editStoredConfig(demo, (config) => {
      config.dps.registrationId = "demo-sensor-02";
      config.dps.deviceKey = deriveDeviceKey(hostSha256, demo.enrollmentKey, "demo-sensor-02");
    });
    demo.device.reboot();

    await demo.device.waitForLog(/dps.registrationId changed since the assignment was cached/, 30000, demo.device.logs.length);
    await demo.device.waitForLog(/assigned hub=localhost deviceId=demo-sensor-02/, 30000);
    assert.ok(dpsRequests(demo.emulator).some((r) => r.registrationId === "demo-sensor-02"));
  });

  it("changed key provisions again", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);
    const before = dpsRequests(demo.emulator).length;

    const otherKey = randomBytes(32).toString("base64");
    editStoredConfig(demo, (config) => {
      config.dps.deviceKey = otherKey;
    });
    demo.device.reboot();

    await demo.device.waitForLog(/the device key changed since the assignment was cached/, 30000, demo.device.logs.length);
    // The made-up key is not the enrollment's, so DPS rejects it; what matters is that the device asked DPS again.
    await demo.device.waitForLog(/DPS_UNAUTHORIZED/, 30000);
    assert.ok(dpsRequests(demo.emulator).length > before, "the device did not register again");
  });

  it("dps.forget() and dps.provision() register again", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    assert.equal(demo.device.eval("dps.forget()"), "cached assignment forgotten");
    assert.equal(demo.device.eval("require('Storage').read('dpsassign.json')"), undefined);

    const logIndex = demo.device.logs.length;
    assert.equal(demo.device.eval("dps.provision()"), "provisioning started");
    await demo.device.waitForLog(/assigned hub=/, 30000, logIndex);
  });

  it("BOOT button at start forgets the cache", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);
    const before = dpsRequests(demo.emulator).length;

    demo.device.pinInputs = { D0: 0 };
    const logIndex = demo.device.logs.length;
    demo.device.reboot();
    await demo.device.waitForLog(/BOOT button pressed at start/, 10000, logIndex);
    demo.device.pinInputs = {};

    await demo.device.waitForLog(/assigned hub=/, 30000, logIndex);
    assert.ok(dpsRequests(demo.emulator).length > before, "the device did not register again");
  });
});

describe("WiFi and clock", function () {
  this.timeout(60000);
  let demo;

  afterEach(async () => {
    if (demo) await demo.close();
    demo = undefined;
  });

  // Espruino 2v30 retries three times inside connect() before it reports an error, so it needs more failures for the
  // firmware's own retry to show.
  for (const [firmwareVersion, failures] of [["2v29", 2], ["2v30", 4]]) {
    it(`WiFi failing ${failures} times still provisions (${firmwareVersion})`, async () => {
      demo = await startEndToEnd({ wifi: { ...WIFI, failuresBeforeSuccess: failures, firmwareVersion } });
      demo.device.boot();

      await demo.device.waitForLog(/assigned hub=/, 45000);
      const retries = demo.device.logs.filter((line) => /wifi: connection to "demo-wifi" failed/.test(line));
      assert.ok(retries.length >= 1, "the device logged no WiFi retry");
      assert.deepEqual(demo.device.uncaughtErrors, []);
    });
  }

  it("wrong WiFi password keeps retrying with backoff", async () => {
    demo = await startEndToEnd({ wifi: { ssid: "demo-wifi", password: "another-password" } });
    demo.device.boot();
    await sleep(12000);

    const attempts = demo.device.logs.filter((line) => /wifi: connection to "demo-wifi" failed/.test(line)).length;
    assert.ok(attempts >= 2, `expected several retries in 12 s, got ${attempts}`);
    assert.ok(attempts <= 6, `expected backoff between retries, got ${attempts} attempts in 12 s`);
    assert.equal(demo.device.httpRequests.length, 0);
  });

  it("reconnects after the link drops", async () => {
    demo = await startEndToEnd({ wifi: { ...WIFI, dropAfterMs: 4000 } });
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    await demo.device.waitForLog(/wifi: disconnected from "demo-wifi".*reconnecting/, 15000);
    await demo.device.waitForLog(/wifi: connected to "demo-wifi"/, 15000, demo.device.logs.findIndex((l) => /disconnected/.test(l)));
  });

  it("signs nothing until the clock is set", async () => {
    // The emulator's clock is in 1970, so its Date header is before the firmware build time and must be ignored.
    demo = await startEndToEnd({ emulatorNowMs: () => 0 });
    demo.device.boot();
    await sleep(6000);

    const withToken = demo.device.httpRequests.filter((r) => (r.headerNames ?? []).includes("Authorization"));
    assert.equal(withToken.length, 0, "the device signed a token with its clock in 1970");
    assert.ok(demo.device.httpRequests.length >= 1, "the device never asked for the time");
    assert.ok(demo.device.logs.some((line) => /clock: ignored a Date header before the firmware build time/.test(line)));
    assert.deepEqual(demo.device.uncaughtErrors, []);
  });

  it("first request reads the clock unsigned", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    const first = demo.device.httpRequests[0];
    assert.equal(first.method, "GET");
    assert.ok(!(first.headerNames ?? []).includes("Authorization"));
    assert.ok(demo.device.httpRequests[1].headerNames.includes("Authorization"));
  });
});

describe("configuration at boot", function () {
  this.timeout(30000);
  let demo;

  afterEach(async () => {
    if (demo) await demo.close();
    demo = undefined;
  });

  // Case name, the change to a valid configuration, and what the error must say.
  const cases = [
    ["registration ID character", (c) => { c.dps.registrationId = "bad id!"; }, /dps\.registrationId breaks the DPS rules/],
    ["registration ID last character", (c) => { c.dps.registrationId = "ends-with-dot."; }, /must end with a letter, a digit or '-'/],
    ["device key not Base64", (c) => { c.dps.deviceKey = "not-base64"; }, /dps\.deviceKey is not valid Base64/],
    ["group key as device key", (c) => { c.dps.deviceKey = randomBytes(64).toString("base64"); }, /almost always the group key pasted by mistake/],
    ["device key too short", (c) => { c.dps.deviceKey = randomBytes(8).toString("base64"); }, /decodes to 8 bytes/],
    ["missing ID scope", (c) => { delete c.dps.idScope; }, /dps\.idScope is missing/],
    ["unknown enrollment kind", (c) => { c.dps.enrollment = "groups"; }, /dps\.enrollment must be "individual" or "group"/],
    ["group key on device", (c) => { delete c.dps.deviceKey; c.dps.groupKey = randomBytes(64).toString("base64"); }, /dps\.groupKey must not be stored on a device/],
    ["DPS token TTL too long", (c) => { c.dps.tokenTtlSeconds = 86400; }, /dps\.tokenTtlSeconds must be a whole number of seconds from 60 to 900/],
    ["missing wifi section", (c) => { delete c.wifi; }, /wifi is missing/],
    ["unknown log level", (c) => { c.device = { logLevel: "verbose" }; }, /device\.logLevel must be one of/],
  ];

  for (const [name, edit, message] of cases) {
    it(`reports ${name}`, async () => {
      demo = await startEndToEnd({ editConfig: (config) => { const copy = structuredClone(config); edit(copy); return copy; } });
      demo.device.boot();

      const line = await demo.device.waitForLog(/\[error\] config: /, 10000);
      assert.match(line, message);
      await sleep(1500);
      assert.equal(demo.device.eval("dps.status().phase"), "config-invalid");
      assert.deepEqual(demo.device.uncaughtErrors, []);
      assert.equal(demo.device.httpRequests.length, 0);
    });
  }

  it("reports a missing configuration file", async () => {
    demo = await startEndToEnd();
    unlinkSync(join(demo.storageDir, "dpscfg.json"));
    demo.device.boot();

    const line = await demo.device.waitForLog(/\[error\] config: /, 10000);
    assert.match(line, /Storage file "dpscfg.json" is missing/);
    assert.deepEqual(demo.device.uncaughtErrors, []);
  });

  it("turns the Telnet console off", async () => {
    demo = await startEndToEnd();
    demo.device.boot();
    await demo.device.waitForLog(/starting/, 5000);

    assert.equal(demo.device.telnetMode, "off");
  });
});
