// `npm start`: builds the firmware, starts the local DPS emulator with a demo group enrollment, derives the demo
// device key on the host, and boots dist/firmware.js in the simulator. The device registers through DPS, then sends
// demo readings to the emulator's IoT Hub and completes one queued cloud-to-device message. The script prints what
// the hub received and exits 0 once `READINGS_TO_ACCEPT` readings were accepted, and 1 on any failure or time-out.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFirmware } from "./build.mjs";
import { startDemo } from "./lib/demo-setup.mjs";

const root = join(fileURLToPath(import.meta.url), "..", "..");

/** Maximum wait for the assignment, in ms, before the demo counts as failed. */
const ASSIGNMENT_TIMEOUT_MS = 60000;

/** Readings the hub must accept before the demo ends. */
const READINGS_TO_ACCEPT = 3;

/** Maximum wait for those readings after the assignment, in ms. */
const READINGS_TIMEOUT_MS = 30000;

/** Time between two demo readings on the simulated device, in seconds. */
const READING_INTERVAL_SECONDS = 2;

/** Waits until the hub accepted enough readings, prints them and the C2D state, and returns the exit code. */
async function waitForReadings(demo) {
  const accepted = () => demo.emulator.hub.received.filter((message) => !message.duplicate);
  const deadlineMs = Date.now() + READINGS_TIMEOUT_MS;
  while (accepted().length < READINGS_TO_ACCEPT && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  console.log("the hub received:");
  for (const message of demo.emulator.hub.received) {
    const properties = Object.entries(message.properties).map(([name, value]) => `${name}=${value}`).join(" ");
    console.log(`  ${message.messageId} ${message.body} ${properties}${message.duplicate ? " (resend)" : ""}`);
  }
  for (const message of demo.emulator.hub.listCloudToDevice(demo.config.dps.registrationId)) {
    console.log(`cloud-to-device message ${message.messageId}: ${message.state}`);
  }

  if (accepted().length < READINGS_TO_ACCEPT) {
    console.error(`the hub accepted ${accepted().length} readings within ${READINGS_TIMEOUT_MS} ms, not ${READINGS_TO_ACCEPT}`);
    return 1;
  }
  const hubRequests = demo.emulator.requests.filter((r) => r.path.startsWith("/devices/"));
  console.log(`done: ${accepted().length} readings accepted with ${hubRequests.length} hub requests`);
  return 0;
}

const built = await buildFirmware();
if (built.violations.length > 0) {
  console.error("the bundle failed the Espruino profile check; run `npm run build` for the details");
  process.exit(1);
}
console.log(`built dist/firmware.js (${built.bytes} bytes)`);

const demo = await startDemo({
  bundlePath: join(root, "dist", "firmware.js"),
  knobs: { retryAfterSeconds: 1, assignmentDelayMs: 1500 },
  editConfig: (config) => ({ ...config, telemetry: { intervalSeconds: READING_INTERVAL_SECONDS } }),
  onDeviceLog: (line) => console.log(`device   | ${line}`),
  onEmulatorLog: (line) => console.log(`emulator | ${line}`),
});
console.log(`emulator listening on ${demo.emulator.url}; demo group enrollment in scope ${demo.config.dps.idScope}`);
console.log(`booting the bundle in the simulator (storage ${demo.storageDir})`);

let exitCode = 1;
try {
  const c2dMessageId = demo.emulator.hub.enqueueCloudToDevice(demo.config.dps.registrationId, {
    body: JSON.stringify({ led: "on" }),
    messageId: "demo-command-1",
  });
  console.log(`queued cloud-to-device message ${c2dMessageId} on the emulator's hub`);

  demo.device.boot();
  const line = await demo.device.waitForLog(/assigned hub=|provisioning stopped|\[error\]/, ASSIGNMENT_TIMEOUT_MS);
  if (/assigned hub=/.test(line)) {
    const dps = demo.emulator.requests.filter((r) => r.path.includes("/registrations/"));
    console.log(`the device was assigned after ${dps.length} DPS requests; waiting for ${READINGS_TO_ACCEPT} readings`);
    exitCode = await waitForReadings(demo);
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
