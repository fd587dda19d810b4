// Tests of the local DPS emulator over real HTTPS on loopback: the official Azure provisioning SDK registers against
// it, the field-failure token vectors are accepted or rejected as the service does, and every knob changes replies.

import assert from 'node:assert/strict';
import { startEmulator } from '../scripts/emulator/server.mjs';
import { explainRejectionBriefly } from '../scripts/emulator/sas-check.mjs';
import { buildDpsToken, deriveDeviceKey, registerWithSdk, sendToEmulator } from './emulator-helpers.mjs';

// Made-up inputs, and signatures precomputed for common client faults with the correct ones beside them.
const ID_SCOPE = '0ne000A1B2C';
const REGISTRATION_ID = 'sensor-01';
const GROUP_KEY = 'Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==';
const DERIVED_KEY = 'rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=';
const VECTOR_EXPIRY_EPOCH_SECONDS = 1767225600; // 2026-01-01T00:00:00Z
const PINNED_NOW_MS = Date.UTC(2025, 11, 31, 12, 0, 0); // 12 hours before the vectors expire

const SR_UPPER = '0ne000A1B2C%2Fregistrations%2Fsensor-01';
const SR_LOWER = '0ne000A1B2C%2fregistrations%2fsensor-01';
const SR_RAW = '0ne000A1B2C/registrations/sensor-01';
const SR_DOUBLE_ENCODED = '0ne000A1B2C%252Fregistrations%252Fsensor-01';

const SIG_UPPER = '/Eqc0gTG/s03NkJQqfGk35WWj3ZCqOL1DICiRw6Cg9w=';
const SIG_LOWER = 'FDfdbMVK3hZIgZkxme9OtAozfNHJvUciM3DwlfiMwFQ=';
const SIG_RAW = 'vAX+LbECm5HLw01HQTpz3+QJ0WKyTCbpGAtNRofqhJY=';
const SIG_WITH_GROUP_KEY = 'sEH1Q8VoBGXKHT/srytqJqUQv5FwTWkJW9G2ttcLRp4='; // group key used as device key
const SIG_WITH_KEY_TEXT_BYTES = 'RiCB5X6sCEaS8ddgmDMXzeBgRh7N/tY/DVULpEPpRQM='; // UTF-8 bytes of the key text as HMAC key
const DERIVED_WITH_KEY_TEXT_BYTES = 'p/fuNncl8zOnGWAanuFgbr9MuF+huCaF3I2aK7AwRKE='; // derived from the UTF-8 bytes of the group key text
const SIG_DOUBLE_ENCODED = 'ckw+WskSfzbF3cvmsF7NcAsQNiYZj1jltvym03cJ3pI='; // signed over the twice-encoded sr

// Bytes 0x00..0x1f, an obviously fake individual key.
const INDIVIDUAL_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

const API_VERSION = '2021-10-01';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function vectorToken(sr, sig) {
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${VECTOR_EXPIRY_EPOCH_SECONDS}&skn=registration`;
}

function registerPath(registrationId, query = `?api-version=${API_VERSION}`) {
  return `/${ID_SCOPE}/registrations/${registrationId}/register${query}`;
}

function operationPath(registrationId, operationId) {
  return `/${ID_SCOPE}/registrations/${registrationId}/operations/${operationId}?api-version=${API_VERSION}`;
}

function putRegister(emulator, registrationId, authorization, overrides = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (authorization !== undefined) {
    headers.Authorization = authorization;
  }
  return sendToEmulator(emulator, {
    method: 'PUT',
    path: overrides.path ?? registerPath(registrationId),
    headers: { ...headers, ...overrides.headers },
    body: overrides.body ?? JSON.stringify({ registrationId }),
  });
}

function getOperation(emulator, registrationId, operationId, authorization) {
  return sendToEmulator(emulator, {
    method: 'GET',
    path: operationPath(registrationId, operationId),
    headers: { Accept: 'application/json', Authorization: authorization },
  });
}

function assertUnauthorized(response, nowMs) {
  assert.equal(response.status, 401);
  assert.equal(response.headers['x-ms-error-code'], '401002');
  assert.equal(response.json.errorCode, 401002);
  assert.equal(response.json.message, 'Unauthorized');
  assert.match(response.json.trackingId, UUID_PATTERN);
  assert.equal(response.json.timestampUtc, new Date(nowMs).toISOString());
}

function lastRequest(emulator) {
  return emulator.requests[emulator.requests.length - 1];
}

function sleep(durationMs) {
  return new Promise((resolve) => setTimeout(resolve, durationMs));
}

describe('DPS emulator with the official Node SDK', function () {
  let emulator;

  before(async function () {
    emulator = await startEmulator({
      enrollments: {
        idScope: ID_SCOPE,
        individual: [{ registrationId: 'sensor-ind-01', primaryKey: INDIVIDUAL_KEY, deviceId: 'thermostat-7' }],
        groups: [{ enrollmentGroupId: 'demo-group', primaryKey: GROUP_KEY }],
      },
      hubHostName: 'example-hub.azure-devices.net',
      log: () => {},
    });
  });

  after(async function () {
    await emulator.close();
  });

  it('registers an individual enrollment', async function () {
    const result = await registerWithSdk(emulator, 'sensor-ind-01', INDIVIDUAL_KEY);

    assert.equal(result.assignedHub, 'example-hub.azure-devices.net');
    assert.equal(result.deviceId, 'thermostat-7');
    assert.equal(result.registrationId, 'sensor-ind-01');
    assert.equal(result.status, 'assigned');
  });

  it('registers a group enrollment with the derived key', async function () {
    const result = await registerWithSdk(emulator, REGISTRATION_ID, deriveDeviceKey(GROUP_KEY, REGISTRATION_ID));

    assert.equal(result.assignedHub, 'example-hub.azure-devices.net');
    assert.equal(result.deviceId, REGISTRATION_ID);
    assert.equal(result.substatus, 'initialAssignment');
  });

  it('rejects the SDK when it signs with the group key', async function () {
    await assert.rejects(registerWithSdk(emulator, REGISTRATION_ID, GROUP_KEY), (error) => {
      assert.equal(error.name, 'UnauthorizedError');
      assert.match(error.message, /401002/);
      return true;
    });
  });

  it('reports failed outcome to the SDK', async function () {
    emulator.setKnobs('sdk-failed-01', { outcome: 'failed' });

    await assert.rejects(registerWithSdk(emulator, 'sdk-failed-01', deriveDeviceKey(GROUP_KEY, 'sdk-failed-01')), (error) => {
      // azure-iot-common names its DeviceRegistrationFailedError class this way at run time.
      assert.equal(error.name, 'ProvisioningRegistrationFailedError');
      assert.equal(error.result.registrationState.errorCode, 400208);
      return true;
    });
  });

  it('records the SDK request sequence', async function () {
    const sdkRequests = emulator.requests.filter((entry) => entry.registrationId === 'sensor-ind-01');

    assert.deepEqual(sdkRequests.map((entry) => `${entry.method} ${entry.status} ${entry.outcome}`), [
      'PUT 202 assigning',
      'GET 200 assigned',
    ]);
    assert.match(sdkRequests[0].path, /^\/0ne000A1B2C\/registrations\/sensor-ind-01\/register\?api-version=2019-03-31$/);
  });
});

describe('DPS emulator with client-fault token vectors', function () {
  const enrollmentKinds = [
    {
      kind: 'group',
      enrollments: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'demo-group', primaryKey: GROUP_KEY }] },
    },
    {
      kind: 'individual',
      enrollments: { idScope: ID_SCOPE, individual: [{ registrationId: REGISTRATION_ID, primaryKey: DERIVED_KEY }] },
    },
  ];

  for (const { kind, enrollments } of enrollmentKinds) {
    describe(`${kind} enrollment`, function () {
      let emulator;
      const logLines = [];

      before(async function () {
        // The short reasons show what the emulator itself checked; the default diagnosis is tested below.
        emulator = await startEmulator({
          enrollments, nowMs: () => PINNED_NOW_MS, log: (line) => logLines.push(line), explainRejection: explainRejectionBriefly,
        });
      });

      after(async function () {
        await emulator.close();
      });

      // sr as sent, sig before percent-encoding, and how the token must fare.
      const acceptedCases = [
        { name: 'upper-case %2F sr', sr: SR_UPPER, sig: SIG_UPPER },
        { name: 'lower-case %2f sr', sr: SR_LOWER, sig: SIG_LOWER },
        { name: 'raw sr', sr: SR_RAW, sig: SIG_RAW },
      ];
      for (const { name, sr, sig } of acceptedCases) {
        it(`accepts ${name}`, async function () {
          const response = await putRegister(emulator, REGISTRATION_ID, vectorToken(sr, sig));

          assert.equal(response.status, 202);
          assert.equal(response.json.status, 'assigning');
          assert.equal(lastRequest(emulator).outcome, 'assigning');
        });
      }

      const rejectedCases = [
        { name: 'group key as device key', sr: SR_UPPER, sig: SIG_WITH_GROUP_KEY, reason: /signature does not match/ },
        { name: 'key text bytes as HMAC key', sr: SR_UPPER, sig: SIG_WITH_KEY_TEXT_BYTES, reason: /signature does not match/ },
        { name: 'double-encoded sr', sr: SR_DOUBLE_ENCODED, sig: SIG_DOUBLE_ENCODED, reason: /sr decodes to "0ne000A1B2C%2Fregistrations%2Fsensor-01"/ },
      ];
      for (const { name, sr, sig, reason } of rejectedCases) {
        it(`rejects ${name}`, async function () {
          const response = await putRegister(emulator, REGISTRATION_ID, vectorToken(sr, sig));

          assertUnauthorized(response, PINNED_NOW_MS);
          assert.match(lastRequest(emulator).reason, reason);
        });
      }

      it('rejects key derived from group key text', async function () {
        const token = buildDpsToken({
          idScope: ID_SCOPE,
          registrationId: REGISTRATION_ID,
          keyBase64: DERIVED_WITH_KEY_TEXT_BYTES,
          expiryEpochSeconds: VECTOR_EXPIRY_EPOCH_SECONDS,
        });

        const response = await putRegister(emulator, REGISTRATION_ID, token);

        assertUnauthorized(response, PINNED_NOW_MS);
        assert.match(lastRequest(emulator).reason, /signature does not match/);
      });

      it('rejects sig without percent-encoding', async function () {
        assert.ok(SIG_RAW.includes('+'), 'the vector must contain "+" to show the fault');
        const token = `SharedAccessSignature sr=${SR_RAW}&sig=${SIG_RAW}&se=${VECTOR_EXPIRY_EPOCH_SECONDS}&skn=registration`;

        const response = await putRegister(emulator, REGISTRATION_ID, token);

        assertUnauthorized(response, PINNED_NOW_MS);
        assert.match(lastRequest(emulator).reason, /signature does not match/);
      });

      it('rejects a vector token after its expiry', async function () {
        const laterEmulator = await startEmulator({
          enrollments,
          nowMs: () => VECTOR_EXPIRY_EPOCH_SECONDS * 1000 + 1000,
          log: () => {},
        });
        try {
          const response = await putRegister(laterEmulator, REGISTRATION_ID, vectorToken(SR_UPPER, SIG_UPPER));

          assertUnauthorized(response, VECTOR_EXPIRY_EPOCH_SECONDS * 1000 + 1000);
          assert.match(lastRequest(laterEmulator).reason, /se is 1767225600 \(2026-01-01T00:00:00Z\), 1 s ago .*\[se-expired\]/);
        } finally {
          await laterEmulator.close();
        }
      });

      it('sends the pinned clock in Date', async function () {
        const response = await putRegister(emulator, REGISTRATION_ID, vectorToken(SR_UPPER, SIG_UPPER));

        assert.equal(response.headers.date, new Date(PINNED_NOW_MS).toUTCString());
        assert.equal(lastRequest(emulator).atMs, PINNED_NOW_MS);
      });

      it('keeps keys and signatures out of the log', function () {
        assert.ok(logLines.length >= 8, `expected a log line per request, got ${logLines.length}`);
        const secrets = [GROUP_KEY, DERIVED_KEY, SIG_UPPER, SIG_LOWER, SIG_RAW, SIG_WITH_GROUP_KEY, SIG_WITH_KEY_TEXT_BYTES, SIG_DOUBLE_ENCODED];
        for (const line of logLines) {
          assert.doesNotMatch(line, /SharedAccessSignature|sig=/, `log line shows a token: ${line}`);
          for (const secret of secrets) {
            assert.ok(!line.includes(secret), `log line contains a secret: ${line}`);
            assert.ok(!line.includes(encodeURIComponent(secret)), `log line contains an encoded secret: ${line}`);
          }
        }
      });
    });
  }
});

describe('DPS emulator protocol and knobs', function () {
  let emulator;
  const logLines = [];

  before(async function () {
    emulator = await startEmulator({
      explainRejection: explainRejectionBriefly,
      enrollments: {
        idScope: ID_SCOPE,
        individual: [
          { registrationId: 'sensor-ind-01', primaryKey: INDIVIDUAL_KEY, deviceId: 'thermostat-7' },
          { registrationId: 'sensor-off-01', primaryKey: INDIVIDUAL_KEY, enabled: false },
        ],
        groups: [
          { enrollmentGroupId: 'retired-group', primaryKey: INDIVIDUAL_KEY, enabled: false },
          { enrollmentGroupId: 'demo-group', primaryKey: GROUP_KEY },
        ],
      },
      hubHostName: 'example-hub.azure-devices.net',
      log: (line) => logLines.push(line),
    });
  });

  after(async function () {
    await emulator.close();
  });

  beforeEach(function () {
    emulator.resetRequests();
  });

  function groupToken(registrationId, extra = {}) {
    return buildDpsToken({
      idScope: ID_SCOPE,
      registrationId,
      keyBase64: deriveDeviceKey(GROUP_KEY, registrationId),
      expiryEpochSeconds: Math.floor(Date.now() / 1000) + 3600,
      ...extra,
    });
  }

  async function registerAndPoll(registrationId, token) {
    const put = await putRegister(emulator, registrationId, token);
    assert.equal(put.status, 202, `register failed: ${put.text}`);

    const polls = [];
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const poll = await getOperation(emulator, registrationId, put.json.operationId, token);
      polls.push(poll);
      if (poll.status !== 202) {
        break;
      }
      await sleep(20);
    }
    return { put, polls, final: polls[polls.length - 1] };
  }

  it('returns 202, Location and Retry-After on register', async function () {
    const response = await putRegister(emulator, 'proto-01', groupToken('proto-01'));

    assert.equal(response.status, 202);
    assert.equal(response.json.status, 'assigning');
    assert.match(response.json.operationId, /^5\.[0-9a-f]{16}\.[0-9a-f-]{36}$/);
    assert.equal(response.headers['retry-after'], '1');
    assert.equal(response.headers.location, `${emulator.url}/${ID_SCOPE}/registrations/proto-01/register`);
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.text)));
    assert.match(response.headers['content-type'], /^application\/json/);
    assert.ok(response.headers.date, 'Date header is missing');
  });

  it('returns the full registrationState when assigned', async function () {
    const { final } = await registerAndPoll('sensor-ind-01', buildDpsToken({
      idScope: ID_SCOPE,
      registrationId: 'sensor-ind-01',
      keyBase64: INDIVIDUAL_KEY,
      expiryEpochSeconds: Math.floor(Date.now() / 1000) + 3600,
      srStyle: 'raw',
    }));

    assert.equal(final.status, 200);
    assert.equal(final.json.status, 'assigned');
    const state = final.json.registrationState;
    assert.equal(state.registrationId, 'sensor-ind-01');
    assert.equal(state.assignedHub, 'example-hub.azure-devices.net');
    assert.equal(state.deviceId, 'thermostat-7');
    assert.equal(state.status, 'assigned');
    assert.equal(state.substatus, 'initialAssignment');
    assert.ok(!Number.isNaN(Date.parse(state.createdDateTimeUtc)), 'createdDateTimeUtc is not a date');
    assert.ok(!Number.isNaN(Date.parse(state.lastUpdatedDateTimeUtc)), 'lastUpdatedDateTimeUtc is not a date');
    assert.equal(typeof state.etag, 'string');
    assert.equal(final.headers['retry-after'], undefined);
  });

  it('keeps assigning during assignmentDelayMs', async function () {
    emulator.setKnobs('delay-01', { assignmentDelayMs: 300 });

    const { polls, final } = await registerAndPoll('delay-01', groupToken('delay-01'));

    assert.equal(polls[0].status, 202);
    assert.equal(polls[0].json.status, 'assigning');
    assert.equal(polls[0].headers['retry-after'], '1');
    assert.ok(polls.length >= 2, 'the first poll should not be final');
    assert.equal(final.status, 200);
    assert.equal(final.json.status, 'assigned');
  });

  it('sends the retryAfterSeconds value', async function () {
    emulator.setKnobs('retry-01', { retryAfterSeconds: 5, assignmentDelayMs: 60000 });
    const token = groupToken('retry-01');

    const put = await putRegister(emulator, 'retry-01', token);
    const poll = await getOperation(emulator, 'retry-01', put.json.operationId, token);

    assert.equal(put.headers['retry-after'], '5');
    assert.equal(poll.status, 202);
    assert.equal(poll.headers['retry-after'], '5');
  });

  it('omits Retry-After when retryAfterSeconds is null', async function () {
    emulator.setKnobs('retry-02', { retryAfterSeconds: null, assignmentDelayMs: 60000 });
    const token = groupToken('retry-02');

    const put = await putRegister(emulator, 'retry-02', token);
    const poll = await getOperation(emulator, 'retry-02', put.json.operationId, token);

    assert.equal(put.status, 202);
    assert.equal(put.headers['retry-after'], undefined);
    assert.equal(poll.status, 202);
    assert.equal(poll.headers['retry-after'], undefined);
  });

  it('prefers per-registration knobs over "*"', async function () {
    emulator.setKnobs('*', { retryAfterSeconds: 4 });
    emulator.setKnobs('retry-03', { retryAfterSeconds: 2 });
    try {
      const own = await putRegister(emulator, 'retry-03', groupToken('retry-03'));
      const shared = await putRegister(emulator, 'retry-04', groupToken('retry-04'));

      assert.equal(own.headers['retry-after'], '2');
      assert.equal(shared.headers['retry-after'], '4');
    } finally {
      emulator.setKnobs('*', { retryAfterSeconds: 1 });
    }
  });

  it('throttles the first PUT, then succeeds', async function () {
    emulator.setKnobs('throttle-01', { throttleFirstPut: 7 });
    const token = groupToken('throttle-01');

    const first = await putRegister(emulator, 'throttle-01', token);
    assert.equal(first.status, 429);
    assert.equal(first.headers['retry-after'], '7');
    assert.equal(first.headers['x-ms-error-code'], '429001');
    assert.equal(first.json.errorCode, 429001);

    const { put, final } = await registerAndPoll('throttle-01', token);
    assert.equal(put.status, 202);
    assert.equal(final.json.status, 'assigned');
    assert.deepEqual(emulator.requests.map((entry) => entry.outcome), ['throttled', 'assigning', 'assigned']);
  });

  it('returns 500 once with serverErrorOnce', async function () {
    emulator.setKnobs('error-01', { serverErrorOnce: 500 });
    const token = groupToken('error-01');

    const first = await putRegister(emulator, 'error-01', token);
    const second = await putRegister(emulator, 'error-01', token);

    assert.equal(first.status, 500);
    assert.equal(first.json.errorCode, 500001);
    assert.equal(first.headers['x-ms-error-code'], '500001');
    assert.equal(second.status, 202);
  });

  it('returns 503 once to a poll', async function () {
    emulator.setKnobs('error-02', { assignmentDelayMs: 0 });
    const token = groupToken('error-02');
    const put = await putRegister(emulator, 'error-02', token);

    emulator.setKnobs('error-02', { serverErrorOnce: 503 });
    const failedPoll = await getOperation(emulator, 'error-02', put.json.operationId, token);
    const retriedPoll = await getOperation(emulator, 'error-02', put.json.operationId, token);

    assert.equal(failedPoll.status, 503);
    assert.equal(failedPoll.json.errorCode, 503001);
    assert.equal(retriedPoll.status, 200);
    assert.equal(retriedPoll.json.status, 'assigned');
  });

  it('reports status failed with errorCode', async function () {
    emulator.setKnobs('failed-01', { outcome: 'failed' });

    const { final } = await registerAndPoll('failed-01', groupToken('failed-01'));

    assert.equal(final.status, 200);
    assert.equal(final.json.status, 'failed');
    assert.equal(final.json.registrationState.status, 'failed');
    assert.equal(final.json.registrationState.errorCode, 400208);
    assert.equal(typeof final.json.registrationState.errorMessage, 'string');
    assert.equal(final.json.registrationState.assignedHub, undefined);
  });

  it('uses failedErrorCode in a failed state', async function () {
    emulator.setKnobs('failed-02', { outcome: 'failed', failedErrorCode: 400209 });

    const { final } = await registerAndPoll('failed-02', groupToken('failed-02'));

    assert.equal(final.json.registrationState.errorCode, 400209);
  });

  it('reports status disabled from the outcome knob', async function () {
    emulator.setKnobs('disabled-01', { outcome: 'disabled' });

    const { final } = await registerAndPoll('disabled-01', groupToken('disabled-01'));

    assert.equal(final.status, 200);
    assert.equal(final.json.status, 'disabled');
    assert.equal(final.json.registrationState.status, 'disabled');
    assert.equal(final.json.registrationState.registrationId, 'disabled-01');
  });

  it('reports disabled individual enrollment', async function () {
    const token = buildDpsToken({
      idScope: ID_SCOPE,
      registrationId: 'sensor-off-01',
      keyBase64: INDIVIDUAL_KEY,
      expiryEpochSeconds: Math.floor(Date.now() / 1000) + 3600,
    });

    const { final } = await registerAndPoll('sensor-off-01', token);

    assert.equal(final.json.status, 'disabled');
  });

  it('reports disabled group enrollment', async function () {
    const token = buildDpsToken({
      idScope: ID_SCOPE,
      registrationId: 'retired-01',
      keyBase64: deriveDeviceKey(INDIVIDUAL_KEY, 'retired-01'),
      expiryEpochSeconds: Math.floor(Date.now() / 1000) + 3600,
    });

    const { final } = await registerAndPoll('retired-01', token);

    assert.equal(final.json.status, 'disabled');
  });

  it('rejects invalid knobs with their name', function () {
    assert.throws(() => emulator.setKnobs('x-01', { outcome: 'maybe' }), /knob "outcome" must be one of/);
    assert.throws(() => emulator.setKnobs('x-01', { serverErrorOnce: 502 }), /knob "serverErrorOnce" must be 500, 503 or false/);
    assert.throws(() => emulator.setKnobs('x-01', { retryAfter: 3 }), /unknown knob "retryAfter"/);
    assert.throws(() => emulator.setKnobs('', { outcome: 'failed' }), /registration ID or "\*"/);
  });

  it('requires api-version', async function () {
    const response = await putRegister(emulator, 'proto-02', groupToken('proto-02'), { path: registerPath('proto-02', '') });

    assert.equal(response.status, 400);
    assert.equal(response.headers['x-ms-error-code'], '400004');
    assert.match(response.json.message, /api-version/);
  });

  it('rejects an unknown api-version', async function () {
    const response = await putRegister(emulator, 'proto-02', groupToken('proto-02'), {
      path: registerPath('proto-02', '?api-version=2099-01-01'),
    });

    assert.equal(response.status, 400);
    assert.match(response.json.message, /Unsupported api-version "2099-01-01"/);
  });

  it('rejects a body registrationId mismatch', async function () {
    const response = await putRegister(emulator, 'proto-03', groupToken('proto-03'), {
      body: JSON.stringify({ registrationId: 'proto-99' }),
    });

    assert.equal(response.status, 400);
    assert.match(response.json.message, /"proto-99" does not match "proto-03"/);
  });

  it('rejects a body that is not JSON', async function () {
    const response = await putRegister(emulator, 'proto-03', groupToken('proto-03'), { body: 'registrationId=proto-03' });

    assert.equal(response.status, 400);
    assert.match(response.json.message, /not valid JSON/);
  });

  it('rejects a non-JSON Content-Type', async function () {
    const response = await putRegister(emulator, 'proto-03', groupToken('proto-03'), {
      headers: { 'Content-Type': 'text/plain' },
    });

    assert.equal(response.status, 415);
    assert.match(response.json.message, /Content-Type must be application\/json/);
  });

  it('accepts token parameters in any order', async function () {
    const token = groupToken('order-01');
    const fields = token.slice('SharedAccessSignature '.length).split('&');
    const reordered = `SharedAccessSignature ${[fields[1], fields[2], fields[3], fields[0]].join('&')}`;
    assert.match(reordered, /^SharedAccessSignature sig=.*&se=.*&skn=registration&sr=/);

    const response = await putRegister(emulator, 'order-01', reordered);

    assert.equal(response.status, 202);
  });

  it('rejects an expired token', async function () {
    const token = groupToken('expired-01', { expiryEpochSeconds: 3600 });

    const response = await putRegister(emulator, 'expired-01', token);

    assert.equal(response.status, 401);
    assert.equal(response.json.errorCode, 401002);
    assert.match(lastRequest(emulator).reason, /token expired at 1970-01-01T01:00:00\.000Z/);
  });

  it('rejects sr naming another ID scope', async function () {
    const token = groupToken('scope-01', { idScope: '0ne00000A0A' });

    const response = await putRegister(emulator, 'scope-01', token);

    assert.equal(response.status, 401);
    assert.equal(response.json.errorCode, 401002);
    assert.match(lastRequest(emulator).reason, /sr names another ID scope \("0ne00000A0A", expected "0ne000A1B2C"\)/);
  });

  it('rejects sr naming another registration', async function () {
    const token = buildDpsToken({
      idScope: ID_SCOPE,
      registrationId: 'other-01',
      keyBase64: deriveDeviceKey(GROUP_KEY, 'reg-01'),
      expiryEpochSeconds: Math.floor(Date.now() / 1000) + 3600,
    });

    const response = await putRegister(emulator, 'reg-01', token);

    assert.equal(response.status, 401);
    assert.equal(response.json.errorCode, 401002);
    assert.match(lastRequest(emulator).reason, /sr names another registration \("other-01", expected "reg-01"\)/);
  });

  it('rejects a token without skn', async function () {
    const response = await putRegister(emulator, 'skn-01', groupToken('skn-01', { skn: null }));

    assert.equal(response.status, 401);
    assert.match(lastRequest(emulator).reason, /skn is null, expected "registration"/);
  });

  it('rejects a request without Authorization', async function () {
    const response = await putRegister(emulator, 'auth-01', undefined);

    assert.equal(response.status, 401);
    assert.equal(response.json.errorCode, 401002);
    assert.match(lastRequest(emulator).reason, /Authorization header is missing/);
  });

  it('rejects a path with another ID scope', async function () {
    const response = await putRegister(emulator, 'scope-02', groupToken('scope-02'), {
      path: `/0ne00000A0A/registrations/scope-02/register?api-version=${API_VERSION}`,
    });

    assert.equal(response.status, 401);
    assert.match(lastRequest(emulator).reason, /ID scope "0ne00000A0A" in the path/);
  });

  it('returns 404 for an unknown operation', async function () {
    const token = groupToken('op-01');

    const response = await getOperation(emulator, 'op-01', '5.0000000000000000.00000000-0000-0000-0000-000000000000', token);

    assert.equal(response.status, 404);
    assert.match(response.json.message, /was not found/);
  });

  it('returns 405 for a wrong method', async function () {
    const response = await sendToEmulator(emulator, { method: 'GET', path: registerPath('proto-04') });

    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'PUT');
  });

  it('records each request', async function () {
    const token = groupToken('record-01');
    await putRegister(emulator, 'record-01', token);
    await putRegister(emulator, 'record-01', 'SharedAccessSignature sr=x');

    assert.equal(emulator.requests.length, 2);
    const [accepted, rejected] = emulator.requests;
    assert.equal(accepted.method, 'PUT');
    assert.equal(accepted.path, registerPath('record-01'));
    assert.equal(accepted.status, 202);
    assert.equal(accepted.registrationId, 'record-01');
    assert.match(accepted.operationId, /^5\./);
    assert.equal(accepted.outcome, 'assigning');
    assert.equal(typeof accepted.atMs, 'number');
    assert.equal(rejected.status, 401);
    assert.equal(rejected.outcome, 'rejected');
    assert.match(rejected.trackingId, UUID_PATTERN);
  });

  it('passes rejections to explainRejection', async function () {
    const rejections = [];
    const explainingEmulator = await startEmulator({
      enrollments: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'demo-group', primaryKey: GROUP_KEY }] },
      log: () => {},
      explainRejection: (rejection) => {
        rejections.push(rejection);
        return `custom reason for ${rejection.problem}`;
      },
    });
    try {
      await putRegister(explainingEmulator, 'explain-01', groupToken('explain-01', { keyBase64: INDIVIDUAL_KEY }));

      assert.equal(rejections.length, 1);
      assert.equal(rejections[0].problem, 'signature-mismatch');
      assert.equal(rejections[0].expected.registrationId, 'explain-01');
      assert.equal(rejections[0].expected.resourceUri, `${ID_SCOPE}/registrations/explain-01`);
      assert.equal(rejections[0].token.skn, 'registration');
      assert.equal(rejections[0].candidates[0].enrollmentGroupId, 'demo-group');
      assert.equal(lastRequest(explainingEmulator).reason, 'custom reason for signature-mismatch');
    } finally {
      await explainingEmulator.close();
    }
  });

  it('rejects unknown registration without groups', async function () {
    const individualOnly = await startEmulator({
      enrollments: { idScope: ID_SCOPE, individual: [{ registrationId: 'sensor-ind-01', primaryKey: INDIVIDUAL_KEY }] },
      log: () => {},
    });
    try {
      const response = await putRegister(individualOnly, 'stranger-01', groupToken('stranger-01'));

      assert.equal(response.status, 401);
      assert.equal(response.json.errorCode, 401002);
      assert.match(lastRequest(individualOnly).reason, /no enrollment accepts registration ID "stranger-01"/);
    } finally {
      await individualOnly.close();
    }
  });

  it('logs one line per request without secrets', function () {
    assert.ok(logLines.length > 20, `expected many log lines, got ${logLines.length}`);
    for (const line of logLines) {
      assert.doesNotMatch(line, /SharedAccessSignature|sig=/, `log line shows a token: ${line}`);
      assert.ok(!line.includes(GROUP_KEY), `log line contains the group key: ${line}`);
      assert.ok(!line.includes(INDIVIDUAL_KEY), `log line contains a key: ${line}`);
    }
    assert.ok(logLines.some((line) => / -> 401 rejected \(.+\) tracking=[0-9a-f-]{36}$/.test(line)), 'no rejection line');
    assert.ok(logLines.some((line) => / -> 202 assigning operation=5\./.test(line)), 'no register line');
  });
});

describe('DPS emulator start options', function () {
  it('rejects a non-loopback host', async function () {
    await assert.rejects(
      startEmulator({ enrollments: { idScope: ID_SCOPE }, host: '0.0.0.0', log: () => {} }),
      /"host": "0\.0\.0\.0" is not a loopback address/,
    );
  });

  it('requires exactly one enrollments source', async function () {
    await assert.rejects(startEmulator({ log: () => {} }), /exactly one of "enrollments".*or "enrollmentsFile"/);
  });

  it('rejects an invalid hubHostName', async function () {
    await assert.rejects(
      startEmulator({ enrollments: { idScope: ID_SCOPE }, hubHostName: 'https://hub/', log: () => {} }),
      /"hubHostName": must be a bare host name/,
    );
  });

  it('logs a failed TLS handshake', async function () {
    const logLines = [];
    const emulator = await startEmulator({ enrollments: { idScope: ID_SCOPE }, log: (line) => logLines.push(line) });
    try {
      // Without the emulator's certificate as a CA, the client aborts the handshake.
      await assert.rejects(sendToEmulator({ url: emulator.url, certificatePem: undefined }, { method: 'GET', path: '/' }));

      for (let attempt = 0; attempt < 50 && logLines.length === 0; attempt += 1) {
        await sleep(20);
      }
      assert.equal(logLines.length, 1);
      assert.match(logLines[0], /^TLS handshake failed with .+: \S/);
    } finally {
      await emulator.close();
    }
  });

  it('serves a certificate for 127.0.0.1 and localhost', async function () {
    const emulator = await startEmulator({ enrollments: { idScope: ID_SCOPE }, host: 'localhost', log: () => {} });
    try {
      const { X509Certificate } = await import('node:crypto');
      const certificate = new X509Certificate(emulator.certificatePem);

      assert.match(certificate.subjectAltName, /DNS:localhost/);
      assert.match(certificate.subjectAltName, /IP Address:127\.0\.0\.1/);
      assert.equal(certificate.fingerprint256, emulator.fingerprintSha256);
      assert.match(emulator.url, /^https:\/\/localhost:[0-9]+$/);
    } finally {
      await emulator.close();
    }
  });
});

describe('DPS emulator default rejection diagnosis', function () {
  let emulator;

  before(async function () {
    emulator = await startEmulator({
      enrollments: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'sensors', primaryKey: GROUP_KEY }] },
      nowMs: () => PINNED_NOW_MS,
      log: () => {},
    });
  });

  after(async function () {
    await emulator.close();
  });

  // Field-failure case, sr and sig as sent, and the cause the diagnosis must name.
  const cases = [
    { name: 'F1 group key used directly', sr: SR_UPPER, sig: SIG_WITH_GROUP_KEY, code: /\[signed-with-group-key\]/ },
    { name: 'F3 key text not decoded', sr: SR_UPPER, sig: SIG_WITH_KEY_TEXT_BYTES, code: /\[key-not-base64-decoded\]/ },
    { name: 'F4 sr encoded twice', sr: SR_DOUBLE_ENCODED, sig: SIG_DOUBLE_ENCODED, code: /\[sr-double-encoded\]/ },
  ];
  for (const { name, sr, sig, code } of cases) {
    it(`names ${name}`, async function () {
      const response = await putRegister(emulator, REGISTRATION_ID, vectorToken(sr, sig));

      assertUnauthorized(response, PINNED_NOW_MS);
      assert.match(lastRequest(emulator).reason, code);
    });
  }
});
