// Opens the Espruino REPL of a USB-connected ESP32 in this terminal.
//
// Usage: npm run monitor -- --port <serial port> [--baud 115200]

import { parseArgs } from "node:util";

import { buildMonitorArguments, DEFAULT_BAUD_RATE, formatCommandLine, parseBaudRate, runEspruinoCli } from "./lib/espruino-cli.mjs";
import { formatMissingPortHelp } from "./lib/serial-port-help.mjs";

const USAGE = [
  "Usage: npm run monitor -- --port <serial port> [--baud N]",
  "",
  "Opens the board's JavaScript console (REPL) in this terminal.",
  "",
  "Options:",
  "  --port PORT   serial port of the board, e.g. /dev/ttyUSB0, /dev/cu.usbserial-0001 or COM3 (required)",
  `  --baud N      console speed in bits per second (default: ${DEFAULT_BAUD_RATE})`,
  "  --help        show this text",
].join("\n");

const KEY_HELP = [
  "Keys in the console:",
  "  Ctrl-C once     interrupts the JavaScript that is running on the board, or clears the line you are typing.",
  "  Ctrl-C twice    (with no output from the board in between) closes the console and returns to your shell.",
  "  Useful commands: process.memory(), ESP32.getState(), require(\"Storage\").list(), load() to restart the firmware.",
  "  Opening the port may reset the board (EN is wired to the USB bridge on most boards), so boot messages can follow.",
].join("\n");

/**
 * Parses the command line and runs the CLI's terminal until the user closes it.
 *
 * @param {string[]} argv Arguments after the script name.
 * @returns {Promise<number>} Process exit code: the CLI's own, or 1 on a usage error.
 */
async function main(argv) {
  let options;
  try {
    options = parseArgs({
      args: argv,
      options: { port: { type: "string" }, baud: { type: "string" }, help: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`${error.message}\n\n${USAGE}`);
    return 1;
  }

  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.port === undefined || options.port.trim() === "") {
    console.error(formatMissingPortHelp("monitor"));
    return 1;
  }

  let baudRate = DEFAULT_BAUD_RATE;
  try {
    baudRate = options.baud === undefined ? DEFAULT_BAUD_RATE : parseBaudRate(options.baud);
  } catch (error) {
    console.error(error.message);
    return 1;
  }

  const cliArguments = buildMonitorArguments({ portPath: options.port, baudRate });
  console.log(formatCommandLine(cliArguments));
  console.log(KEY_HELP);

  const outcome = await runEspruinoCli(cliArguments, { expectUpload: false });
  return outcome.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
