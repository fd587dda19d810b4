// Espruino's timers on top of the host's: ids are small numbers, and, as in Espruino's timer array, a new id is one
// more than the highest id in use (1 when none is), so ids are reused once their timers are gone.

/** The timers of one device session. */
export class TimerTable {
  /**
   * @param {(callback: Function, args: unknown[], source: string) => void} invoke runs a device callback and
   *   reports what it throws
   * @param {(message: string) => Error} newError creates an error of the device context
   */
  constructor(invoke, newError) {
    this.invoke = invoke;
    this.newError = newError;
    /** @type {Map<number, {handle: NodeJS.Timeout, repeat: boolean}>} */
    this.entries = new Map();
  }

  /**
   * Starts a timer like Espruino's `setTimeout` or `setInterval`.
   *
   * @param {Function} callback the device function to run
   * @param {unknown} delayMs the delay or period in milliseconds (non-numbers count as 0)
   * @param {unknown[]} args extra arguments passed to `callback`
   * @param {boolean} repeat true for `setInterval`
   * @returns {number} the timer id
   * @throws {Error} when `callback` is not a function
   */
  add(callback, delayMs, args, repeat) {
    if (typeof callback !== "function") {
      throw this.newError(`${repeat ? "setInterval" : "setTimeout"} expects a function, but got ${typeof callback}`);
    }

    let id = 1;
    for (const existing of this.entries.keys()) {
      id = Math.max(id, existing + 1);
    }

    const delay = Math.max(0, Number(delayMs) || 0);
    const source = repeat ? "setInterval callback" : "setTimeout callback";
    const run = () => {
      if (!repeat) {
        this.entries.delete(id);
      }
      this.invoke(callback, args, source);
    };
    const handle = repeat ? setInterval(run, Math.max(1, delay)) : setTimeout(run, delay);
    this.entries.set(id, { handle, repeat });
    return id;
  }

  /**
   * Stops a timer like Espruino's `clearTimeout`/`clearInterval`. As in Espruino 2v29, `undefined` clears every
   * timer, and an id that is not running throws.
   *
   * @param {unknown} id the timer id
   * @param {boolean} repeat true for `clearInterval` (only the error message differs)
   * @returns {void}
   * @throws {Error} "Unknown Timeout" or "Unknown Interval" for an id that is not running
   */
  remove(id, repeat) {
    if (id === undefined) {
      this.clear();
      return;
    }
    const entry = this.entries.get(Number(id));
    if (entry === undefined) {
      throw this.newError(repeat ? "Unknown Interval" : "Unknown Timeout");
    }
    clearTimeout(entry.handle);
    clearInterval(entry.handle);
    this.entries.delete(Number(id));
  }

  /**
   * Stops every timer.
   *
   * @returns {void}
   */
  clear() {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.handle);
      clearInterval(entry.handle);
    }
    this.entries.clear();
  }
}
