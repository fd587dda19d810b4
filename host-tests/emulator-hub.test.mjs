// The emulator's IoT Hub: the official Node device SDK as an oracle, token checks, C2D locks and the knobs.

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import deviceSdk from 'azure-iot-device';
import deviceHttp from 'azure-iot-device-http';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseHubCommand } from '../scripts/emulator/hub-command-line.mjs';
import { sendControlRequest, startHubControlServer } from '../scripts/emulator/hub-control.mjs';
import { startEmulator } from '../scripts/emulator/server.mjs';
import { deriveDeviceKey, registerWithSdk, sendToEmulator } from './emulator-helpers.mjs';

// These packages are CommonJS without named exports that Node's ESM loader can detect.
const { Client, Message, SharedAccessKeyAuthenticationProvider } = deviceSdk;
const { Http: DeviceHttpTransport } = deviceHttp;

// azure-iot-http-base is a dependency of the device transport, not of this project, so it is loaded from there.
const requireFromTransport = createRequire(createRequire(import.meta.url).resolve('azure-iot-device-http'));
const { Http: HttpBase } = requireFromTransport('azure-iot-http-base');

const ID_SCOPE = '0ne000A1B2C';
const HUB = 'localhost';
const API = 'api-version=2021-04-12';

// The device transport always connects to port 443 and passes the x509 options (undefined for SAS) where a port
// could go, so requests are given the emulator's port here. The emulator's certificate is trusted by this instance
// only, and kept when the transport replaces the options through `setOptions`.
class EmulatorHubHttpBase extends HttpBase {
  constructor(port, certificatePem) {
    super();
    this.emulatorPort = port;
    this.certificatePem = certificatePem;
    this.setOptions({});
  }

  setOptions(options) {
    super.setOptions({ ...options, ca: this.certificatePem });
  }

  buildRequest(method, path, httpHeaders, host, options, done) {
    if (typeof options === 'function') {
      return super.buildRequest(method, path, httpHeaders, host, { port: this.emulatorPort }, options);
    }
    if (options === undefined || options === null) {
      return super.buildRequest(method, path, httpHeaders, host, { port: this.emulatorPort }, done);
    }
    return super.buildRequest(method, path, httpHeaders, host, options, done);
  }
}

function createSdkClient(emulator, deviceId, deviceKey) {
  const connectionString = `HostName=${HUB};DeviceId=${deviceId};SharedAccessKey=${deviceKey}`;
  const authenticationProvider = SharedAccessKeyAuthenticationProvider.fromConnectionString(connectionString);
  const transport = new DeviceHttpTransport(authenticationProvider, new EmulatorHubHttpBase(emulator.port, emulator.certificatePem));
  return new Client(transport);
}

function buildHubToken({ deviceId, keyBase64, expiryEpochSeconds, hub = HUB, skn }) {
  const sr = encodeURIComponent(`${hub}/devices/${deviceId}`);
  const sig = createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(`${sr}\n${expiryEpochSeconds}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiryEpochSeconds}${skn ? `&skn=${skn}` : ''}`;
}

function inOneHour() {
  return Math.floor(Date.now() / 1000) + 3600;
}

describe('emulator IoT Hub', function () {
  this.timeout(20000);
  let emulator;
  let logLines;
  let groupKey;
  let deviceKey;

  beforeEach(async () => {
    groupKey = randomBytes(64).toString('base64');
    logLines = [];
    emulator = await startEmulator({
      enrollments: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'hub-tests', primaryKey: groupKey }] },
      hubHostName: HUB,
      knobs: { retryAfterSeconds: 0 },
      log: (line) => logLines.push(line),
    });
    deviceKey = deriveDeviceKey(groupKey, 'sensor-01');
  });

  afterEach(async () => {
    await emulator.close();
  });

  async function registerDevice() {
    const result = await registerWithSdk(emulator, 'sensor-01', deviceKey);
    assert.equal(result.assignedHub, HUB);
    assert.equal(result.deviceId, 'sensor-01');
  }

  function post(deviceId, token, headers = {}, body = '{"t":1}') {
    return sendToEmulator(emulator, {
      method: 'POST',
      path: `/devices/${deviceId}/messages/events?${API}`,
      headers: { Authorization: token, ...headers },
      body,
    });
  }

  it('accepts telemetry from the official SDK', async () => {
    await registerDevice();
    const client = createSdkClient(emulator, 'sensor-01', deviceKey);

    const message = new Message(JSON.stringify({ temperature: 21.5 }));
    message.messageId = 'sdk-message-1';
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('alert', 'high');
    const result = await client.sendEvent(message);

    assert.equal(result.constructor.name, 'MessageEnqueued');
    assert.equal(emulator.hub.received.length, 1);
    const received = emulator.hub.received[0];
    assert.equal(received.deviceId, 'sensor-01');
    assert.equal(received.messageId, 'sdk-message-1');
    assert.equal(received.body, '{"temperature":21.5}');
    assert.deepEqual(received.properties, { alert: 'high' });
    assert.equal(received.contentType, 'application/json');
    assert.equal(received.duplicate, false);
    await client.close();
  });

  it('delivers C2D to the official SDK', async () => {
    await registerDevice();
    const client = createSdkClient(emulator, 'sensor-01', deviceKey);
    emulator.hub.enqueueCloudToDevice('sensor-01', { body: 'led on', messageId: 'cmd-1', properties: { kind: 'command' } });

    const received = await new Promise((resolve, reject) => {
      client.on('error', reject);
      client.on('message', (message) => {
        client.complete(message, (error) => (error ? reject(error) : resolve(message)));
      });
    });

    assert.equal(received.data.toString(), 'led on');
    assert.equal(received.messageId, 'cmd-1');
    // azure-iot-http-base 1.12 keeps the whole header name as the property key.
    assert.equal(received.properties.getValue('iothub-app-kind'), 'command');
    assert.deepEqual(emulator.hub.listCloudToDevice('sensor-01').map((message) => message.state), ['completed']);
    await client.close();
  });

  it('marks a resent message ID', async () => {
    await registerDevice();
    const token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() });

    assert.equal((await post('sensor-01', token, { 'iothub-messageid': 'm-1' })).status, 204);
    assert.equal((await post('sensor-01', token, { 'iothub-messageid': 'm-1' })).status, 204);
    assert.deepEqual(emulator.hub.received.map((message) => message.duplicate), [false, true]);
  });

  it('refuses a device DPS has not assigned', async () => {
    const token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() });
    const response = await post('sensor-01', token);

    assert.equal(response.status, 404);
    assert.equal(response.json.errorCode, 404001);
    assert.equal(emulator.hub.received.length, 0);
  });

  const tokenCases = [
    ['a wrong key', () => ({ keyBase64: randomBytes(32).toString('base64') }), /signature does not match/],
    ['another hub in sr', () => ({ hub: 'other-hub.azure-devices.net' }), /sr names the host "other-hub.azure-devices.net"/],
    ['an expired token', () => ({ expiryEpochSeconds: Math.floor(Date.now() / 1000) - 10 }), /token expired/],
    ['a clock 10 minutes ahead', () => ({ expiryEpochSeconds: inOneHour() + 600 }), /device clock is ahead by more than 5 minutes/],
    ['a key name', () => ({ skn: 'device' }), /a device token has no key name/],
  ];
  for (const [name, change, reasonPattern] of tokenCases) {
    it(`answers 401003 for ${name}`, async () => {
      await registerDevice();
      const token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour(), ...change() });
      const response = await post('sensor-01', token);

      assert.equal(response.status, 401);
      assert.equal(response.json.errorCode, 401003);
      assert.ok(response.json.trackingId);
      const entry = emulator.requests[emulator.requests.length - 1];
      assert.match(entry.reason, reasonPattern);
      assert.equal(emulator.hub.received.length, 0);
    });
  }

  it('accepts a clock 4 minutes ahead', async () => {
    await registerDevice();
    const token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() + 240 });
    assert.equal((await post('sensor-01', token)).status, 204);
  });

  describe('C2D', () => {
    let token;
    const receive = () => sendToEmulator(emulator, {
      method: 'GET', path: `/devices/sensor-01/messages/deviceBound?${API}`, headers: { Authorization: token },
    });
    const settle = (method, lockToken, suffix = '') => sendToEmulator(emulator, {
      method,
      path: `/devices/sensor-01/messages/deviceBound/${lockToken}${suffix.startsWith('/') ? suffix : ''}?${API}${suffix.startsWith('&') ? suffix : ''}`,
      headers: { Authorization: token, 'If-Match': lockToken },
    });

    beforeEach(async () => {
      await registerDevice();
      token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() });
    });

    it('answers 204 when empty', async () => {
      const response = await receive();
      assert.equal(response.status, 204);
      assert.equal(response.text, '');
    });

    it('locks a message with an ETag', async () => {
      emulator.hub.enqueueCloudToDevice('sensor-01', { body: 'hello', messageId: 'cmd-1' });
      const first = await receive();

      assert.equal(first.status, 200);
      assert.equal(first.text, 'hello');
      assert.match(first.headers.etag, /^"[0-9a-f-]+"$/);
      assert.equal(first.headers['iothub-messageid'], 'cmd-1');
      assert.equal((await receive()).status, 204, 'a locked message was delivered twice');
    });

    it('completes with the lock token', async () => {
      emulator.hub.enqueueCloudToDevice('sensor-01', { body: 'hello' });
      const lockToken = (await receive()).headers.etag.replaceAll('"', '');

      assert.equal((await settle('DELETE', lockToken)).status, 204);
      assert.deepEqual(emulator.hub.listCloudToDevice('sensor-01').map((message) => message.state), ['completed']);
    });

    it('rejects with the reject query', async () => {
      emulator.hub.enqueueCloudToDevice('sensor-01', { body: 'hello' });
      const lockToken = (await receive()).headers.etag.replaceAll('"', '');

      assert.equal((await settle('DELETE', lockToken, '&reject')).status, 204);
      assert.deepEqual(emulator.hub.listCloudToDevice('sensor-01').map((message) => message.state), ['rejected']);
    });

    it('abandons back into the queue', async () => {
      emulator.hub.enqueueCloudToDevice('sensor-01', { body: 'hello' });
      const lockToken = (await receive()).headers.etag.replaceAll('"', '');

      assert.equal((await settle('POST', lockToken, '/abandon')).status, 204);
      const again = await receive();
      assert.equal(again.status, 200);
      assert.equal(again.headers['iothub-deliverycount'], '2');
    });

    it('answers 412002 after the lock expired', async () => {
      emulator.hub.setKnobs({ lockDurationMs: 200 });
      emulator.hub.enqueueCloudToDevice('sensor-01', { body: 'hello' });
      const lockToken = (await receive()).headers.etag.replaceAll('"', '');
      await new Promise((resolve) => setTimeout(resolve, 300));

      const response = await settle('DELETE', lockToken);
      assert.equal(response.status, 412);
      assert.equal(response.json.errorCode, 412002);
      assert.equal((await receive()).status, 200, 'the message did not become receivable again');
    });
  });

  describe('knobs', () => {
    let token;

    beforeEach(async () => {
      await registerDevice();
      token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() });
    });

    it('answers 503 until the outage is cleared', async () => {
      emulator.hub.setKnobs({ outage: true });
      assert.equal((await post('sensor-01', token)).status, 503);
      assert.equal((await post('sensor-01', token)).status, 503);

      emulator.hub.setKnobs({ outage: false });
      assert.equal((await post('sensor-01', token)).status, 204);
    });

    it('answers 401 once', async () => {
      emulator.hub.setKnobs({ unauthorizedOnce: true });
      const first = await post('sensor-01', token);

      assert.equal(first.status, 401);
      assert.equal(first.json.errorCode, 401003);
      assert.equal((await post('sensor-01', token)).status, 204);
    });

    it('answers 429 with Retry-After once', async () => {
      emulator.hub.setKnobs({ throttleOnce: 3 });
      const first = await post('sensor-01', token);

      assert.equal(first.status, 429);
      assert.equal(first.headers['retry-after'], '3');
      assert.equal((await post('sensor-01', token)).status, 204);
    });

    it('refuses an unknown knob', () => {
      assert.throws(() => emulator.hub.setKnobs({ outages: true }), /unknown hub knob "outages"/);
    });
  });

  it('logs one line per request without tokens', async () => {
    await registerDevice();
    const token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() });
    const before = logLines.length;
    await post('sensor-01', token, { 'iothub-messageid': 'm-7' });

    assert.equal(logLines.length, before + 1);
    assert.match(logLines[logLines.length - 1], /^POST \/devices\/sensor-01\/messages\/events\?api-version=2021-04-12 -> 204 accepted \(message m-7\)/);
    const signature = new URLSearchParams(token.slice('SharedAccessSignature '.length)).get('sig');
    for (const line of logLines) {
      assert.ok(!line.includes('SharedAccessSignature'), `token in log line: ${line}`);
      assert.ok(!line.includes(signature), `signature in log line: ${line}`);
      assert.ok(!line.includes(deviceKey), `key in log line: ${line}`);
    }
  });

  describe('command line', () => {
    let control;
    const mainPath = fileURLToPath(new URL('../scripts/emulator/main.mjs', import.meta.url));

    beforeEach(async () => {
      control = await startHubControlServer(emulator, (line) => logLines.push(line));
    });

    afterEach(async () => {
      await control.close();
    });

    function runCli(args) {
      return new Promise((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', mainPath, 'hub', ...args], (error, stdout, stderr) => {
          resolve({ code: error ? error.code : 0, stdout, stderr });
        });
      });
    }

    it('queues C2D from another process', async () => {
      const result = await runCli(['c2d-send', '--control', control.url, '--device', 'sensor-01', '--body', 'led on',
        '--message-id', 'cli-1', '--property', 'kind=command']);

      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).messageId, 'cli-1');
      assert.deepEqual(emulator.hub.listCloudToDevice('sensor-01').map((message) => message.messageId), ['cli-1']);
    });

    it('lists received telemetry from another process', async () => {
      await registerDevice();
      const token = buildHubToken({ deviceId: 'sensor-01', keyBase64: deviceKey, expiryEpochSeconds: inOneHour() });
      await post('sensor-01', token, { 'iothub-messageid': 'm-9' });

      const result = await runCli(['received', '--control', control.url]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout).map((message) => message.messageId), ['m-9']);
    });

    it('sets the outage knob', async () => {
      const reply = await sendControlRequest(control.url, 'POST', '/knobs', { outage: true });
      assert.equal(reply.status, 200);
      assert.equal(emulator.hub.getKnobs().outage, true);
    });

    it('refuses a wrong secret', async () => {
      const reply = await sendControlRequest(`${control.url}0`, 'GET', '/received');
      assert.equal(reply.status, 403);
      assert.match(reply.body.error, /Wrong or missing control secret/);
    });

    it('refuses a non-loopback control URL', () => {
      assert.throws(() => sendControlRequest('http://192.0.2.1:80/abc', 'GET', '/received'), /use the http:\/\/127\.0\.0\.1:PORT\/SECRET URL/);
    });

    const invalidCommands = [
      [['c2d-send', '--control', 'u', '--device', 'd'], /Missing --body TEXT/],
      [['c2d-list', '--control', 'u'], /Missing --device ID/],
      [['received'], /Missing --control URL/],
      [['knobs', '--control', 'u', '--outage', 'maybe'], /Invalid --outage "maybe"/],
      [['knobs', '--control', 'u', '--throttle-once', '0'], /Invalid --throttle-once "0"/],
      [['c2d-send', '--control', 'u', '--device', 'd', '--body', 'b', '--property', 'novalue'], /Invalid --property "novalue"/],
      [['reboot', '--control', 'u'], /Unknown hub command "reboot"/],
    ];
    for (const [args, pattern] of invalidCommands) {
      it(`rejects ${args.join(' ')}`, () => {
        assert.throws(() => parseHubCommand(args), pattern);
      });
    }
  });
});
