// WiFi station connection with retries and reconnection.
//
// One strategy only: saved WiFi settings are cleared and the firmware connects from its own configuration, so the
// interpreter's restore at boot cannot race our `connect`. Espruino 2v29 calls the connect callback only on success
// and emits `disconnected` on failure; later versions retry three times and then call it with a reason string. Both
// are handled, plus a per-attempt timer for a callback that never comes. After a drop, neither version reconnects
// by itself, so this module does.

import { computeJitteredBackoffMs } from "../core/backoff";
import { logInfo, logWarn } from "./log";

const Wifi = require("Wifi");
const Storage = require("Storage");

/** Time allowed for one connection attempt before it counts as failed, in ms. */
const ATTEMPT_TIMEOUT_MS = 20000;

/** Delay before the first retry, in ms; it doubles per failure up to `MAX_RETRY_DELAY_MS`. */
const FIRST_RETRY_DELAY_MS = 2000;
const MAX_RETRY_DELAY_MS = 60000;

interface WifiState {
  ssid: string;
  password: string;
  connected: boolean;
  attempting: boolean;
  failures: number;
  attemptTimer: number | undefined;
  retryTimer: number | undefined;
  onConnected: () => void;
}

let state: WifiState | undefined = undefined;

/** Returns whether the station has an IP address. */
export function isWifiConnected(): boolean {
  return state !== undefined && state.connected;
}

/** Returns the number of failed attempts since the last success. */
export function countWifiFailures(): number {
  return state === undefined ? 0 : state.failures;
}

function scheduleRetry(current: WifiState, reason: string): void {
  current.attempting = false;
  current.failures++;
  if (current.attemptTimer !== undefined) clearTimeout(current.attemptTimer);
  current.attemptTimer = undefined;
  if (current.retryTimer !== undefined) return;

  const delayMs = computeJitteredBackoffMs(current.failures, Math.random(), FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS);

  logWarn("wifi", "connection to \"" + current.ssid + "\" failed (" + reason + "); attempt " + (current.failures + 1) +
    " in " + delayMs + " ms");
  current.retryTimer = setTimeout(() => {
    current.retryTimer = undefined;
    attemptConnection(current);
  }, delayMs);
}

function attemptConnection(current: WifiState): void {
  if (current.attempting || current.connected) return;
  current.attempting = true;

  current.attemptTimer = setTimeout(() => {
    current.attemptTimer = undefined;
    if (current.attempting) scheduleRetry(current, "no result within " + ATTEMPT_TIMEOUT_MS + " ms");
  }, ATTEMPT_TIMEOUT_MS);

  try {
    Wifi.connect(current.ssid, { password: current.password }, (error) => {
      try {
        if (error) {
          if (current.attempting) scheduleRetry(current, String(error));
          return;
        }
        if (current.attemptTimer !== undefined) clearTimeout(current.attemptTimer);
        current.attemptTimer = undefined;
        current.attempting = false;
        if (current.connected) return;

        current.connected = true;
        current.failures = 0;
        logInfo("wifi", "connected to \"" + current.ssid + "\", IP " + Wifi.getIP().ip);
        current.onConnected();
      } catch (e) {
        logWarn("wifi", "connect handler failed: " + (e as Error).message);
      }
    });
  } catch (e) {
    scheduleRetry(current, (e as Error).message);
  }
}

/**
 * Connects to a WiFi network and keeps the connection up.
 *
 * @param ssid Network name (at most 32 characters).
 * @param password Network password, or "" for an open network. Never logged.
 * @param onConnected Called after every successful connection, including reconnections.
 */
export function startWifi(ssid: string, password: string, onConnected: () => void): void {
  if (Storage.read(".wificfg") !== undefined) {
    Wifi.save("clear");
    logInfo("wifi", "cleared the saved WiFi settings; the firmware connects from its configuration");
  }

  const current: WifiState = {
    ssid: ssid,
    password: password,
    connected: false,
    attempting: false,
    failures: 0,
    attemptTimer: undefined,
    retryTimer: undefined,
    onConnected: onConnected,
  };
  state = current;

  Wifi.on("disconnected", (details) => {
    try {
      if (current.attempting) {
        scheduleRetry(current, "reason " + details.reason);
      } else if (current.connected) {
        current.connected = false;
        logWarn("wifi", "disconnected from \"" + current.ssid + "\" (reason " + details.reason + "); reconnecting");
        scheduleRetry(current, "dropped");
      }
    } catch (e) {
      logWarn("wifi", "disconnect handler failed: " + (e as Error).message);
    }
  });

  logInfo("wifi", "connecting to \"" + ssid + "\"");
  attemptConnection(current);
}
