// The `dps` object at the REPL, for debugging over serial. Nothing it prints contains a key, signature or token.

import { describeError } from "../core/errors";
import { device, forgetAssignment, startProvisioning } from "./device";
import { getLogLevel, setLogLevel } from "./log";

function mask(secret: string | undefined): string | undefined {
  if (secret === undefined) return undefined;
  return "<" + secret.length + " characters, hidden>";
}

/** Commands available at the REPL as `dps.<name>()`. */
export const replCommands = {
  /** Returns the phase, assignment, last error and memory use. */
  status: () => {
    const memory = process.memory(false);
    return {
      phase: device.phase,
      assignedHub: device.assignment !== undefined ? device.assignment.assignedHub : undefined,
      deviceId: device.assignment !== undefined ? device.assignment.deviceId : undefined,
      assignmentSource: device.assignmentSource,
      lastError: device.lastError !== undefined ? describeError(device.lastError) : undefined,
      configProblems: device.configProblems.length > 0 ? device.configProblems : undefined,
      wifiConnected: device.wifiConnected,
      keyFingerprint: device.keyFingerprint,
      memoryFreeBlocks: memory.free,
      logLevel: getLogLevel(),
    };
  },

  /** Returns the validated configuration with the WiFi password and keys masked. */
  config: () => {
    const config = device.config;
    if (config === undefined) return { problems: device.configProblems };

    const copy = JSON.parse(JSON.stringify(config));
    copy.wifi.password = mask(config.wifi.password);
    copy.dps.deviceKey = mask(config.dps.deviceKey);
    copy.dps.groupKey = mask(config.dps.groupKey);
    return copy;
  },

  /** Registers with DPS again now, even when an assignment is cached. */
  provision: () => {
    forgetAssignment("provisioning again on request");
    startProvisioning();
    return "provisioning started";
  },

  /** Forgets the cached assignment; the next boot or `dps.provision()` registers again. */
  forget: () => {
    forgetAssignment("forgotten on request");
    return "cached assignment forgotten";
  },

  /** Sets the log level ("error", "warn", "info" or "debug") and returns the level in force. */
  logLevel: (level?: string) => {
    if (level !== undefined && !setLogLevel(level)) return "unknown level; use error, warn, info or debug";
    return getLogLevel();
  },
};
