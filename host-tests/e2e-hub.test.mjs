// End to end after assignment: dist/firmware.js in the simulator sends readings to the emulator's IoT Hub, receives
// C2D messages, survives an outage and a reboot, re-provisions after a 401 and waits out a 429.

import assert from 'node:assert/strict';
import { dpsRequests, sleep, startEndToEnd, waitFor } from './support/e2e.mjs';

const DEVICE_ID = 'demo-sensor-01';

// Readings come only from `dps.send` in these tests, so each test controls exactly which readings exist.
function hubConfig(hub = {}) {
  return (config) => ({
    ...config,
    hub: { ...config.hub, c2dPollIntervalSeconds: 3600, ...hub },
    telemetry: { demoReadings: false, flushDelaySeconds: 2 },
  });
}

function acceptedReadings(emulator) {
  return emulator.hub.received.filter((message) => !message.duplicate);
}

function telemetryRequests(emulator) {
  return emulator.requests.filter((request) => request.method === 'POST' && request.path.includes('/messages/events'));
}

describe('hub end to end', function () {
  this.timeout(90000);
  let demo;
  const runLines = [];
  const runSecrets = [];

  afterEach(async () => {
    if (demo) {
      runLines.push(...demo.deviceLines, ...demo.emulatorLines);
      runSecrets.push(demo.deviceKey, demo.enrollmentKey);
      await demo.close();
    }
    demo = undefined;
  });

  after(() => {
    for (const line of runLines) {
      assert.ok(!line.includes('SharedAccessSignature'), `token in log line: ${line}`);
      assert.ok(!/sig=(?!<redacted>)/.test(line), `signature in log line: ${line}`);
      for (const secret of runSecrets) assert.ok(!line.includes(secret), `key in log line: ${line}`);
    }
  });

  async function bootAndAssign(options) {
    demo = await startEndToEnd({ knobs: { retryAfterSeconds: 1 }, ...options });
    demo.device.boot();
    await demo.device.waitForLog(/hub: sending to localhost/, 30000);
  }

  function send(value) {
    const messageId = demo.device.eval(`dps.send(${JSON.stringify(value)})`);
    assert.match(messageId, /^[0-9a-f]{8}\.[0-9]+\.[0-9]+$/, `dps.send returned ${messageId}`);
    return messageId;
  }

  it('delivers readings across an outage and a reboot', async () => {
    await bootAndAssign({ editConfig: hubConfig() });
    const sentIds = [send({ n: 1 })];
    await waitFor(() => acceptedReadings(demo.emulator).length === 1, 20000, 'the first reading');

    demo.emulator.hub.setKnobs({ outage: true });
    sentIds.push(send({ n: 2 }), send({ n: 3 }));
    await demo.device.waitForLog(/hub: send .* -> HTTP 503/, 20000);

    const linesBeforeReboot = demo.device.logs.length;
    demo.device.reboot();
    await demo.device.waitForLog(/telemetry: queue [0-9a-f]+ boot 2: 2 unsent readings/, 20000, linesBeforeReboot);
    sentIds.push(send({ n: 4 }));
    // After boot the client polls for C2D first, so the first request to meet the outage may be the receive.
    await demo.device.waitForLog(/hub: (send|receive).* -> HTTP 503/, 30000, linesBeforeReboot);

    demo.emulator.hub.setKnobs({ outage: false });
    await waitFor(() => acceptedReadings(demo.emulator).length === 4, 40000, 'the readings kept during the outage');
    sentIds.push(send({ n: 5 }));
    await waitFor(() => acceptedReadings(demo.emulator).length === 5, 20000, 'the reading after the outage');

    const received = demo.emulator.hub.received;
    assert.deepEqual(received.map((message) => JSON.parse(message.body).n), [1, 2, 3, 4, 5], 'order or count changed');
    assert.deepEqual(received.map((message) => message.messageId), sentIds);
    assert.deepEqual(received.map((message) => message.duplicate), [false, false, false, false, false]);
    assert.ok(sentIds[3].endsWith('.2.1'), `the first ID after the reboot was ${sentIds[3]}`);
    assert.equal(demo.device.eval('dps.status().telemetry.queuedReadings'), 0);
    assert.equal(dpsRequests(demo.emulator).length, 2, 'the reboot registered with DPS again instead of using the cache');
    assert.deepEqual(demo.device.uncaughtErrors, []);
  });

  it('skips flash writes while hub is up', async () => {
    await bootAndAssign({
      editConfig: (config) => ({ ...hubConfig()(config), telemetry: { intervalSeconds: 1, flushDelaySeconds: 3 } }),
    });

    // Readings taken before the assignment wait longer than the flush delay, so they reach flash, and so does the
    // empty queue after they were sent. Then the count settles: a reading that the hub accepts within the delay is
    // never written.
    await waitFor(() => acceptedReadings(demo.emulator).length >= 3, 20000, 'three demo readings');
    const readWrites = () => demo.device.eval('dps.status().telemetry.queueFileWrites');
    let writesBefore = readWrites();
    for (let sample = 0; sample < 5; sample++) {
      await sleep(3500);
      const writes = readWrites();
      if (writes === writesBefore) break;
      writesBefore = writes;
    }
    const acceptedBefore = acceptedReadings(demo.emulator).length;
    await waitFor(() => acceptedReadings(demo.emulator).length >= acceptedBefore + 5, 20000, 'five more demo readings');

    assert.equal(readWrites(), writesBefore, 'readings that the hub accepted within the flush delay reached flash');
    assert.ok(writesBefore <= 3, `${writesBefore} writes during start-up`);
    assert.equal(JSON.parse(acceptedReadings(demo.emulator)[0].body).seq, 1);
  });

  it('keeps readings while WiFi is down', async () => {
    await bootAndAssign({ editConfig: hubConfig() });
    send({ n: 1 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 1, 20000, 'the first reading');

    const linesBeforeDrop = demo.device.logs.length;
    demo.device.setWifi({ available: false });
    send({ n: 2 });
    send({ n: 3 });
    await demo.device.waitForLog(/hub: send .* failed: HTTP_NETWORK/, 20000, linesBeforeDrop);

    demo.device.setWifi({ available: true });
    await waitFor(() => acceptedReadings(demo.emulator).length === 3, 40000, 'the readings taken without WiFi');
    assert.deepEqual(acceptedReadings(demo.emulator).map((message) => JSON.parse(message.body).n), [1, 2, 3]);
    assert.deepEqual(demo.emulator.hub.received.map((message) => message.duplicate), [false, false, false]);
  });

  it('re-provisions after a 401 and resumes', async () => {
    await bootAndAssign({ editConfig: hubConfig() });
    send({ n: 1 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 1, 20000, 'the first reading');

    demo.emulator.hub.setKnobs({ unauthorizedOnce: true });
    send({ n: 2 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 2, 30000, 'the reading after re-provisioning');

    const puts = dpsRequests(demo.emulator).filter((request) => request.method === 'PUT');
    const rejected = telemetryRequests(demo.emulator).find((request) => request.status === 401);
    assert.equal(puts.length, 2, 'expected exactly one new registration');
    assert.ok(rejected, 'the hub never answered 401');
    assert.ok(puts[1].atMs > rejected.atMs, 'the new registration did not follow the 401');
    assert.deepEqual(acceptedReadings(demo.emulator).map((message) => JSON.parse(message.body).n), [1, 2]);
    await demo.device.waitForLog(/HUB_UNAUTHORIZED: IoT hub localhost rejected device demo-sensor-01/, 1000);
    assert.equal(demo.device.eval('dps.status().phase'), 'assigned');
  });

  it('waits before re-provisioning again', async () => {
    await bootAndAssign({ editConfig: hubConfig({ minReprovisionIntervalSeconds: 4 }) });
    demo.emulator.hub.setKnobs({ unauthorizedOnce: true });
    send({ n: 1 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 1, 30000, 'the reading after the first 401');

    demo.emulator.hub.setKnobs({ unauthorizedOnce: true });
    send({ n: 2 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 2, 30000, 'the reading after the second 401');

    const puts = dpsRequests(demo.emulator).filter((request) => request.method === 'PUT');
    assert.equal(puts.length, 3);
    const gapMs = puts[2].atMs - puts[1].atMs;
    assert.ok(gapMs >= 3900, `the second re-provisioning came ${gapMs} ms after the first; the cap is 4 s`);
  });

  it('receives and completes a C2D message', async () => {
    await bootAndAssign({ editConfig: hubConfig({ c2dPollIntervalSeconds: 1 }) });
    demo.emulator.hub.enqueueCloudToDevice(DEVICE_ID, { body: '{"led":"on"}', messageId: 'cmd-1', properties: { kind: 'command' } });

    await demo.device.waitForLog(/c2d: received message cmd-1 \(12 bytes\)/, 20000);
    await waitFor(() => demo.emulator.hub.listCloudToDevice(DEVICE_ID)[0].state === 'completed', 10000, 'the completion');
    const settle = demo.emulator.requests.find((request) => request.method === 'DELETE');
    assert.equal(settle.status, 204);
    assert.ok(!settle.path.includes('"'), `the lock token was sent quoted: ${settle.path}`);
    assert.ok(!settle.path.includes('%22'), `the lock token was sent quoted and encoded: ${settle.path}`);
  });

  it('lets a handler reject a C2D message', async () => {
    await bootAndAssign({ editConfig: hubConfig({ c2dPollIntervalSeconds: 1 }) });
    demo.device.eval('dps.onMessage(function (message) { return message.properties.kind === "bad" ? "reject" : "complete"; })');
    demo.emulator.hub.enqueueCloudToDevice(DEVICE_ID, { body: 'x', messageId: 'cmd-bad', properties: { kind: 'bad' } });

    await waitFor(() => demo.emulator.hub.listCloudToDevice(DEVICE_ID)[0].state === 'rejected', 20000, 'the rejection');
    assert.ok(demo.emulator.requests.some((request) => request.method === 'DELETE' && request.path.endsWith('&reject')));
  });

  it('waits out a 429 with Retry-After', async () => {
    await bootAndAssign({ editConfig: hubConfig() });
    send({ n: 1 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 1, 20000, 'the first reading');

    demo.emulator.hub.setKnobs({ throttleOnce: 3 });
    send({ n: 2 });
    await waitFor(() => acceptedReadings(demo.emulator).length === 2, 20000, 'the throttled reading');

    const requests = telemetryRequests(demo.emulator);
    const throttled = requests.findIndex((request) => request.status === 429);
    assert.ok(throttled >= 0, 'the hub never answered 429');
    const gapMs = requests[throttled + 1].atMs - requests[throttled].atMs;
    assert.ok(gapMs >= 2950, `the resend came ${gapMs} ms after 429 with Retry-After 3 s`);
    assert.ok(gapMs < 5000, `the resend came ${gapMs} ms after 429 with Retry-After 3 s, far later than asked`);
  });

  it('drops and counts the oldest when full', async () => {
    await bootAndAssign({
      editConfig: (config) => ({ ...hubConfig()(config), telemetry: { demoReadings: false, maxQueueBytes: 512 } }),
    });
    demo.emulator.hub.setKnobs({ outage: true });
    for (let n = 1; n <= 12; n++) send({ n, padding: 'x'.repeat(40) });

    const status = demo.device.eval('dps.status().telemetry');
    assert.ok(status.droppedReadings > 0, 'nothing was dropped');
    assert.ok(status.queuedBytes <= 512, `the queue holds ${status.queuedBytes} bytes`);
    await demo.device.waitForLog(/telemetry: queue full: dropped the 1 oldest readings/, 1000);

    demo.emulator.hub.setKnobs({ outage: false });
    await waitFor(() => acceptedReadings(demo.emulator).length === status.queuedReadings, 40000, 'the kept readings');
    const numbers = acceptedReadings(demo.emulator).map((message) => JSON.parse(message.body).n);
    assert.equal(numbers[numbers.length - 1], 12);
    assert.equal(numbers[0], 12 - status.queuedReadings + 1, 'a reading other than the oldest was dropped');
    const last = acceptedReadings(demo.emulator).at(-1);
    assert.equal(last.properties['queue-dropped'], String(status.droppedReadings));
  });
});
