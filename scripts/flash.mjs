// Uploads the firmware bundle to an ESP32 running Espruino 2v29 and writes the device configuration into Storage.
//
// Usage: npm run flash -- --port <serial port> [--config device.config.json] [--baud 115200] [--bundle FILE] [--dry-run]
//
// The bundle is saved to `.bootcde`, so it runs at every boot, and the configuration file becomes the Storage file
// `dpscfg.json`. The CLI sends the configuration as a separate REPL command before the code, so the key is not
// part of `.bootcde`.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { checkDeviceConfigFile, CONFIG_VALIDATOR_PATH } from "./lib/device-config-check.mjs";
import {
  buildFlashArguments,
  DEFAULT_BAUD_RATE,
  formatCommandLine,
  parseBaudRate,
  REPOSITORY_ROOT,
  runEspruinoCli,
} from "./lib/espruino-cli.mjs";
import { formatMissingPortHelp } from "./lib/serial-port-help.mjs";

/** Storage file name under which the firmware reads its configuration. */
const CONFIG_STORAGE_NAME = "dpscfg.json";

/** Bundle written by `npm run build`, relative to the repository root. */
const DEFAULT_BUNDLE_PATH = "dist/firmware.js";

/** Configuration file used when `--config` is not given, relative to the directory the command was run from. */
const DEFAULT_CONFIG_PATH = "device.config.json";

const USAGE = [
  "Usage: npm run flash -- --port <serial port> [options]",
  "",
  "Saves the firmware bundle on the board (it then runs at every boot) and writes the device configuration into",
  `the board's Storage as "${CONFIG_STORAGE_NAME}".`,
  "",
  "Options:",
  "  --port PORT     serial port of the board, e.g. /dev/ttyUSB0, /dev/cu.usbserial-0001 or COM3 (required)",
  `  --config FILE   device configuration JSON (default: ${DEFAULT_CONFIG_PATH}; keep it out of git)`,
  `  --baud N        console speed in bits per second (default: ${DEFAULT_BAUD_RATE})`,
  `  --bundle FILE   bundle to upload (default: ${DEFAULT_BUNDLE_PATH}, written by npm run build)`,
  "  --dry-run       check everything and print the espruino command without running it",
  "  --help          show this text",
].join("\n");

/** Error whose message is shown to the user as it is, followed by a non-zero exit. */
class UsageError extends Error {}

/**
 * Parses the command line, checks the bundle and the configuration, and runs (or prints) the upload command.
 *
 * @param {string[]} argv Arguments after the script name.
 * @returns {Promise<number>} Process exit code: 0 on success, 1 on any error.
 */
async function main(argv) {
  const options = parseCommandLine(argv);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  if (options.port === undefined || options.port.trim() === "") {
    throw new UsageError(formatMissingPortHelp("flash"));
  }
  const baudRate = parseBaudOption(options.baud);

  const bundlePath = resolveBundlePath(options.bundle);
  const configPath = resolveUserPath(options.config ?? DEFAULT_CONFIG_PATH);
  await checkConfigOrThrow(configPath);
  warnIfTrackedByGit(configPath);

  const cliArguments = buildFlashArguments({
    portPath: options.port,
    baudRate,
    bundlePath: toCliPath(bundlePath),
    storageFiles: [{ storageName: CONFIG_STORAGE_NAME, filePath: toCliPath(configPath) }],
  });
  const commandLine = formatCommandLine(cliArguments);

  if (options["dry-run"]) {
    console.log(`Dry run: from ${REPOSITORY_ROOT} this command would run:`);
    console.log(commandLine);
    return 0;
  }

  console.log(`Uploading ${toCliPath(bundlePath)} to .bootcde and ${toCliPath(configPath)} to Storage "${CONFIG_STORAGE_NAME}" on ${options.port}:`);
  console.log(commandLine);

  const outcome = await runEspruinoCli(cliArguments, { expectUpload: true });
  if (outcome.exitCode !== 0) {
    console.error(
      `Flashing failed on ${options.port}: ${outcome.failureReason}. Check the port name, close any other program ` +
        "that has the port open (a monitor, the Web IDE), and press the board's EN/RESET button before trying again.",
    );
    return 1;
  }

  console.log(`Done. The board restarted the firmware; watch its console with: npm run monitor -- --port ${options.port}`);
  return 0;
}

/** Parses argv with node:util, turning its errors into a UsageError that shows the usage text. */
function parseCommandLine(argv) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        config: { type: "string" },
        baud: { type: "string" },
        bundle: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (error) {
    throw new UsageError(`${error.message}\n\n${USAGE}`);
  }
}

/** Returns the `--baud` value as a number, or the default when the option is absent. */
function parseBaudOption(baudOption) {
  if (baudOption === undefined) {
    return DEFAULT_BAUD_RATE;
  }
  try {
    return parseBaudRate(baudOption);
  } catch (error) {
    throw new UsageError(error.message);
  }
}

/**
 * Resolves a path given on the command line. npm runs scripts from the repository root and records the user's
 * directory in INIT_CWD, so relative paths are taken from there.
 */
function resolveUserPath(userPath) {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), userPath);
}

/** Resolves the bundle path and checks that the file exists. */
function resolveBundlePath(bundleOption) {
  const bundlePath = bundleOption === undefined ? path.join(REPOSITORY_ROOT, DEFAULT_BUNDLE_PATH) : resolveUserPath(bundleOption);
  if (!fs.existsSync(bundlePath)) {
    throw new UsageError(`Firmware bundle not found: ${bundlePath}. Run "npm run build" first to create ${DEFAULT_BUNDLE_PATH}.`);
  }
  return bundlePath;
}

/** Validates the configuration file and throws a UsageError that lists every problem. */
async function checkConfigOrThrow(configPath) {
  if (!fs.existsSync(configPath)) {
    throw new UsageError(
      `Device configuration file not found: ${configPath}. Create it (device.config.json and *.local.json are ` +
        "git-ignored) or pass another file with --config.",
    );
  }

  const { problems, warnings, validatorFound } = await checkDeviceConfigFile(configPath);
  if (!validatorFound) {
    console.warn(`Warning: ${CONFIG_VALIDATOR_PATH} does not exist, so only the JSON syntax of ${configPath} was checked.`);
  }
  for (const warning of warnings) {
    console.warn(`Warning: ${warning}`);
  }
  if (problems.length > 0) {
    const problemLines = problems.map((problem) => `  ${problem.field}: ${problem.message}`);
    throw new UsageError(
      [`Cannot flash: ${configPath} has ${problems.length} problem(s):`, ...problemLines, "Fix them and run the command again."].join("\n"),
    );
  }
}

/** Warns when the configuration file lies inside the repository and git would track it. */
function warnIfTrackedByGit(configPath) {
  const relativePath = path.relative(REPOSITORY_ROOT, configPath);
  if (relativePath.startsWith("..") || path.isAbsolute(relativePath)) {
    return;
  }

  try {
    execFileSync("git", ["check-ignore", "--quiet", relativePath], { cwd: REPOSITORY_ROOT, stdio: "ignore" });
  } catch (error) {
    // Exit status 1 means "not ignored"; anything else (no git, not a repository) is not worth a warning.
    if (error.status === 1) {
      console.warn(`Warning: ${relativePath} contains a key but git does not ignore it. Rename it to device.config.json or *.local.json.`);
    }
  }
}

/**
 * Returns the path to hand to the CLI, which runs from the repository root: relative for files inside the
 * repository, absolute for others unless that would add a Windows drive letter (the CLI splits `--storage` at ":").
 */
function toCliPath(absolutePath) {
  const relativePath = path.relative(REPOSITORY_ROOT, absolutePath);
  const isInsideRepository = !relativePath.startsWith("..") && !path.isAbsolute(relativePath);
  const cliPath = isInsideRepository || absolutePath.includes(":") ? relativePath : absolutePath;
  return cliPath.split(path.sep).join("/");
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
