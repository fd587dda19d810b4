// Puts a simulated device and the local DPS emulator together: a fresh enrollment with keys made at run time, the
// device key derived on the host, the device configuration written into the simulated Storage, and the firmware
// bundle booted in the simulator. `npm start`, the end-to-end tests and the benchmark all start from here.

import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deriveDeviceKey } from "../../firmware/core/sas.ts";
import { CONFIG_FILE_NAME } from "../../firmware/core/constants.ts";
import { startEmulator } from "../emulator/server.mjs";
import { createSimulatedDevice } from "../simulator/device.mjs";

/** The made-up ID scope of the demo; real scopes look the same. */
export const DEMO_ID_SCOPE = "0ne00DE0001";

/** The emulator's IoT Hub host name; trusted by the demo configuration as an exact name. */
export const DEMO_HUB_HOST_NAME = "localhost";

/** SHA-256 over binary strings, for the core functions on the host. */
export function hostSha256(data) {
  return createHash("sha256").update(Buffer.from(data, "latin1")).digest("latin1");
}

/**
 * Starts the emulator and a simulated device that is configured to provision through it.
 *
 * @param {object} options
 * @param {string} options.bundlePath Path of dist/firmware.js.
 * @param {"group"|"individual"} [options.enrollment] Kind of enrollment (default "group").
 * @param {string} [options.registrationId] Default "demo-sensor-01".
 * @param {object} [options.knobs] Emulator knobs for all registrations, e.g. `{ retryAfterSeconds: 1 }`.
 * @param {object} [options.hubKnobs] Knobs of the emulator's IoT Hub, e.g. `{ outage: true }`.
 * @param {(config: object) => object} [options.editConfig] Changes the device configuration before it is written.
 * @param {string} [options.storageDir] Storage folder; a new temporary one by default.
 * @param {(line: string) => void} [options.onDeviceLog] Receives every device log line.
 * @param {(line: string) => void} [options.onEmulatorLog] Receives every emulator log line.
 * @param {object} [options.wifi] Scripted WiFi of the simulator.
 * @param {number} [options.clockStartEpochMs] Device clock at boot (default 0, as after power-on).
 * @param {() => number} [options.emulatorNowMs] The emulator's clock in ms since 1970 (default: the real clock).
 * @returns {Promise<{ emulator: object, device: object, config: object, deviceKey: string, close(): Promise<void> }>}
 *   The device is created but not booted.
 */
export async function startDemo(options) {
  const enrollment = options.enrollment ?? "group";
  const registrationId = options.registrationId ?? "demo-sensor-01";

  // Keys are made fresh for every run, so no key ever sits in the repository.
  const enrollmentKey = randomBytes(64).toString("base64");
  const enrollments = { idScope: DEMO_ID_SCOPE, individual: [], groups: [] };
  if (enrollment === "group") {
    enrollments.groups.push({ enrollmentGroupId: "demo-group", primaryKey: enrollmentKey });
  } else {
    enrollments.individual.push({ registrationId, primaryKey: enrollmentKey });
  }

  const emulator = await startEmulator({
    enrollments,
    hubHostName: DEMO_HUB_HOST_NAME,
    knobs: options.knobs,
    hubKnobs: options.hubKnobs,
    log: options.onEmulatorLog ?? (() => {}),
    ...(options.emulatorNowMs ? { nowMs: options.emulatorNowMs } : {}),
  });

  const deviceKey = enrollment === "group" ? deriveDeviceKey(hostSha256, enrollmentKey, registrationId) : enrollmentKey;
  let config = {
    wifi: { ssid: "demo-wifi", password: "demo-wifi-password" },
    dps: {
      idScope: DEMO_ID_SCOPE,
      registrationId,
      enrollment,
      deviceKey,
      host: "localhost",
      port: emulator.port,
    },
    hub: { port: emulator.port },
    trust: { dpsSuffixes: ["localhost"], hubSuffixes: [DEMO_HUB_HOST_NAME] },
  };
  if (options.editConfig) config = options.editConfig(config);

  const storageDir = options.storageDir ?? mkdtempSync(join(tmpdir(), "espruino-dps-demo-"));
  writeFileSync(join(storageDir, CONFIG_FILE_NAME), JSON.stringify(config));

  const device = createSimulatedDevice({
    bundlePath: options.bundlePath,
    storageDir,
    hosts: { localhost: { address: "127.0.0.1", port: emulator.port } },
    wifi: options.wifi ?? { ssid: "demo-wifi", password: "demo-wifi-password" },
    clockStartEpochMs: options.clockStartEpochMs ?? 0,
    onLog: options.onDeviceLog,
  });

  return {
    emulator,
    device,
    config,
    deviceKey,
    enrollmentKey,
    storageDir,
    close: async () => {
      device.stop();
      await emulator.close();
    },
  };
}
