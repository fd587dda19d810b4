// The `dps` object at the REPL, for debugging over serial. Nothing it prints contains a key, signature or token.

import { describeError } from "../core/errors";
import { device, forgetAssignment, startProvisioning } from "./device";
import { CloudToDeviceHandler, hubStatistics, setCloudToDeviceHandler } from "./hub-client";
import { getLogLevel, setLogLevel } from "./log";
import { getTelemetryStatus, queueReading } from "./telemetry";

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
      telemetry: getTelemetryStatus(),
      hub: {
        requests: hubStatistics.requests,
        acceptedReadings: hubStatistics.acceptedReadings,
        droppedReadings: hubStatistics.droppedReadings,
        receivedMessages: hubStatistics.receivedMessages,
        tokensSigned: hubStatistics.tokensSigned,
        lastOutcome: hubStatistics.lastOutcome,
      },
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

  /**
   * Queues a reading of your own for the hub; it is sent in order with the demo readings and kept across reboots.
   * Returns the message ID, or the reason it was not queued (e.g. a property name with a space).
   */
  send: (reading: any, properties?: { [name: string]: string }) => {
    try {
      return queueReading(JSON.stringify(reading), properties).i;
    } catch (e) {
      return "not queued: " + describeError(e);
    }
  },

  /**
   * Sets the handler of cloud-to-device messages: `function (message) { return "complete"; }`, where `message` has
   * `body`, `messageId`, `properties` and `lockToken`, and the result is "complete", "reject" or "abandon". Call it
   * without an argument to log and complete every message again.
   */
  onMessage: (handler?: CloudToDeviceHandler) => {
    setCloudToDeviceHandler(handler);
    return handler !== undefined ? "C2D handler set" : "C2D messages are logged and completed";
  },

  /** Sets the log level ("error", "warn", "info" or "debug") and returns the level in force. */
  logLevel: (level?: string) => {
    if (level !== undefined && !setLogLevel(level)) return "unknown level; use error, warn, info or debug";
    return getLogLevel();
  },
};
