// Command-line options of the DPS emulator (`npm run emulator -- ...`).

import { parseArgs } from 'node:util';
import { FAULT_MATCHES, FAULTS, parseFaultOption } from './faults.mjs';
import { OUTCOMES } from './knobs.mjs';

// Joins names with ", " into lines of at most `width` characters, indenting every line after the first.
function wrapList(names, indent, width) {
  const lines = [''];
  for (const name of names) {
    const last = lines.length - 1;
    const candidate = lines[last] === '' ? name : `${lines[last]}, ${name}`;
    if (indent + 7 + candidate.length > width && lines[last] !== '') {
      lines[last] += ',';
      lines.push(name);
    } else {
      lines[last] = candidate;
    }
  }
  return lines.join(`\n${' '.repeat(indent + 7)}`);
}

/** Help text printed by `--help`. */
export const HELP_TEXT = `Usage: npm run emulator -- --enrollments FILE [options]

Runs a local Azure Device Provisioning Service (device registration over HTTPS) and IoT Hub (telemetry and
cloud-to-device messages over HTTPS) until Ctrl-C.

Options:
  --enrollments FILE            JSON file with idScope and the individual and group enrollments (required)
  --port N                      TCP port to listen on; 0 picks a free port (default 0)
  --host ADDRESS                Address to listen on (default 127.0.0.1); must be loopback unless
                                --allow-non-loopback is given
  --allow-non-loopback          Allow a LAN address for --host, so a real board can connect
  --hub-host NAME               Host name handed to devices as assignedHub (default localhost)
  --assignment-delay-ms N       Time from the register request until polls return the final state,
                                in milliseconds (default 0)
  --retry-after-seconds N|none  Retry-After header on 202 responses, in seconds; "none" omits it (default 1)
  --throttle-first-put N        Answer the first register request of each device with 429 and
                                Retry-After: N seconds (default off)
  --server-error-once 500|503   Answer the next request with this status once (default off)
  --outcome NAME                Final registration status: ${OUTCOMES.join(', ')} (default assigned)
  --failed-error-code N         registrationState.errorCode when --outcome is failed (default 400208)
  --fault MATCH:FAULT[:COUNT]   Answer the next COUNT (default 1) matching requests with a fault; repeat to arm
                                more, used in order. MATCH: ${FAULT_MATCHES.join(', ')}.
                                FAULT: ${wrapList(Object.keys(FAULTS), 32, 110)}
  --certificate-out FILE        Write the emulator's self-signed certificate (PEM) to FILE, for clients to trust
  --help                        Print this text and exit

Enrollments file (idScope is "0ne" and 8 hexadecimal digits; keys are Base64 of 16 to 64 bytes; "deviceId" and
"enabled" are optional):
  {
    "idScope": "0ne000A1B2C",
    "individual": [{ "registrationId": "sensor-ind-01", "primaryKey": "<Base64 key>", "deviceId": "thermostat-7" }],
    "groups": [{ "enrollmentGroupId": "sensors", "primaryKey": "<Base64 group key>", "enabled": true }]
  }

The same server is also the IoT Hub that devices are assigned to. At start the emulator prints a loopback
"hub control" URL; \`npm run emulator -- hub --help\` lists the commands that use it (queue a C2D message,
list received telemetry, simulate an outage, a 401 or a 429).
`;

const OPTION_DEFINITIONS = {
  enrollments: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'allow-non-loopback': { type: 'boolean' },
  'hub-host': { type: 'string' },
  'assignment-delay-ms': { type: 'string' },
  'retry-after-seconds': { type: 'string' },
  'throttle-first-put': { type: 'string' },
  'server-error-once': { type: 'string' },
  fault: { type: 'string', multiple: true },
  outcome: { type: 'string' },
  'failed-error-code': { type: 'string' },
  'certificate-out': { type: 'string' },
  help: { type: 'boolean' },
};

/**
 * Parses the emulator's command-line arguments.
 *
 * @param {string[]} args Arguments after the script name.
 * @returns {{ help: true } | { help: false, certificateOut?: string, emulatorOptions: object }} Either a request for
 *   help, or options for `startEmulator` and where to write the certificate.
 * @throws {TypeError} When an option is unknown, missing or has an invalid value; the message names the option.
 */
export function parseCommandLine(args) {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTION_DEFINITIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new TypeError(`${error.message}. Run with --help to see the options.`);
  }

  if (values.help) {
    return { help: true };
  }

  if (values.enrollments === undefined) {
    throw new TypeError('Missing --enrollments FILE: give the JSON file with idScope and the enrollments. Run with --help for details.');
  }

  const knobs = {};
  if (values['assignment-delay-ms'] !== undefined) {
    knobs.assignmentDelayMs = parseWholeNumber(values['assignment-delay-ms'], '--assignment-delay-ms');
  }
  if (values['retry-after-seconds'] !== undefined) {
    const text = values['retry-after-seconds'];
    knobs.retryAfterSeconds = text === 'none' ? null : parseWholeNumber(text, '--retry-after-seconds');
  }
  if (values['throttle-first-put'] !== undefined) {
    knobs.throttleFirstPut = parseWholeNumber(values['throttle-first-put'], '--throttle-first-put');
  }
  if (values['server-error-once'] !== undefined) {
    knobs.serverErrorOnce = parseWholeNumber(values['server-error-once'], '--server-error-once');
  }
  if (values.outcome !== undefined) {
    knobs.outcome = values.outcome;
  }
  if (values['failed-error-code'] !== undefined) {
    knobs.failedErrorCode = parseWholeNumber(values['failed-error-code'], '--failed-error-code');
  }

  const emulatorOptions = { enrollmentsFile: values.enrollments, knobs };
  if (values.fault !== undefined) {
    emulatorOptions.faults = values.fault.map(parseFaultOption);
  }
  if (values.port !== undefined) {
    emulatorOptions.port = parseWholeNumber(values.port, '--port');
  }
  if (values.host !== undefined) {
    emulatorOptions.host = values.host;
  }
  if (values['allow-non-loopback']) {
    emulatorOptions.allowNonLoopback = true;
  }
  if (values['hub-host'] !== undefined) {
    emulatorOptions.hubHostName = values['hub-host'];
  }

  return { help: false, certificateOut: values['certificate-out'], emulatorOptions };
}

function parseWholeNumber(text, optionName) {
  if (!/^[0-9]+$/.test(text)) {
    throw new TypeError(`Invalid ${optionName} "${text}": expected a whole number`);
  }
  return Number(text);
}
