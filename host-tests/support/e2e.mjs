// Helpers for end-to-end tests: the real bundle in the simulator against the emulator over TLS, with every log line
// of the device and the emulator kept for the secret scan that runs after the whole suite.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDemo } from "../../scripts/lib/demo-setup.mjs";

export const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const BUNDLE_PATH = join(ROOT, "dist", "firmware.js");

/**
 * Every log line of every end-to-end run in this process, and every secret those runs used: keys, and the
 * signatures the emulators received (added when a run closes).
 */
export const suiteLog = { lines: [], secrets: new Set() };

/**
 * Adds the signature of every SAS token an emulator received, as sent and percent-decoded, to `suiteLog.secrets`.
 * The rest of a token (resource URI, expiry) is no secret and appears in logs as paths; the secret scan finds whole
 * tokens by their shape.
 *
 * @param {{ receivedTokens: Array<{ signature: string, signatureSent: string }> }} emulator
 */
export function collectReceivedSecrets(emulator) {
  for (const received of emulator.receivedTokens) {
    suiteLog.secrets.add(received.signature);
    suiteLog.secrets.add(received.signatureSent);
  }
}

/**
 * Starts the emulator and a simulated device running dist/firmware.js, recording logs and secrets.
 *
 * @param {object} options Passed to `startDemo` (enrollment, knobs, editConfig, wifi, ...).
 * @returns {Promise<object>} The demo plus `deviceLines` and `emulatorLines`; its `close` also adds the signatures
 *   the emulator received to `suiteLog.secrets`.
 */
export async function startEndToEnd(options = {}) {
  assert.ok(existsSync(BUNDLE_PATH), "dist/firmware.js is missing: run `npm run build` (npm test does it first)");

  const deviceLines = [];
  const emulatorLines = [];
  const demo = await startDemo({
    bundlePath: BUNDLE_PATH,
    ...options,
    onDeviceLog: (line) => {
      deviceLines.push(line);
      suiteLog.lines.push(line);
    },
    onEmulatorLog: (line) => {
      emulatorLines.push(line);
      suiteLog.lines.push(line);
    },
  });

  suiteLog.secrets.add(demo.enrollmentKey);
  suiteLog.secrets.add(demo.deviceKey);
  if (demo.config.dps.deviceKey) suiteLog.secrets.add(demo.config.dps.deviceKey);
  if (demo.config.dps.groupKey) suiteLog.secrets.add(demo.config.dps.groupKey);

  const closeDemo = demo.close;
  const close = async () => {
    collectReceivedSecrets(demo.emulator);
    await closeDemo();
  };
  return { ...demo, close, deviceLines, emulatorLines };
}

/**
 * Waits until `predicate()` is true, polling every 20 ms.
 *
 * @param {() => boolean} predicate
 * @param {number} timeoutMs
 * @param {string} what Named in the error on time-out.
 */
export async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sleeps for `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Returns the emulator requests that went to DPS registration paths. */
export function dpsRequests(emulator) {
  return emulator.requests.filter((r) => r.path.includes("/registrations/"));
}
