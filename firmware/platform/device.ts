// The device's life cycle: configuration, WiFi, cached assignment or DPS registration, and the state the REPL shows.

import { computeDoublingDelayMs } from "../core/backoff";
import { computeKeyFingerprint, findStaleAssignmentReason } from "../core/assignment";
import { DeviceConfig, validateDeviceConfig } from "../core/config";
import { DeviceError, describeError } from "../core/errors";
import { deriveDeviceKey } from "../core/sas";
import { setStatusLed, watchBootButton } from "./board";
import { isClockSet } from "./clock";
import { logError, logInfo, logWarn, setLogLevel } from "./log";
import { Assignment, cancelProvisioning, provision } from "./provisioner";
import { forgetCachedAssignment, readCachedAssignment, readConfigFile, writeCachedAssignment } from "./storage";
import { sha256 } from "./sha256";
import { nudgeHubClient, startHubClient, stopHubClient } from "./hub-client";
import { startTelemetry } from "./telemetry";
import { startWifi } from "./wifi";

/** Delay before the first automatic retry of a provisioning attempt that failed for a passing reason, in ms. */
const FIRST_REPROVISION_DELAY_MS = 60000;

/** Maximum delay between automatic provisioning attempts, in ms (one hour). */
const MAX_REPROVISION_DELAY_MS = 3600000;

/** Wait after boot before the network starts, in ms, so that `reset(true)` at the REPL can still stop a bad app. */
const NETWORK_START_DELAY_MS = 1000;

/** Everything the REPL can show about the device. */
export interface DeviceState {
  /** "booting", "config-invalid", "connecting", "provisioning", "assigned", "failed" or "waiting-to-retry". */
  phase: string;
  config: DeviceConfig | undefined;
  configProblems: Array<{ field: string; message: string }>;
  deviceKey: string | undefined;
  keyFingerprint: string | undefined;
  assignment: Assignment | undefined;
  /** How the assignment was obtained: "cache" or "dps". */
  assignmentSource: string | undefined;
  lastError: DeviceError | undefined;
  provisioningAttempts: number;
  retryTimer: number | undefined;
  wifiConnected: boolean;
}

/** The one device state of this firmware. */
export const device: DeviceState = {
  phase: "booting",
  config: undefined,
  configProblems: [],
  deviceKey: undefined,
  keyFingerprint: undefined,
  assignment: undefined,
  assignmentSource: undefined,
  lastError: undefined,
  provisioningAttempts: 0,
  retryTimer: undefined,
  wifiConnected: false,
};

const LED_BY_PHASE: { [phase: string]: string } = {
  "booting": "working",
  "config-invalid": "failed",
  "connecting": "working",
  "provisioning": "working",
  "assigned": "assigned",
  "failed": "failed",
  "waiting-to-retry": "working",
};

/** Moves the device to another phase and shows it on the status LED. */
function setPhase(phase: string): void {
  device.phase = phase;
  setStatusLed(LED_BY_PHASE[phase]);
}

function scheduleReprovision(error: DeviceError): void {
  let delayMs = computeDoublingDelayMs(device.provisioningAttempts, FIRST_REPROVISION_DELAY_MS, MAX_REPROVISION_DELAY_MS);
  if (error.retryAfterSeconds !== undefined && error.retryAfterSeconds * 1000 > delayMs) {
    delayMs = error.retryAfterSeconds * 1000;
  }

  setPhase("waiting-to-retry");
  logWarn("device", "provisioning again in " + Math.round(delayMs / 1000) + " s");
  device.retryTimer = setTimeout(() => {
    device.retryTimer = undefined;
    startProvisioning();
  }, delayMs);
}

/** Starts a DPS registration now, replacing any running attempt or pending retry. */
export function startProvisioning(): void {
  const config = device.config;
  const deviceKey = device.deviceKey;
  if (config === undefined || deviceKey === undefined) {
    logError("device", "cannot provision: the configuration is invalid (see dps.status())");
    return;
  }
  if (device.retryTimer !== undefined) clearTimeout(device.retryTimer);
  device.retryTimer = undefined;

  setPhase("provisioning");
  device.provisioningAttempts++;

  provision(config, deviceKey, (error, assignment) => {
    if (error !== undefined || assignment === undefined) {
      device.lastError = error;
      logError("dps", describeError(error));
      if (error !== undefined && error.retryable) {
        scheduleReprovision(error);
      } else {
        setPhase("failed");
        logError("device", "provisioning stopped; fix the cause, then run dps.provision() or reboot");
      }
      return;
    }

    device.lastError = undefined;
    device.provisioningAttempts = 0;
    device.assignment = assignment;
    device.assignmentSource = "dps";
    setPhase("assigned");
    writeCachedAssignment({
      assignedHub: assignment.assignedHub,
      deviceId: assignment.deviceId,
      registrationId: config.dps.registrationId,
      idScope: config.dps.idScope,
      keyFingerprint: device.keyFingerprint as string,
    });
    logInfo("dps", "assigned hub=" + assignment.assignedHub + " deviceId=" + assignment.deviceId);
    startHub();
  });
}

/** Starts sending to the assigned hub; a hub rejection forgets the assignment and provisions again. */
function startHub(): void {
  const config = device.config;
  const assignment = device.assignment;
  if (config === undefined || device.deviceKey === undefined || assignment === undefined) return;

  startHubClient(config, device.deviceKey, assignment.assignedHub, assignment.deviceId, (reason, delayMs) => {
    forgetAssignment(reason);
    setPhase("waiting-to-retry");
    if (device.retryTimer !== undefined) clearTimeout(device.retryTimer);
    device.retryTimer = setTimeout(() => {
      device.retryTimer = undefined;
      startProvisioning();
    }, delayMs);
  });
}

/**
 * Forgets the cached assignment and stops any running registration.
 *
 * @param reason Logged with the change.
 */
export function forgetAssignment(reason: string): void {
  cancelProvisioning();
  stopHubClient();
  forgetCachedAssignment(reason);
  device.assignment = undefined;
  device.assignmentSource = undefined;
  if (device.phase === "assigned") setPhase("connecting");
}

function useCacheOrProvision(): void {
  const config = device.config as DeviceConfig;
  const cached = readCachedAssignment();
  const staleReason = findStaleAssignmentReason(cached, config.dps.idScope, config.dps.registrationId,
    device.keyFingerprint as string);

  if (staleReason === undefined) {
    device.assignment = { assignedHub: cached.assignedHub, deviceId: cached.deviceId };
    device.assignmentSource = "cache";
    setPhase("assigned");
    logInfo("dps", "using the cached assignment hub=" + cached.assignedHub + " deviceId=" + cached.deviceId +
      "; no DPS request needed");
    startHub();
    return;
  }

  if (cached !== undefined) forgetCachedAssignment(staleReason);
  else logInfo("dps", staleReason + "; registering with DPS");
  startProvisioning();
}

function onBootButtonPressed(): void {
  logInfo("device", "BOOT button pressed at start");
  if (device.phase === "provisioning" || device.phase === "waiting-to-retry") return;
  const wasAssigned = device.phase === "assigned";
  forgetAssignment("the BOOT button was pressed at start");
  if (wasAssigned && device.wifiConnected) useCacheOrProvision();
}

function onWifiConnected(): void {
  device.wifiConnected = true;
  if (device.phase === "assigned") nudgeHubClient(true);
  if (device.phase !== "connecting") return;
  if (!isClockSet()) logInfo("clock", "not set yet; it will be read from the first HTTPS response");
  useCacheOrProvision();
}

/**
 * Boots the device: reads and validates the configuration, then connects WiFi and provisions.
 *
 * A bad configuration never throws: every problem is printed with its field, and the device stays at the REPL.
 */
export function bootDevice(): void {
  const file = readConfigFile();
  if (file.problem !== undefined) {
    setPhase("config-invalid");
    device.configProblems = [{ field: "(file)", message: file.problem }];
    logError("config", file.problem);
    return;
  }

  const result = validateDeviceConfig(file.value);
  if (result.config === undefined) {
    setPhase("config-invalid");
    device.configProblems = result.problems;
    for (let i = 0; i < result.problems.length; i++) {
      logError("config", result.problems[i].field + " " + result.problems[i].message);
    }
    logError("config", "fix dpscfg.json (check it on a computer with `npm run keys -- check-config FILE`), then reboot");
    return;
  }
  for (let i = 0; i < result.warnings.length; i++) logWarn("config", result.warnings[i]);

  const config = result.config;
  device.config = config;
  setLogLevel(config.device.logLevel);

  let deviceKey = config.dps.deviceKey;
  if (deviceKey === undefined) deviceKey = deriveDeviceKey(sha256, config.dps.groupKey as string, config.dps.registrationId);
  device.deviceKey = deviceKey;
  device.keyFingerprint = computeKeyFingerprint(sha256, deviceKey);

  startTelemetry(config, () => nudgeHubClient(false));
  setPhase("connecting");
  watchBootButton(onBootButtonPressed);
  setTimeout(() => startWifi(config.wifi.ssid, config.wifi.password, onWifiConnected), NETWORK_START_DELAY_MS);
}
