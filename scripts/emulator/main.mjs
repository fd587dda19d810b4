// Command line of the local DPS emulator: starts it, prints its URL and runs until Ctrl-C.
// Usage: npm run emulator -- --enrollments FILE [options]; `--help` lists the options.

import { writeFile } from 'node:fs/promises';
import { HELP_TEXT, parseCommandLine } from './command-line.mjs';
import { startEmulator } from './server.mjs';

async function main() {
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
  if (commandLine.certificateOut !== undefined) {
    console.log(`Certificate written to ${commandLine.certificateOut}`);
  }
  console.log('Press Ctrl-C to stop.');

  const stop = async (signalName) => {
    console.log(`Stopping the DPS emulator (${signalName})`);
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
