// Command line of the local DPS emulator: starts it, prints its URL and runs until Ctrl-C.
// Usage: npm run emulator -- --enrollments FILE [options]; `--help` lists the options.
// `npm run emulator -- hub COMMAND --control URL ...` talks to the IoT Hub of an emulator that is already running.

import { writeFile } from 'node:fs/promises';
import { HELP_TEXT, parseCommandLine } from './command-line.mjs';
import { runHubCommand } from './hub-command-line.mjs';
import { startHubControlServer } from './hub-control.mjs';
import { startEmulator } from './server.mjs';

async function main() {
  if (process.argv[2] === 'hub') {
    try {
      process.exitCode = await runHubCommand(process.argv.slice(3));
    } catch (error) {
      console.error(`Hub command failed: ${error.message}`);
      process.exitCode = 1;
    }
    return;
  }

  const commandLine = parseCommandLine(process.argv.slice(2));
  if (commandLine.help) {
    process.stdout.write(HELP_TEXT);
    return;
  }

  const emulator = await startEmulator({
    ...commandLine.emulatorOptions,
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });

  if (commandLine.certificateOut !== undefined) {
    await writeFile(commandLine.certificateOut, emulator.certificatePem);
  }

  console.log(`DPS emulator listening at ${emulator.url}`);
  console.log(`ID scope ${emulator.idScope}; devices are assigned to hub "${emulator.hubHostName}"`);
  console.log(`Certificate SHA-256 fingerprint ${emulator.fingerprintSha256}`);

  const log = (line) => console.log(`${new Date().toISOString()} ${line}`);
  const control = await startHubControlServer(emulator, log);
  console.log(`IoT Hub control (loopback only): ${control.url}`);
  console.log(`  Queue a C2D message: npm run emulator -- hub c2d-send --control ${control.url} --device ID --body TEXT`);
  console.log(`  List received telemetry: npm run emulator -- hub received --control ${control.url}`);
  if (commandLine.certificateOut !== undefined) {
    console.log(`Certificate written to ${commandLine.certificateOut}`);
  }
  console.log('Press Ctrl-C to stop.');

  const stop = async (signalName) => {
    console.log(`Stopping the DPS emulator (${signalName})`);
    await control.close();
    await emulator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error) => {
  console.error(`DPS emulator failed to start: ${error.message}`);
  process.exit(1);
});
