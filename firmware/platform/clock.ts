// The device clock. An ESP32 starts near 1970 after power-on, and a token signed then is already expired, so no
// token is signed while the clock is below the firmware's build time. The clock is set from the `Date` header of an
// HTTPS response: once after boot and again after a 401, never at other times, because an unauthenticated TLS peer
// could otherwise move it at will.

import { logInfo, logWarn } from "./log";

// Sum of every change this module made to the clock, in ms, so that `monotonicMs` can undo them.
let appliedChangesMs = 0;

/** Returns the device clock in ms since 1970. */
export function nowEpochMs(): number {
  return getTime() * 1000;
}

/**
 * Returns a clock for measuring waits and deadlines, in ms: the device clock without the jumps that
 * `setClockFromDateHeader` made. Its zero point has no meaning.
 */
export function monotonicMs(): number {
  return getTime() * 1000 - appliedChangesMs;
}

/** Returns whether the clock is at or after the firmware's build time, i.e. plausibly set. */
export function isClockSet(): boolean {
  return getTime() >= BUILD_EPOCH_SECONDS;
}

/**
 * Sets the clock from an HTTP `Date` header.
 *
 * @param dateHeader e.g. "Fri, 04 Dec 2026 20:13:27 GMT", or `undefined`.
 * @returns The change applied in seconds (0 when the header was missing, unreadable, before the build time, or
 *   within one second of the clock).
 */
export function setClockFromDateHeader(dateHeader: string | undefined): number {
  if (dateHeader === undefined) return 0;

  const serverMs = Date.parse(dateHeader);
  if (isNaN(serverMs) || serverMs / 1000 < BUILD_EPOCH_SECONDS) {
    logWarn("clock", "ignored a Date header before the firmware build time or unreadable: " + dateHeader);
    return 0;
  }

  const changeSeconds = serverMs / 1000 - getTime();
  if (Math.abs(changeSeconds) < 1) return 0;

  setTime(serverMs / 1000);
  appliedChangesMs += changeSeconds * 1000;
  logInfo("clock", "set to " + new Date(serverMs).toISOString() + " (moved " + Math.round(changeSeconds) + " s)");
  return changeSeconds;
}
