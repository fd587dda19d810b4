// End to end: what the device trusts. The assigned hub must match trust.hubSuffixes before the device sends it
// anything, the DPS host must match trust.dpsSuffixes, and the tokens the emulator receives must be short-lived.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateDeviceConfig } from "../firmware/core/config.ts";
import { ASSIGNMENT_FILE_NAME, CONFIG_FILE_NAME, MAX_DPS_TOKEN_TTL_SECONDS, MAX_HUB_TOKEN_TTL_SECONDS }
  from "../firmware/core/constants.ts";
import { deriveDeviceKey } from "../firmware/core/sas.ts";
import { DEMO_ID_SCOPE, hostSha256 } from "../scripts/lib/demo-setup.mjs";
import { startEmulator } from "../scripts/emulator/server.mjs";
import { createSimulatedDevice } from "../scripts/simulator/device.mjs";
import { BUNDLE_PATH, collectReceivedSecrets, sleep, startEndToEnd, suiteLog, waitFor } from "./support/e2e.mjs";

const REGISTRATION_ID = "trust-sensor-01";
const ROGUE_HUB = "rogue-hub.example.net";

/**
 * Starts an emulator that assigns `hubHostName` and a device that can reach both "localhost" and that hub name (at
 * the emulator), so a refusal to contact the hub is the firmware's own decision and not a missing host.
 */
async function startWithHub(hubHostName, editConfig = (config) => config) {
  const groupKey = randomBytes(64).toString("base64");
  const deviceKey = deriveDeviceKey(hostSha256, groupKey, REGISTRATION_ID);
  suiteLog.secrets.add(groupKey);
  suiteLog.secrets.add(deviceKey);

  const emulatorLines = [];
  const emulator = await startEmulator({
    enrollments: { idScope: DEMO_ID_SCOPE, individual: [], groups: [{ enrollmentGroupId: "trust-group", primaryKey: groupKey }] },
    hubHostName,
    knobs: { retryAfterSeconds: 1 },
    log: (line) => {
      emulatorLines.push(line);
      suiteLog.lines.push(line);
    },
  });

  const config = editConfig({
    wifi: { ssid: "trust-wifi", password: "trust-wifi-password" },
    dps: { idScope: DEMO_ID_SCOPE, registrationId: REGISTRATION_ID, enrollment: "group", deviceKey, host: "localhost",
      port: emulator.port },
    hub: { port: emulator.port },
    trust: { dpsSuffixes: ["localhost"], hubSuffixes: ["localhost"] },
    telemetry: { demoReadings: false },
  });
  const storageDir = mkdtempSync(join(tmpdir(), "espruino-dps-trust-"));
  writeFileSync(join(storageDir, CONFIG_FILE_NAME), JSON.stringify(config));

  const loopback = { address: "127.0.0.1", port: emulator.port };
  const device = createSimulatedDevice({
    bundlePath: BUNDLE_PATH,
    storageDir,
    hosts: { localhost: loopback, [ROGUE_HUB]: loopback, "dps.example.net": loopback },
    wifi: { ssid: "trust-wifi", password: "trust-wifi-password" },
    onLog: (line) => suiteLog.lines.push(line),
  });

  return {
    emulator,
    emulatorLines,
    device,
    storageDir,
    close: async () => {
      collectReceivedSecrets(emulator);
      device.stop();
      await emulator.close();
    },
  };
}

describe("trust of the assigned hub", function () {
  this.timeout(60000);
  let run;

  afterEach(async () => {
    if (run) await run.close();
    run = undefined;
  });

  it("refuses a hub outside hubSuffixes", async () => {
    run = await startWithHub(ROGUE_HUB);
    run.device.boot();

    const line = await run.device.waitForLog(/\[error\] dps: UNTRUSTED_HOST/, 30000);
    assert.match(line, /"rogue-hub\.example\.net", which matches none of trust\.hubSuffixes \["localhost"\]/);
    await sleep(3000);

    assert.equal(run.device.eval("dps.status().phase"), "failed");
    assert.match(run.device.eval("dps.status().lastError"), /^UNTRUSTED_HOST/);
    assert.equal(run.device.eval("dps.status().assignedHub"), undefined);
    assert.deepEqual(run.device.httpRequests.filter((request) => request.host === ROGUE_HUB), [],
      "the device opened a connection to the untrusted hub");
    assert.deepEqual(run.emulator.requests.filter((request) => request.path.startsWith("/devices/")), [],
      "the emulator received a hub request");
    assert.deepEqual(run.device.uncaughtErrors, []);
  });

  it("does not cache an untrusted hub", async () => {
    run = await startWithHub(ROGUE_HUB);
    run.device.boot();
    await run.device.waitForLog(/\[error\] dps: UNTRUSTED_HOST/, 30000);
    assert.equal(existsSync(join(run.storageDir, ASSIGNMENT_FILE_NAME)), false, "the untrusted assignment was stored");

    // After a reboot the device must ask DPS again instead of using a cached assignment.
    const registersBefore = run.emulator.requests.filter((request) => request.method === "PUT").length;
    run.device.reboot({ keepClock: true });
    await run.device.waitForLog(/\[error\] dps: UNTRUSTED_HOST/, 30000, run.device.logs.length);
    const registersAfter = run.emulator.requests.filter((request) => request.method === "PUT").length;

    assert.equal(registersAfter, registersBefore + 1);
    assert.ok(!run.device.logs.some((line) => /using the cached assignment/.test(line)));
    assert.deepEqual(run.device.httpRequests.filter((request) => request.host === ROGUE_HUB), []);
  });

  it("accepts the same hub once trusted", async () => {
    run = await startWithHub(ROGUE_HUB, (config) => ({ ...config, trust: { ...config.trust, hubSuffixes: [".example.net"] } }));
    run.device.boot();

    await run.device.waitForLog(/assigned hub=rogue-hub\.example\.net/, 30000);
    await waitFor(() => run.device.httpRequests.some((request) => request.host === ROGUE_HUB), 10000,
      "a request to the trusted hub");
    assert.ok(existsSync(join(run.storageDir, ASSIGNMENT_FILE_NAME)));
    assert.deepEqual(run.device.uncaughtErrors, []);
  });
});

describe("trust of the DPS host", function () {
  this.timeout(30000);
  let run;

  afterEach(async () => {
    if (run) await run.close();
    run = undefined;
  });

  it("sends nothing to a DPS host outside dpsSuffixes", async () => {
    run = await startWithHub("localhost", (config) => ({ ...config, dps: { ...config.dps, host: "dps.example.net" } }));
    run.device.boot();

    const line = await run.device.waitForLog(/\[error\] config: dps\.host /, 10000);
    assert.match(line, /"dps\.example\.net" does not match trust\.dpsSuffixes \["localhost"\]/);
    await sleep(2000);

    assert.equal(run.device.eval("dps.status().phase"), "config-invalid");
    assert.deepEqual(run.device.httpRequests, []);
    assert.deepEqual(run.emulator.requests, []);
  });

  // Host names that look trusted but are not, against the default suffix ".azure-devices-provisioning.net".
  const lookalikes = [
    "global.azure-devices-provisioning.net.example.com",
    "global-azure-devices-provisioning.net",
    "azure-devices-provisioning.net",
    "evil.example.com",
  ];
  for (const host of lookalikes) {
    it(`rejects DPS host ${host}`, () => {
      const result = validateDeviceConfig({
        wifi: { ssid: "trust-wifi" },
        dps: { idScope: DEMO_ID_SCOPE, registrationId: REGISTRATION_ID, enrollment: "individual",
          deviceKey: randomBytes(32).toString("base64"), host },
      });

      assert.equal(result.config, undefined);
      assert.deepEqual(result.problems.map((problem) => problem.field), ["dps.host"]);
      assert.match(result.problems[0].message, /does not match trust\.dpsSuffixes/);
    });
  }

  it("accepts the real DPS host by default", () => {
    const result = validateDeviceConfig({
      wifi: { ssid: "trust-wifi" },
      dps: { idScope: DEMO_ID_SCOPE, registrationId: REGISTRATION_ID, enrollment: "individual",
        deviceKey: randomBytes(32).toString("base64") },
    });

    assert.deepEqual(result.problems, []);
    assert.equal(result.config.dps.host, "global.azure-devices-provisioning.net");
  });
});

describe("token lifetimes on the wire", function () {
  this.timeout(60000);
  let demo;

  afterEach(async () => {
    if (demo) await demo.close();
    demo = undefined;
  });

  it("keeps DPS tokens within 15 min and hub tokens within 60 min", async () => {
    demo = await startEndToEnd({ knobs: { retryAfterSeconds: 1 }, editConfig: (config) => ({ ...config, telemetry: { demoReadings: false } }) });
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);
    await waitFor(() => demo.emulator.receivedTokens.some((received) => received.path.startsWith("/devices/")), 10000,
      "a hub request with a token");

    const dpsTokens = demo.emulator.receivedTokens.filter((received) => received.path.includes("/registrations/"));
    const hubTokens = demo.emulator.receivedTokens.filter((received) => received.path.startsWith("/devices/"));
    assert.ok(dpsTokens.length >= 2, `expected tokens on the register PUT and a poll, got ${dpsTokens.length}`);

    // The device sets its clock from the emulator's Date header, which has whole seconds, so `se` minus the
    // emulator's clock can exceed the lifetime by less than one second.
    for (const received of dpsTokens) {
      const lifetimeSeconds = received.expiryEpochSeconds - received.atMs / 1000;
      assert.ok(lifetimeSeconds > 0, `a DPS token arrived expired (${lifetimeSeconds} s)`);
      assert.ok(lifetimeSeconds <= MAX_DPS_TOKEN_TTL_SECONDS + 1, `a DPS token lives ${lifetimeSeconds} s`);
    }
    for (const received of hubTokens) {
      const lifetimeSeconds = received.expiryEpochSeconds - received.atMs / 1000;
      assert.ok(lifetimeSeconds > 0, `a hub token arrived expired (${lifetimeSeconds} s)`);
      assert.ok(lifetimeSeconds <= MAX_HUB_TOKEN_TTL_SECONDS + 1, `a hub token lives ${lifetimeSeconds} s`);
    }
    assert.equal(MAX_DPS_TOKEN_TTL_SECONDS, 900);
    assert.equal(MAX_HUB_TOKEN_TTL_SECONDS, 3600);
  });

  for (const [section, ttlSeconds] of [["dps", 901], ["hub", 3601]]) {
    it(`rejects ${section}.tokenTtlSeconds ${ttlSeconds}`, () => {
      const config = {
        wifi: { ssid: "trust-wifi" },
        dps: { idScope: DEMO_ID_SCOPE, registrationId: REGISTRATION_ID, enrollment: "individual",
          deviceKey: randomBytes(32).toString("base64") },
      };
      config[section] = { ...config[section], tokenTtlSeconds: ttlSeconds };

      const result = validateDeviceConfig(config);
      assert.deepEqual(result.problems.map((problem) => problem.field), [`${section}.tokenTtlSeconds`]);
    });
  }
});
