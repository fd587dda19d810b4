// Command line that boots a firmware bundle on the simulated ESP32 and prints what the device logs.
//
//   npm run simulate -- --bundle dist/firmware.js --storage .sim/storage --host NAME=127.0.0.1:PORT

import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { createSimulatedDevice } from "./device.mjs";

const HELP = `Usage: npm run simulate -- [options]

Boots a firmware bundle on a simulated Espruino 2v29 ESP32 and prints every line the device logs.
Stop it with Ctrl-C; a summary of HTTPS requests and uncaught errors goes to stderr.

Options:
  --bundle FILE            the bundle to run (default dist/firmware.js)
  --storage DIR            the folder backing require("Storage"), one file per Storage file
                           (default .sim/storage; created if missing)
  --host NAME=ADDR:PORT    lets the device reach host NAME at loopback address ADDR and PORT, which is
                           used in place of 443; repeat for more hosts
  --clock-start-ms MS      device clock at boot, in milliseconds since 1970 (default 0, like a fresh ESP32)
  --wifi-ssid SSID         the only SSID the access point accepts (default: any)
  --wifi-password TEXT     the only password it accepts (default: any)
  --wifi-failures N        number of connection attempts that fail before one succeeds (default 0)
  --wifi-version VERSION   WiFi behaviour of firmware "2v29" (default) or "2v30"
  --env KEY=VALUE          overrides process.env.KEY on the device; repeat for more
  --duration-ms MS         stop after this many milliseconds (default: run until Ctrl-C)
  --help                   prints this text
`;

/**
 * Parses the command line into device options.
 *
 * @param {string[]} argv the arguments after the script name
 * @returns {{help: boolean, durationMs?: number, deviceOptions: object}} what to run
 * @throws {Error} naming the invalid option and the expected form
 */
export function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      bundle: { type: "string", default: "dist/firmware.js" },
      storage: { type: "string", default: ".sim/storage" },
      host: { type: "string", multiple: true, default: [] },
      "clock-start-ms": { type: "string" },
      "wifi-ssid": { type: "string" },
      "wifi-password": { type: "string" },
      "wifi-failures": { type: "string" },
      "wifi-version": { type: "string" },
      env: { type: "string", multiple: true, default: [] },
      "duration-ms": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });

  const hosts = {};
  for (const entry of values.host) {
    const match = /^([^=]+)=([0-9.]+):([0-9]+)$/.exec(entry);
    if (match === null) {
      throw new Error(`--host ${entry} is invalid; use NAME=ADDRESS:PORT, for example dps.example=127.0.0.1:8443`);
    }
    hosts[match[1]] = { address: match[2], port: Number(match[3]) };
  }

  const env = {};
  for (const entry of values.env) {
    const equals = entry.indexOf("=");
    if (equals <= 0) {
      throw new Error(`--env ${entry} is invalid; use KEY=VALUE`);
    }
    env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }

  const numberOption = (name) => {
    const text = values[name];
    if (text === undefined) {
      return undefined;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`--${name} ${text} is invalid; give a number of 0 or more`);
    }
    return value;
  };

  const wifi = {};
  if (values["wifi-ssid"] !== undefined) wifi.ssid = values["wifi-ssid"];
  if (values["wifi-password"] !== undefined) wifi.password = values["wifi-password"];
  if (values["wifi-failures"] !== undefined) wifi.failuresBeforeSuccess = numberOption("wifi-failures");
  if (values["wifi-version"] !== undefined) wifi.firmwareVersion = values["wifi-version"];

  const deviceOptions = {
    bundlePath: values.bundle,
    storageDir: values.storage,
    hosts,
    wifi,
    env,
  };
  const clockStartEpochMs = numberOption("clock-start-ms");
  if (clockStartEpochMs !== undefined) {
    deviceOptions.clockStartEpochMs = clockStartEpochMs;
  }
  return { help: values.help, durationMs: numberOption("duration-ms"), deviceOptions };
}

function printSummary(device) {
  process.stderr.write(`\n${device.httpRequests.length} HTTPS request(s), ${device.uncaughtErrors.length} uncaught error(s)\n`);
  for (const record of device.httpRequests) {
    const outcome = record.error !== undefined ? `error ${record.error.code} ${record.error.message}` : `status ${record.statusCode}`;
    process.stderr.write(`  ${record.method} ${record.host}${record.path}: ${outcome}\n`);
  }
}

function main() {
  let command;
  try {
    command = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error.message}\nRun with --help for the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (command.help) {
    process.stdout.write(HELP);
    return;
  }

  const device = createSimulatedDevice({
    ...command.deviceOptions,
    onLog: (line) => process.stdout.write(line + "\n"),
  });
  const shutDown = () => {
    device.stop();
    printSummary(device);
  };
  process.once("SIGINT", shutDown);

  try {
    device.boot();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  if (command.durationMs !== undefined) {
    setTimeout(shutDown, command.durationMs);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
