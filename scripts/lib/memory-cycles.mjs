// Repeated provisioning in one simulator process, for the memory test and the benchmark: the device runs
// `dps.provision()` at its REPL again and again against the emulator, and the host process's heap and open handles
// are compared with their values before the first cycle.
//
// Both the heap and the handles belong to the host process, which runs the emulator, the simulator and the firmware
// together, so a leak in any of them shows. The simulator's own records (device log lines, HTTPS requests, pin
// writes) and the emulator's request log grow by design; they are emptied before each measurement, so they do not
// count.
//
// NOTE: the emulator keeps every DPS operation it created (about 0.4 KB each on the V8 heap), so the heap after N
// cycles is above the baseline by that much even without a leak elsewhere.

import v8 from "node:v8";
import vm from "node:vm";
import { startDemo } from "./demo-setup.mjs";

/** Cycles run by default: each is one `dps.provision()` through to "assigned". */
export const DEFAULT_CYCLES = 100;

/** The BOOT button is watched for 3 s after start; the baseline is taken after that timer has ended, in ms. */
const BOOT_SETTLE_MS = 4000;

/** Longest wait for the open handles to return to their baseline after the last cycle, in ms. */
const HANDLE_SETTLE_TIMEOUT_MS = 10000;

/**
 * Returns a function that runs a full garbage collection: `globalThis.gc` when node runs with `--expose-gc`,
 * otherwise the same function obtained by setting that V8 flag at run time.
 *
 * @returns {() => void} The collector.
 */
export function getGarbageCollector() {
  if (typeof globalThis.gc === "function") return globalThis.gc;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}

/**
 * Counts the host process's active resources by type, e.g. `{ TCPServerWrap: 1, Timeout: 3 }`.
 *
 * @returns {Record<string, number>} Counts from `process.getActiveResourcesInfo()`, keys sorted.
 */
export function countActiveResources() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo().sort()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

function sameCounts(a, b) {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) if ((a[name] ?? 0) !== (b[name] ?? 0)) return false;
  return true;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Idle: assigned, no HTTPS connection open on the device, and the last request's socket gone on the host.
async function waitForIdleDevice(device, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const session = device.session;
    const idle = session !== undefined && session.http.openConnections === 0 && session.sockets.size === 0 &&
      device.eval("dps.status().phase") === "assigned";
    if (idle) return;
    if (Date.now() > deadline) throw new Error(`the device did not become idle within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function measureHeapBytes(collectGarbage) {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * Provisions a simulated device once, then `cycles` more times from its REPL without a pause, and measures the
 * host's heap (after a forced garbage collection) and open handles before and after.
 *
 * @param {object} options
 * @param {string} options.bundlePath Path of dist/firmware.js.
 * @param {number} [options.cycles] Number of `dps.provision()` cycles (default `DEFAULT_CYCLES`).
 * @param {(line: string) => void} [options.onDeviceLog] Receives every device log line.
 * @param {(line: string) => void} [options.onEmulatorLog] Receives every emulator log line.
 * @param {(demo: object) => void} [options.beforeClear] Called before the device's and the emulator's records are
 *   emptied (once before the baseline, once after the cycles), e.g. to keep the tokens the emulator received.
 * @returns {Promise<{ cycles: number, baselineHeapBytes: number, finalHeapBytes: number,
 *   baselineResources: Record<string, number>, finalResources: Record<string, number>, requests: number,
 *   uncaughtErrors: object[] }>} The figures, the DPS requests of the cycles, and the device's uncaught errors.
 * @throws {Error} When a cycle does not reach "assigned" within 30 s or the device does not become idle.
 */
export async function runProvisioningCycles(options) {
  const cycles = options.cycles ?? DEFAULT_CYCLES;
  const collectGarbage = getGarbageCollector();

  const demo = await startDemo({
    bundlePath: options.bundlePath,
    registrationId: "memory-sensor-01",
    knobs: { retryAfterSeconds: 0, assignmentDelayMs: 0 },
    // Demo readings and C2D polls would make hub requests at times of their own, so they are turned off.
    editConfig: (config) => ({
      ...config,
      hub: { ...config.hub, c2dPollIntervalSeconds: 86400 },
      telemetry: { demoReadings: false },
    }),
    onDeviceLog: options.onDeviceLog,
    onEmulatorLog: options.onEmulatorLog,
  });

  const clearRecords = () => {
    if (options.beforeClear) options.beforeClear(demo);
    demo.device.logs.length = 0;
    demo.device.httpRequests.length = 0;
    if (demo.device.pinWrites !== undefined) demo.device.pinWrites.length = 0;
    demo.emulator.resetRequests();
    demo.emulator.receivedTokens.length = 0;
  };

  try {
    const bootedAtMs = Date.now();
    demo.device.boot();
    await demo.device.waitForLog(/assigned hub=/, 30000);
    await sleep(Math.max(0, BOOT_SETTLE_MS - (Date.now() - bootedAtMs)));
    await waitForIdleDevice(demo.device, 10000);

    clearRecords();
    const baselineResources = countActiveResources();
    const baselineHeapBytes = measureHeapBytes(collectGarbage);

    let requests = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const fromIndex = demo.device.logs.length;
      demo.device.eval("dps.provision()");
      await demo.device.waitForLog(/assigned hub=/, 30000, fromIndex);
      // The records are emptied as the cycles run, so that only what the firmware, simulator and emulator keep
      // can grow.
      if (cycle % 10 === 9) {
        requests += demo.emulator.requests.filter((request) => request.path.includes("/registrations/")).length;
        clearRecords();
      }
    }

    await waitForIdleDevice(demo.device, 10000);
    requests += demo.emulator.requests.filter((request) => request.path.includes("/registrations/")).length;
    clearRecords();

    let finalResources = countActiveResources();
    const deadline = Date.now() + HANDLE_SETTLE_TIMEOUT_MS;
    while (!sameCounts(finalResources, baselineResources) && Date.now() < deadline) {
      await sleep(50);
      finalResources = countActiveResources();
    }
    const finalHeapBytes = measureHeapBytes(collectGarbage);

    return {
      cycles,
      baselineHeapBytes,
      finalHeapBytes,
      baselineResources,
      finalResources,
      requests,
      uncaughtErrors: demo.device.uncaughtErrors.slice(),
    };
  } finally {
    await demo.close();
  }
}
