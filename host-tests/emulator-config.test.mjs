// Tests of the DPS emulator's enrollment file validation, group key derivation and command line.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELP_TEXT, parseCommandLine } from '../scripts/emulator/command-line.mjs';
import { deriveGroupDeviceKey, loadEnrollmentsFile, parseEnrollments } from '../scripts/emulator/enrollments.mjs';
import { sendToEmulator } from './emulator-helpers.mjs';

const ID_SCOPE = '0ne000A1B2C';
const GROUP_KEY = 'Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==';
const INDIVIDUAL_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

describe('deriveGroupDeviceKey', function () {
  it('matches the Azure docs vector', function () {
    const derived = deriveGroupDeviceKey(
      '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==',
      'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6',
    );

    assert.equal(derived, 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=');
  });

  it('matches the sensor-01 vector', function () {
    assert.equal(deriveGroupDeviceKey(GROUP_KEY, 'sensor-01'), 'rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=');
  });
});

describe('parseEnrollments', function () {
  it('fills in deviceId and enabled', function () {
    const enrollments = parseEnrollments({
      idScope: ID_SCOPE,
      individual: [{ registrationId: 'sensor-ind-01', primaryKey: INDIVIDUAL_KEY }],
      groups: [{ enrollmentGroupId: 'demo-group', primaryKey: GROUP_KEY }],
    });

    assert.deepEqual(enrollments.individual, [
      { registrationId: 'sensor-ind-01', primaryKey: INDIVIDUAL_KEY, deviceId: 'sensor-ind-01', enabled: true },
    ]);
    assert.deepEqual(enrollments.groups, [{ enrollmentGroupId: 'demo-group', primaryKey: GROUP_KEY, enabled: true }]);
  });

  it('accepts missing lists', function () {
    assert.deepEqual(parseEnrollments({ idScope: ID_SCOPE }), { idScope: ID_SCOPE, individual: [], groups: [] });
  });

  // Each row: the document, then a pattern the message must match (it names the field and the entry).
  const invalidCases = [
    { name: 'not an object', document: [], message: /expected a JSON object/ },
    { name: 'missing idScope', document: {}, message: /"idScope" must be "0ne" followed by 8 hexadecimal digits/ },
    { name: 'individual not an array', document: { idScope: ID_SCOPE, individual: {} }, message: /"individual" must be an array/ },
    {
      name: 'missing registrationId',
      document: { idScope: ID_SCOPE, individual: [{ primaryKey: INDIVIDUAL_KEY }] },
      message: /individual\[0\]: "registrationId" must be a non-empty string/,
    },
    {
      name: 'registrationId ending in a dot',
      document: { idScope: ID_SCOPE, individual: [{ registrationId: 'sensor.', primaryKey: INDIVIDUAL_KEY }] },
      message: /individual\[0\]: "registrationId" "sensor\." may contain only/,
    },
    {
      name: 'missing primaryKey',
      document: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'g' }] },
      message: /groups\[0\]: "primaryKey" is missing/,
    },
    {
      name: 'primaryKey not Base64',
      document: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'g', primaryKey: 'not base64!' }] },
      message: /groups\[0\]: "primaryKey" is not standard Base64/,
    },
    {
      name: 'primaryKey too short',
      document: { idScope: ID_SCOPE, individual: [{ registrationId: 'a-01', primaryKey: 'AAECAw==' }] },
      message: /individual\[0\]: "primaryKey" decodes to 4 bytes; DPS keys are 16 to 64 bytes/,
    },
    {
      name: 'enabled not boolean',
      document: { idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'g', primaryKey: GROUP_KEY, enabled: 'yes' }] },
      message: /groups\[0\]: "enabled" must be true or false/,
    },
    {
      name: 'duplicate registrationId',
      document: {
        idScope: ID_SCOPE,
        individual: [
          { registrationId: 'a-01', primaryKey: INDIVIDUAL_KEY },
          { registrationId: 'a-01', primaryKey: INDIVIDUAL_KEY },
        ],
      },
      message: /"individual" has two entries with registrationId "a-01"/,
    },
  ];
  for (const { name, document, message } of invalidCases) {
    it(`rejects ${name}`, function () {
      assert.throws(() => parseEnrollments(document, 'test.json'), (error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /test\.json/);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('keeps the key out of messages', function () {
    const secretLookingKey = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=!';

    assert.throws(
      () => parseEnrollments({ idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'g', primaryKey: secretLookingKey }] }),
      (error) => !error.message.includes(secretLookingKey),
    );
  });
});

describe('loadEnrollmentsFile', function () {
  let directory;

  before(async function () {
    directory = await mkdtemp(join(tmpdir(), 'emulator-enrollments-'));
  });

  after(async function () {
    await rm(directory, { recursive: true, force: true });
  });

  it('names a missing file', async function () {
    const filePath = join(directory, 'absent.json');

    await assert.rejects(loadEnrollmentsFile(filePath), new RegExp(`Cannot read enrollments file "${filePath}"`));
  });

  it('names a file that is not JSON', async function () {
    const filePath = join(directory, 'broken.json');
    await writeFile(filePath, '{ "idScope": ');

    await assert.rejects(loadEnrollmentsFile(filePath), /is not valid JSON/);
  });
});

describe('emulator command line', function () {
  it('maps options to emulator settings and knobs', function () {
    const parsed = parseCommandLine([
      '--enrollments', 'e.json', '--port', '8443', '--hub-host', 'myhub.example', '--assignment-delay-ms', '2500',
      '--retry-after-seconds', 'none', '--throttle-first-put', '5', '--server-error-once', '503', '--outcome', 'failed',
      '--failed-error-code', '400209', '--certificate-out', 'cert.pem',
    ]);

    assert.equal(parsed.help, false);
    assert.equal(parsed.certificateOut, 'cert.pem');
    assert.deepEqual(parsed.emulatorOptions, {
      enrollmentsFile: 'e.json',
      port: 8443,
      hubHostName: 'myhub.example',
      knobs: {
        assignmentDelayMs: 2500,
        retryAfterSeconds: null,
        throttleFirstPut: 5,
        serverErrorOnce: 503,
        outcome: 'failed',
        failedErrorCode: 400209,
      },
    });
  });

  it('requires --enrollments', function () {
    assert.throws(() => parseCommandLine(['--port', '0']), /Missing --enrollments FILE/);
  });

  it('rejects a non-numeric --port', function () {
    assert.throws(() => parseCommandLine(['--enrollments', 'e.json', '--port', 'eighty']), /Invalid --port "eighty"/);
  });

  it('rejects an unknown option', function () {
    assert.throws(() => parseCommandLine(['--enrolments', 'e.json']), /--enrolments.*--help/s);
  });

  it('help names units of timing options', function () {
    assert.deepEqual(parseCommandLine(['--help']), { help: true });
    assert.match(HELP_TEXT, /--assignment-delay-ms N\s+Time from the register request.*\n.*in milliseconds/);
    assert.match(HELP_TEXT, /--retry-after-seconds N\|none\s+Retry-After header on 202 responses, in seconds/);
    assert.match(HELP_TEXT, /--throttle-first-put N[\s\S]*Retry-After: N seconds/);
  });
});

describe('emulator main process', function () {
  let directory;

  before(async function () {
    directory = await mkdtemp(join(tmpdir(), 'emulator-main-'));
  });

  after(async function () {
    await rm(directory, { recursive: true, force: true });
  });

  function runMain(args) {
    return spawn(process.execPath, ['--import', 'tsx', 'scripts/emulator/main.mjs', ...args], {
      cwd: new URL('..', import.meta.url),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  function waitForExit(child) {
    return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  it('prints the URL, serves requests and stops on SIGINT', async function () {
    const enrollmentsPath = join(directory, 'enrollments.json');
    const certificatePath = join(directory, 'emulator.pem');
    await writeFile(enrollmentsPath, JSON.stringify({ idScope: ID_SCOPE, groups: [{ enrollmentGroupId: 'g', primaryKey: GROUP_KEY }] }));

    const child = runMain(['--enrollments', enrollmentsPath, '--port', '0', '--certificate-out', certificatePath]);
    const exited = waitForExit(child);
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });

    try {
      const url = await new Promise((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /listening at (https:\/\/127\.0\.0\.1:[0-9]+)/.exec(output);
          if (match !== null && output.includes('Press Ctrl-C')) {
            resolve(match[1]);
          }
        });
        child.on('exit', (code) => reject(new Error(`emulator exited with code ${code}: ${output}`)));
      });
      const certificatePem = await readFile(certificatePath, 'utf8');

      const response = await sendToEmulator({ url, certificatePem }, {
        method: 'PUT',
        path: `/${ID_SCOPE}/registrations/sensor-01/register?api-version=2021-10-01`,
        headers: { 'Content-Type': 'application/json' },
        body: '{"registrationId":"sensor-01"}',
      });

      assert.equal(response.status, 401);
      assert.equal(response.json.errorCode, 401002);
    } finally {
      child.kill('SIGINT');
    }

    assert.equal(await exited, 0);
    assert.match(output, /ID scope 0ne000A1B2C; devices are assigned to hub "localhost"/);
    assert.match(output, /PUT \/0ne000A1B2C\/registrations\/sensor-01\/register\?api-version=2021-10-01 -> 401 rejected \(the Authorization header is missing\)/);
    assert.match(output, /Stopping the DPS emulator \(SIGINT\)/);
  });

  it('exits with an error for an invalid enrollments file', async function () {
    const enrollmentsPath = join(directory, 'invalid.json');
    await writeFile(enrollmentsPath, JSON.stringify({ idScope: 'scope-1' }));

    const child = runMain(['--enrollments', enrollmentsPath]);
    let errorOutput = '';
    child.stderr.on('data', (chunk) => {
      errorOutput += chunk;
    });

    assert.equal(await waitForExit(child), 1);
    assert.match(errorOutput, /DPS emulator failed to start: Invalid .*invalid\.json: "idScope" must be "0ne"/);
  });
});
