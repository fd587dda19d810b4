// Command-line tool for symmetric keys and SAS tokens: derive device keys, make DPS and IoT Hub tokens, explain
// why DPS rejects a token (401002), and check a device configuration file. Run with --help for usage.

import { runCheckConfig, runDerive, runDiagnose, runToken } from "./lib/keys-commands.mjs";
import { TOOL_HELP } from "./lib/keys-help.mjs";
import { UsageError } from "./lib/keys-secret-input.mjs";

const COMMANDS = {
  derive: runDerive,
  token: runToken,
  diagnose: runDiagnose,
  "check-config": runCheckConfig,
};

const io = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
};

async function main(argv) {
  const [commandName, ...rest] = argv;

  if (commandName === undefined || commandName === "--help" || commandName === "-h" || commandName === "help") {
    io.out(TOOL_HELP.trimEnd());
    return commandName === undefined ? 2 : 0;
  }

  const command = COMMANDS[commandName];
  if (command === undefined) {
    throw new UsageError("Unknown command \"" + commandName + "\"; use one of " + Object.keys(COMMANDS).join(", ") +
      " (see --help)");
  }
  return command(rest, io);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof TypeError) {
    io.err("keys: error: " + error.message);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
