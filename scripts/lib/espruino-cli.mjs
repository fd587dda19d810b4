// Command lines for the `espruino` CLI (npm package `espruino` 0.1.67) and a runner that reports its real outcome.
//
// Every command this project builds passes the local board file, for two reasons. First, the CLI then has the list
// of built-in modules of the ESP32 build and never fetches a module of the same name from espruino.com (its `crypto.js`
// implements SHA1 only and would shadow the native `crypto`). Second, `--board` turns off the `process.env` query on
// connect, which would otherwise download the board JSON from espruino.com. `--no-ble` keeps the CLI from opening
// Bluetooth, which crashes it on Linux hosts without a D-Bus system bus before the serial port is even opened.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of the repository root; every CLI run uses it as its working directory. */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Absolute path of the CLI's entry script, run with the current Node binary so that it also works on Windows. */
export const ESPRUINO_CLI_SCRIPT_PATH = path.join(REPOSITORY_ROOT, "node_modules", "espruino", "bin", "espruino-cli.js");

/** Board description for the `Espruino ESP32` 2v29 build, relative to the repository root. */
export const BOARD_FILE_RELATIVE_PATH = "scripts/board/ESP32.json";

/** Baud rate of the ESP32 console (Serial1) in bits per second; the CLI's own default of 9600 does not work. */
export const DEFAULT_BAUD_RATE = 115200;

/** Text the CLI prints when the device accepted the whole upload. */
const UPLOAD_COMPLETE_MARKER = "Upload Complete";

/**
 * Texts the CLI prints on failures after which it still exits with code 0: a port it cannot open, a refused
 * network connection, and a device that never showed its `>` prompt.
 */
const FAILURE_MARKERS = ["Unable to connect!", "RECEIVE ERROR:", "Prompt not detected"];

/**
 * Builds the CLI arguments that save a bundle to the board's `.bootcde` and write extra files into Storage.
 *
 * @param {object} options
 * @param {string} options.portPath Serial device (`/dev/ttyUSB0`, `/dev/cu.usbserial-0001`, `COM3`) or `tcp://host:port`.
 * @param {number} options.baudRate Console speed in bits per second.
 * @param {string} options.bundlePath Bundle to upload, relative to the repository root or absolute.
 * @param {Array<{ storageName: string, filePath: string }>} options.storageFiles Files to write into Storage first.
 *   `storageName` is the Storage file name (at most 28 characters); `filePath` must not contain `:`, because the
 *   CLI splits `--storage NAME:FILE` at the first colon.
 * @returns {string[]} Arguments for the CLI, without the program name.
 * @throws {Error} When a Storage name is longer than 28 characters or a file path contains `:`.
 */
export function buildFlashArguments(options) {
  const cliArguments = [...connectionArguments(options.portPath, options.baudRate)];

  // SAVE_ON_SEND=1 writes the code to `.bootcde` in 1 KB chunks and then calls `load()`, so it runs at every boot.
  // An empty MODULE_URL disables module downloads even if a `require` name is missing from the board file.
  cliArguments.push("--config", "SAVE_ON_SEND=1", "--config", "MODULE_URL=");

  for (const storageFile of options.storageFiles) {
    if (storageFile.storageName.length === 0 || storageFile.storageName.length > 28) {
      throw new Error(`Invalid Storage file name "${storageFile.storageName}": it must have 1 to 28 characters`);
    }
    if (storageFile.filePath.includes(":")) {
      throw new Error(
        `Cannot pass "${storageFile.filePath}" to the espruino CLI: its --storage option splits at the first ":". ` +
          "Put the file on the same drive as the repository and give a path without a drive letter.",
      );
    }
    cliArguments.push("--storage", `${storageFile.storageName}:${storageFile.filePath}`);
  }

  cliArguments.push(options.bundlePath);
  return cliArguments;
}

/**
 * Builds the CLI arguments that open an interactive terminal on the board's REPL.
 *
 * @param {object} options
 * @param {string} options.portPath Serial device or `tcp://host:port`, as for `buildFlashArguments`.
 * @param {number} options.baudRate Console speed in bits per second.
 * @returns {string[]} Arguments for the CLI, without the program name.
 */
export function buildMonitorArguments(options) {
  return connectionArguments(options.portPath, options.baudRate);
}

/**
 * Formats CLI arguments as one POSIX shell command line that a user can copy and run from the repository root.
 *
 * @param {string[]} cliArguments Arguments as returned by `buildFlashArguments` or `buildMonitorArguments`.
 * @returns {string} The command, starting with `npx espruino`; arguments with shell metacharacters are single-quoted.
 */
export function formatCommandLine(cliArguments) {
  return ["npx", "espruino", ...cliArguments.map(quoteForShell)].join(" ");
}

/**
 * Parses the value of a `--baud` option.
 *
 * @param {string} text Decimal bits per second, e.g. "115200".
 * @returns {number} The baud rate.
 * @throws {Error} When the text is not a whole number between 300 and 5000000.
 */
export function parseBaudRate(text) {
  const baudRate = Number(text);
  if (!/^[0-9]+$/.test(text) || baudRate < 300 || baudRate > 5000000) {
    throw new Error(
      `Invalid --baud "${text}": give a whole number of bits per second between 300 and 5000000 ` +
        `(the ESP32 console runs at ${DEFAULT_BAUD_RATE})`,
    );
  }
  return baudRate;
}

/**
 * Runs the CLI from the repository root with the current Node binary and mirrors its output.
 *
 * The CLI exits with code 0 even when it could not open the port or the device never showed its prompt, so for uploads
 * (`expectUpload`) the outcome also depends on its output: it must contain "Upload Complete" and none of the
 * failure texts.
 *
 * @param {string[]} cliArguments Arguments without the program name.
 * @param {object} options
 * @param {boolean} options.expectUpload True for uploads, which are checked as described above. False for the
 *   interactive terminal, which inherits the standard streams so that the CLI can put the terminal in raw mode.
 * @returns {Promise<{ exitCode: number, failureReason: string | undefined }>} `exitCode` is 0 only on success;
 *   `failureReason` is the failure text seen in the output, or a description of what is missing.
 */
export function runEspruinoCli(cliArguments, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ESPRUINO_CLI_SCRIPT_PATH, ...cliArguments], {
      cwd: REPOSITORY_ROOT,
      stdio: options.expectUpload ? ["ignore", "pipe", "pipe"] : "inherit",
    });

    let output = "";
    if (options.expectUpload) {
      child.stdout.on("data", (chunk) => {
        output += chunk.toString("latin1");
        process.stdout.write(chunk);
      });
      child.stderr.on("data", (chunk) => {
        output += chunk.toString("latin1");
        process.stderr.write(chunk);
      });
    }

    child.on("error", reject);
    child.on("close", (exitCode, signal) => {
      const processExitCode = exitCode ?? (signal ? 1 : 0);
      if (!options.expectUpload || processExitCode !== 0) {
        resolve({ exitCode: processExitCode, failureReason: processExitCode === 0 ? undefined : `espruino exited with ${exitCode ?? signal}` });
        return;
      }

      const failureMarker = FAILURE_MARKERS.find((marker) => output.includes(marker));
      if (failureMarker !== undefined) {
        resolve({ exitCode: 1, failureReason: `espruino printed "${failureMarker}"` });
      } else if (!output.includes(UPLOAD_COMPLETE_MARKER)) {
        resolve({ exitCode: 1, failureReason: `espruino did not print "${UPLOAD_COMPLETE_MARKER}"` });
      } else {
        resolve({ exitCode: 0, failureReason: undefined });
      }
    });
  });
}

/** Returns the arguments shared by uploads and the terminal: board file, no Bluetooth, port and baud rate. */
function connectionArguments(portPath, baudRate) {
  return ["--board", BOARD_FILE_RELATIVE_PATH, "--no-ble", "-p", portPath, "-b", String(baudRate)];
}

/** Quotes one argument for a POSIX shell unless it consists only of safe characters. */
function quoteForShell(argument) {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) {
    return argument;
  }
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}
