// `npm run emulator -- hub COMMAND --control URL ...`: talks to the IoT Hub of an emulator running in another terminal.

import { parseArgs } from 'node:util';
import { sendControlRequest } from './hub-control.mjs';

/** Help text of the hub commands. */
export const HUB_HELP_TEXT = `Usage: npm run emulator -- hub COMMAND --control URL [options]

Talks to the IoT Hub of a running emulator. URL is the "hub control" URL the emulator printed at start.

Commands:
  c2d-send --device ID --body TEXT [--message-id ID] [--property NAME=VALUE ...]
                              Queue a cloud-to-device message for a device
  c2d-list --device ID        List a device's cloud-to-device messages and their states
  received                    List the telemetry the hub accepted, oldest first
  knobs [--outage on|off] [--unauthorized-once] [--throttle-once SECONDS] [--lock-duration-ms N]
                              Change the hub's behaviour: answer 503 until --outage off, answer the next
                              telemetry send with 401, answer the next request with 429 and Retry-After,
                              or set how long a C2D message stays locked (default 60000 ms)
`;

const OPTION_DEFINITIONS = {
  control: { type: 'string' },
  device: { type: 'string' },
  body: { type: 'string' },
  'message-id': { type: 'string' },
  property: { type: 'string', multiple: true },
  outage: { type: 'string' },
  'unauthorized-once': { type: 'boolean' },
  'throttle-once': { type: 'string' },
  'lock-duration-ms': { type: 'string' },
  help: { type: 'boolean' },
};

/**
 * Parses the arguments after `hub`.
 *
 * @param {string[]} args e.g. ["c2d-send", "--control", "http://127.0.0.1:5000/abc", "--device", "d1", "--body", "x"].
 * @returns {{ help: true } | { help: false, control: string, method: string, path: string, body?: object }}
 *   The control request to send.
 * @throws {TypeError} When the command or an option is missing or invalid; the message names it.
 */
export function parseHubCommand(args) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTION_DEFINITIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new TypeError(`${error.message}. Run "npm run emulator -- hub --help" to see the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    return { help: true };
  }
  if (positionals.length > 1) {
    throw new TypeError(`Give one hub command, not ${positionals.length}: ${positionals.join(' ')}`);
  }
  if (values.control === undefined) {
    throw new TypeError('Missing --control URL: give the "hub control" URL that the running emulator printed');
  }

  const command = positionals[0];
  const requireDevice = () => {
    if (values.device === undefined) {
      throw new TypeError(`Missing --device ID for "${command}"`);
    }
    return encodeURIComponent(values.device);
  };

  if (command === 'c2d-send') {
    const device = requireDevice();
    if (values.body === undefined) {
      throw new TypeError('Missing --body TEXT for "c2d-send"');
    }
    const properties = {};
    for (const entry of values.property ?? []) {
      const equals = entry.indexOf('=');
      if (equals <= 0) {
        throw new TypeError(`Invalid --property "${entry}": use NAME=VALUE`);
      }
      properties[entry.slice(0, equals)] = entry.slice(equals + 1);
    }
    const body = { body: values.body, properties };
    if (values['message-id'] !== undefined) {
      body.messageId = values['message-id'];
    }
    return { help: false, control: values.control, method: 'POST', path: `/c2d/${device}`, body };
  }
  if (command === 'c2d-list') {
    return { help: false, control: values.control, method: 'GET', path: `/c2d/${requireDevice()}` };
  }
  if (command === 'received') {
    return { help: false, control: values.control, method: 'GET', path: '/received' };
  }
  if (command === 'knobs') {
    return { help: false, control: values.control, method: 'POST', path: '/knobs', body: readKnobOptions(values) };
  }
  throw new TypeError(`Unknown hub command "${command}"; use c2d-send, c2d-list, received or knobs`);
}

function readKnobOptions(values) {
  const knobs = {};
  if (values.outage !== undefined) {
    if (values.outage !== 'on' && values.outage !== 'off') {
      throw new TypeError(`Invalid --outage "${values.outage}": use on or off`);
    }
    knobs.outage = values.outage === 'on';
  }
  if (values['unauthorized-once']) {
    knobs.unauthorizedOnce = true;
  }
  for (const [option, knob] of [['throttle-once', 'throttleOnce'], ['lock-duration-ms', 'lockDurationMs']]) {
    if (values[option] !== undefined) {
      if (!/^[1-9][0-9]*$/.test(values[option])) {
        throw new TypeError(`Invalid --${option} "${values[option]}": expected a whole number above 0`);
      }
      knobs[knob] = Number(values[option]);
    }
  }
  return knobs;
}

/**
 * Runs a hub command against a running emulator and prints the reply as JSON.
 *
 * @param {string[]} args The arguments after `hub`.
 * @returns {Promise<number>} The exit code: 0 on success, 1 when the emulator rejected the request.
 * @throws {TypeError | Error} On invalid arguments or when the emulator cannot be reached.
 */
export async function runHubCommand(args) {
  const command = parseHubCommand(args);
  if (command.help) {
    process.stdout.write(HUB_HELP_TEXT);
    return 0;
  }

  const reply = await sendControlRequest(command.control, command.method, command.path, command.body);
  if (reply.status >= 400) {
    console.error(`The emulator rejected the request (HTTP ${reply.status}): ${reply.body.error}`);
    return 1;
  }
  console.log(JSON.stringify(reply.body, null, 2));
  return 0;
}
