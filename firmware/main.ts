// Entry point: wires the REPL commands, the console safeguards and the device life cycle together.
// Espruino does not hoist functions, so everything is defined above and `main()` is the last statement.

import { bootDevice, device } from "./platform/device";
import { logError, logInfo } from "./platform/log";
import { replCommands } from "./platform/repl";

const FIRMWARE_VERSION = "0.1.0";

function main(): void {
  (globalThis as any).dps = replCommands;

  process.on("uncaughtException", (error: any) => {
    logError("device", "uncaught exception: " + (error && error.message ? error.message : String(error)));
  });

  logInfo("device", "espruino-azure-dps " + FIRMWARE_VERSION + " starting; type dps.status() for the state");
  bootDevice();

  // Espruino opens a Telnet console without a password whenever the network is up; keep it only on request.
  const telnetWanted = device.config !== undefined && device.config.device.telnet;
  require("TelnetServer").setOptions({ mode: telnetWanted ? "on" : "off" });
  if (telnetWanted) logInfo("device", "Telnet console on port 23 is enabled by device.telnet; it has no password");
}

main();
