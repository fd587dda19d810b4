// Behaviour knobs of the emulator's IoT Hub, for all devices at once.

/**
 * Knob defaults.
 * - `outage`: when true, every hub request gets 503 (errorCode 503000) until the knob is set back to false.
 * - `unauthorizedOnce`: when true, the next telemetry send gets 401 (errorCode 401003) once, as if the device had
 *   been moved or its credentials revoked, so the device must register with DPS again.
 * - `throttleOnce`: when a number N of seconds, the next hub request gets 429 with `Retry-After: N` once; `false`
 *   turns it off.
 * - `lockDurationMs`: how long a received C2D message stays locked for the device, in ms (IoT Hub: one minute).
 * - `maxTokenLifetimeSeconds`: longest device token lifetime accepted; a later expiry, beyond 5 more minutes, means
 *   the device clock is ahead (401003).
 */
export const DEFAULT_HUB_KNOBS = Object.freeze({
  outage: false,
  unauthorizedOnce: false,
  throttleOnce: false,
  lockDurationMs: 60000,
  maxTokenLifetimeSeconds: 3600,
});

const KNOB_CHECKS = {
  outage: (value) => typeof value === 'boolean' || 'must be true or false',
  unauthorizedOnce: (value) => typeof value === 'boolean' || 'must be true or false',
  throttleOnce: (value) => value === false || (Number.isInteger(value) && value > 0) || 'must be a whole number of seconds above 0 for Retry-After, or false',
  lockDurationMs: (value) => (Number.isInteger(value) && value > 0) || 'must be a whole number of milliseconds above 0',
  maxTokenLifetimeSeconds: (value) => (Number.isInteger(value) && value > 0) || 'must be a whole number of seconds above 0',
};

/**
 * Validates a partial hub knobs object.
 *
 * @param {unknown} knobs Object whose keys are knob names from `DEFAULT_HUB_KNOBS`.
 * @param {string} label Where the knobs came from, used in error messages.
 * @returns {Partial<typeof DEFAULT_HUB_KNOBS>} A copy of the knobs.
 * @throws {TypeError} When a knob name is unknown or a value is invalid; the message names both.
 */
export function validateHubKnobs(knobs, label) {
  if (knobs === null || typeof knobs !== 'object' || Array.isArray(knobs)) {
    throw new TypeError(`Invalid ${label}: expected an object of hub knobs such as { "outage": true }`);
  }

  for (const [name, value] of Object.entries(knobs)) {
    const check = KNOB_CHECKS[name];
    if (check === undefined) {
      throw new TypeError(`Invalid ${label}: unknown hub knob "${name}"; known hub knobs are ${Object.keys(KNOB_CHECKS).join(', ')}`);
    }
    const verdict = check(value);
    if (verdict !== true) {
      throw new TypeError(`Invalid ${label}: hub knob "${name}" ${verdict}; got ${JSON.stringify(value)}`);
    }
  }
  return { ...knobs };
}

/**
 * Creates the hub knob store of one emulator.
 *
 * @param {Partial<typeof DEFAULT_HUB_KNOBS>} [initialKnobs] Knobs at start.
 * @returns {{ get(): typeof DEFAULT_HUB_KNOBS, set(knobs: object): void, takeUnauthorized(): boolean,
 *   takeThrottle(): number | undefined }} `take*` report whether a one-shot knob fires now and turn it off.
 * @throws {TypeError} From `set` or at creation when the knobs are invalid.
 */
export function createHubKnobStore(initialKnobs = {}) {
  let knobs = { ...DEFAULT_HUB_KNOBS, ...validateHubKnobs(initialKnobs, 'hub knobs') };

  return {
    get: () => ({ ...knobs }),
    set: (changes) => {
      knobs = { ...knobs, ...validateHubKnobs(changes, 'hub knobs') };
    },
    takeUnauthorized: () => {
      if (!knobs.unauthorizedOnce) {
        return false;
      }
      knobs = { ...knobs, unauthorizedOnce: false };
      return true;
    },
    takeThrottle: () => {
      if (knobs.throttleOnce === false) {
        return undefined;
      }
      const retryAfterSeconds = knobs.throttleOnce;
      knobs = { ...knobs, throttleOnce: false };
      return retryAfterSeconds;
    },
  };
}
