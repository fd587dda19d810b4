// `npm run bench`: measures the firmware on the host and prints one line per figure.
//
// - the bundle size in bytes;
// - HTTPS requests per provisioning of our client;
// - time to assignment of our client (dist/firmware.js in the simulator) and of the official Node SDK
//   (azure-iot-provisioning-device with the HTTP transport) against the same emulator with the same Retry-After,
//   and their ratio, from one run of each;
// - HTTPS requests and request bytes per reading that the hub accepted, over `HUB_READINGS` demo readings;
// - host heap (after a forced garbage collection) and open handles before and after 100 `dps.provision()` cycles
//   in one process (see scripts/lib/memory-cycles.mjs).
//
// Figures come from this machine and one run; they are measurements, not limits, and no test asserts on them.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFirmware } from "./build.mjs";
import { startDemo } from "./lib/demo-setup.mjs";
import { countActiveResources, runProvisioningCycles } from "./lib/memory-cycles.mjs";
import { registerWithSdk } from "../host-tests/emulator-helpers.mjs";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const KNOBS = { retryAfterSeconds: 1, assignmentDelayMs: 1500 };

/** Demo readings the hub must accept in the hub measurement. */
const HUB_READINGS = 10;

async function measureOurClient() {
  const demo = await startDemo({ bundlePath: join(root, "dist", "firmware.js"), knobs: KNOBS });
  try {
    const bootedAtMs = performance.now();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 60000);
    const assignedAtMs = performance.now();

    // The hub client starts right after the assignment, so its requests are left out here.
    const requests = demo.emulator.requests.filter((r) => !r.path.startsWith("/devices/"));
    const firstRequestMs = requests[0].atMs;
    const firstDpsRequestMs = requests.find((r) => r.path.includes("/registrations/")).atMs;
    return {
      fromFirstDpsRequestMs: requests[requests.length - 1].atMs - firstDpsRequestMs,
      totalRequests: requests.length,
      dpsRequests: requests.filter((r) => r.path.includes("/registrations/")).length,
      fromBootMs: assignedAtMs - bootedAtMs,
      fromFirstRequestMs: requests[requests.length - 1].atMs - firstRequestMs,
    };
  } finally {
    await demo.close();
  }
}

async function measureOfficialSdk() {
  const demo = await startDemo({
    bundlePath: join(root, "dist", "firmware.js"),
    knobs: KNOBS,
    registrationId: "sdk-sensor-01",
  });
  try {
    const startedAtMs = performance.now();
    await registerWithSdk(demo.emulator, "sdk-sensor-01", demo.deviceKey);
    const requests = demo.emulator.requests;
    return {
      totalRequests: requests.length,
      fromStartMs: performance.now() - startedAtMs,
      fromFirstRequestMs: requests[requests.length - 1].atMs - requests[0].atMs,
    };
  } finally {
    await demo.close();
  }
}

// Counts the hub traffic of the bundle while the hub accepts HUB_READINGS demo readings, one per second. Bytes are
// the request line, headers and body as the emulator received them, without TLS, TCP and chunk framing.
async function measureHubTraffic() {
  const demo = await startDemo({
    bundlePath: join(root, "dist", "firmware.js"),
    knobs: KNOBS,
    editConfig: (config) => ({ ...config, telemetry: { intervalSeconds: 1 } }),
  });
  try {
    demo.device.boot();
    const deadlineMs = Date.now() + 60000;
    const accepted = () => demo.emulator.hub.received.filter((message) => !message.duplicate).length;
    while (accepted() < HUB_READINGS && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (accepted() < HUB_READINGS) throw new Error(`the hub accepted only ${accepted()} readings within 60 s`);

    const hubRequests = demo.emulator.requests.filter((r) => r.path.startsWith("/devices/"));
    const sends = hubRequests.filter((r) => r.method === "POST" && r.path.includes("/messages/events"));
    return {
      readings: accepted(),
      hubRequests: hubRequests.length,
      sends: sends.length,
      sendBytes: sends.reduce((total, r) => total + (r.requestBytes ?? 0), 0),
      tokensSigned: demo.device.eval("dps.status().hub.tokensSigned"),
    };
  } finally {
    await demo.close();
  }
}

/** Prints the heap and handle figures of repeated provisioning in this process. */
async function printMemoryFigures() {
  const memory = await runProvisioningCycles({ bundlePath: join(root, "dist", "firmware.js") });
  const growthBytes = memory.finalHeapBytes - memory.baselineHeapBytes;
  const describeResources = (counts) => Object.entries(counts).map(([type, count]) => `${type} ${count}`).join(", ");

  console.log(`memory, ${memory.cycles} provisioning cycles in one process (${memory.requests} DPS requests): host heap ` +
    `${(memory.baselineHeapBytes / 1048576).toFixed(2)} MB before, ${(memory.finalHeapBytes / 1048576).toFixed(2)} MB ` +
    `after (${growthBytes >= 0 ? "+" : ""}${Math.round(growthBytes / 1024)} KB, after forced garbage collection)`);
  console.log(`memory, open handles before: ${describeResources(memory.baselineResources)}; after: ` +
    `${describeResources(memory.finalResources)}; now, with the emulator closed: ${describeResources(countActiveResources())}`);
}

const built = await buildFirmware();
console.log(`bundle size: ${built.bytes} bytes (dist/firmware.js, minified)`);

const ours = await measureOurClient();
const sdk = await measureOfficialSdk();
const hub = await measureHubTraffic();

console.log(`our client, HTTPS requests per provisioning: ${ours.totalRequests} (${ours.dpsRequests} to DPS, ` +
  `${ours.totalRequests - ours.dpsRequests} to read the clock after power-on)`);
console.log(`official SDK, HTTPS requests per provisioning: ${sdk.totalRequests}`);
console.log(`knobs: Retry-After ${KNOBS.retryAfterSeconds} s, assignment delay ${KNOBS.assignmentDelayMs} ms`);
console.log(`our client, first request to assignment: ${Math.round(ours.fromFirstRequestMs)} ms ` +
  `(boot to assignment: ${Math.round(ours.fromBootMs)} ms, including the 1 s start delay and WiFi)`);
console.log(`official SDK, first request to assignment: ${Math.round(sdk.fromFirstRequestMs)} ms ` +
  `(register() call to result: ${Math.round(sdk.fromStartMs)} ms)`);
console.log(`time ratio ours/SDK, first request to assignment: ${(ours.fromFirstRequestMs / sdk.fromFirstRequestMs).toFixed(2)}`);
console.log(`time ratio ours/SDK, register PUT to assignment: ${(ours.fromFirstDpsRequestMs / sdk.fromFirstRequestMs).toFixed(2)}`);
console.log(`hub, HTTPS requests per accepted reading: ${(hub.sends / hub.readings).toFixed(2)} telemetry POSTs ` +
  `(${hub.readings} readings; ${hub.hubRequests - hub.sends} other hub requests for C2D and the clock)`);
console.log(`hub, request bytes per accepted reading: ${Math.round(hub.sendBytes / hub.readings)} ` +
  `(request line, headers and body at the emulator; TLS and TCP overhead not counted; ${hub.tokensSigned} token signed)`);

await printMemoryFigures();
