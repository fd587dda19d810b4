// End to end: dist/firmware.js in the simulator registers with the emulator over TLS.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deriveDeviceKey } from "../firmware/core/sas.ts";
import { hostSha256 } from "../scripts/lib/demo-setup.mjs";
import { dpsRequests, sleep, startEndToEnd } from "./support/e2e.mjs";

describe("provisioning end to end", function () {
  this.timeout(60000);
  let demo;

  afterEach(async () => {
    if (demo) await demo.close();
    demo = undefined;
  });

  for (const enrollment of ["group", "individual"]) {
    it(`assigns ${enrollment} enrollment`, async () => {
      demo = await startEndToEnd({ enrollment, knobs: { retryAfterSeconds: 1, assignmentDelayMs: 500 } });
      demo.device.boot();

      const line = await demo.device.waitForLog(/assigned hub=/, 30000);
      assert.match(line, /assigned hub=localhost deviceId=demo-sensor-01/);
      assert.equal(demo.device.eval("dps.status().phase"), "assigned");
      assert.deepEqual(demo.device.uncaughtErrors, []);
    });
  }

  it("waits Retry-After between polls", async () => {
    demo = await startEndToEnd({ knobs: { retryAfterSeconds: 2, assignmentDelayMs: 5000 } });
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    const times = dpsRequests(demo.emulator).map((r) => r.atMs);
    assert.ok(times.length >= 3, `expected a register and at least two polls, got ${times.length} requests`);
    for (let i = 1; i < times.length; i++) {
      const gapMs = times[i] - times[i - 1];
      assert.ok(gapMs >= 1950, `gap ${i} was ${gapMs} ms, shorter than Retry-After 2 s`);
      assert.ok(gapMs < 3500, `gap ${i} was ${gapMs} ms, far longer than Retry-After 2 s`);
    }
  });

  it("polls every 2 s without Retry-After", async () => {
    demo = await startEndToEnd({ knobs: { retryAfterSeconds: null, assignmentDelayMs: 4500 } });
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    const times = dpsRequests(demo.emulator).map((r) => r.atMs);
    assert.ok(times.length >= 3);
    for (let i = 1; i < times.length; i++) {
      const gapMs = times[i] - times[i - 1];
      assert.ok(gapMs >= 1950 && gapMs < 3500, `gap ${i} was ${gapMs} ms instead of about 2000 ms`);
    }
  });

  it("waits out 429 on the first PUT", async () => {
    demo = await startEndToEnd({ knobs: { throttleFirstPut: 3, retryAfterSeconds: 1 } });
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    const requests = dpsRequests(demo.emulator);
    assert.equal(requests[0].status, 429);
    assert.equal(requests[1].method, "PUT");
    assert.ok(requests[1].atMs - requests[0].atMs >= 2950,
      `the second PUT came ${requests[1].atMs - requests[0].atMs} ms after the 429 with Retry-After 3 s`);
  });

  it("retries once after a 503", async () => {
    demo = await startEndToEnd({ knobs: { serverErrorOnce: 503, retryAfterSeconds: 1 } });
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);

    const statuses = dpsRequests(demo.emulator).map((r) => r.status);
    assert.equal(statuses[0], 503);
    assert.equal(statuses[statuses.length - 1], 200);
  });

  for (const outcome of ["failed", "disabled"]) {
    it(`stops on ${outcome} without more requests`, async () => {
      demo = await startEndToEnd({ knobs: { outcome, retryAfterSeconds: 1 } });
      demo.device.boot();

      const line = await demo.device.waitForLog(/\[error\] dps: /, 30000);
      assert.match(line, outcome === "failed" ? /DPS_FAILED: DPS could not assign/ : /DPS_DISABLED: The enrollment .* is disabled/);
      const countAtStop = demo.emulator.requests.length;

      await sleep(4000);
      assert.equal(demo.emulator.requests.length, countAtStop, "the device sent requests after a final outcome");
      assert.equal(demo.device.eval("dps.status().phase"), "failed");
    });
  }

  it("reports 401002 with the tracking ID", async () => {
    const wrongKey = randomBytes(32).toString("base64");
    demo = await startEndToEnd({
      editConfig: (config) => ({ ...config, dps: { ...config.dps, deviceKey: wrongKey } }),
    });
    demo.device.boot();

    const line = await demo.device.waitForLog(/\[error\] dps: DPS_UNAUTHORIZED/, 30000);
    const rejected = dpsRequests(demo.emulator).filter((r) => r.status === 401);
    assert.equal(rejected.length, 1, "a 401 with a correct clock must not be retried");
    assert.match(line, /\(errorCode 401002\)/);
    assert.ok(rejected[0].trackingId, "the emulator recorded no tracking ID");
    assert.ok(line.includes(`trackingId ${rejected[0].trackingId}`), `tracking ID missing from: ${line}`);
    assert.ok(!line.includes(wrongKey));
  });
});

describe("emulator diagnosis of rejected tokens", function () {
  this.timeout(60000);

  it("names a key derived for another case", async () => {
    const demo = await startEndToEnd({ enrollment: "group" });
    try {
      // The key was derived for the upper-case spelling while the device registers the lower-case one.
      const wrongCaseKey = deriveDeviceKey(hostSha256, demo.enrollmentKey, "DEMO-SENSOR-01");
      const configPath = join(demo.storageDir, "dpscfg.json");
      const config = JSON.parse(readFileSync(configPath, "utf8"));
      config.dps.deviceKey = wrongCaseKey;
      writeFileSync(configPath, JSON.stringify(config));

      demo.device.boot();
      await demo.device.waitForLog(/DPS_UNAUTHORIZED/, 30000);

      const rejection = demo.emulatorLines.find((line) => line.includes(" 401 "));
      assert.ok(rejection, "the emulator logged no 401");
      assert.match(rejection, /"DEMO-SENSOR-01", which differs from .* only in case/);
      assert.ok(!rejection.includes(wrongCaseKey));
    } finally {
      await demo.close();
    }
  });
});
