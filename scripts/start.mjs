// `npm start`: builds the firmware, starts the local DPS emulator with a demo group enrollment, derives the demo
// device key on the host, and boots dist/firmware.js in the simulator until the device reports its assigned hub.
// Exits 0 on assignment and 1 on any failure or after the time limit.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFirmware } from "./build.mjs";
import { startDemo } from "./lib/demo-setup.mjs";

const root = join(fileURLToPath(import.meta.url), "..", "..");

/** Longest wait for the assignment, in ms, before the demo counts as failed. */
const ASSIGNMENT_TIMEOUT_MS = 60000;

const built = await buildFirmware();
if (built.violations.length > 0) {
  console.error("the bundle failed the Espruino profile check; run `npm run build` for the details");
  process.exit(1);
}
console.log(`built dist/firmware.js (${built.bytes} bytes)`);

const demo = await startDemo({
  bundlePath: join(root, "dist", "firmware.js"),
  knobs: { retryAfterSeconds: 1, assignmentDelayMs: 1500 },
  onDeviceLog: (line) => console.log(`device   | ${line}`),
  onEmulatorLog: (line) => console.log(`emulator | ${line}`),
});
console.log(`emulator listening on ${demo.emulator.url}; demo group enrollment in scope ${demo.config.dps.idScope}`);
console.log(`booting the bundle in the simulator (storage ${demo.storageDir})`);

let exitCode = 1;
try {
  demo.device.boot();
  const line = await demo.device.waitForLog(/assigned hub=|provisioning stopped|\[error\]/, ASSIGNMENT_TIMEOUT_MS);
  if (/assigned hub=/.test(line)) {
    const dps = demo.emulator.requests.filter((r) => r.method === "PUT" || r.method === "GET");
    console.log(`done: the device was assigned after ${dps.length} HTTPS requests`);
    exitCode = 0;
  } else {
    console.error("the device did not get an assignment; see the device log above");
  }
} catch (error) {
  console.error(`the device did not report an assignment: ${error.message}`);
} finally {
  if (demo.device.uncaughtErrors.length > 0) {
    console.error(`uncaught exceptions on the device: ${demo.device.uncaughtErrors.length}`);
    exitCode = 1;
  }
  await demo.close();
}
process.exit(exitCode);
