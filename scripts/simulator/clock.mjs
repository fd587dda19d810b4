// The device's wall clock: it starts where the simulated ESP32 boots (1970 by default), advances with the host's
// monotonic clock and jumps when the firmware calls `setTime`.

import { performance } from "node:perf_hooks";

/** Wall clock of one simulated device. */
export class DeviceClock {
  /**
   * @param {number} startEpochMs the device time at creation, in milliseconds since 1970-01-01T00:00:00Z
   */
  constructor(startEpochMs) {
    if (typeof startEpochMs !== "number" || !Number.isFinite(startEpochMs)) {
      throw new TypeError(`clockStartEpochMs must be a finite number of milliseconds, but it is ${startEpochMs}`);
    }
    this.baseEpochMs = startEpochMs;
    this.baseHostMs = performance.now();
  }

  /**
   * Returns the device time.
   *
   * @returns {number} milliseconds since 1970, with a fraction like Espruino's `Date.now()`
   */
  nowMs() {
    return this.baseEpochMs + (performance.now() - this.baseHostMs);
  }

  /**
   * Sets the device time, as `setTime(seconds)` does; running timers keep their remaining delays.
   *
   * @param {number} epochMs the new time in milliseconds since 1970
   * @returns {void}
   */
  setMs(epochMs) {
    this.baseEpochMs = epochMs;
    this.baseHostMs = performance.now();
  }
}
