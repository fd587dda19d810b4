// Behaviour knobs of the local DPS emulator, settable for one registration ID or for all ("*").

/** Key that sets knobs for every registration ID. */
export const ALL_REGISTRATIONS = '*';

/** Registration outcomes the emulator can hand out. */
export const OUTCOMES = Object.freeze(['assigned', 'failed', 'disabled']);

/**
 * Knob defaults.
 * - `assignmentDelayMs`: time from the register PUT until polls return the final state, in ms.
 * - `retryAfterSeconds`: `Retry-After` header on 202 responses, in whole seconds; `null` omits the header.
 * - `throttleFirstPut`: when a number N of seconds, the first register PUT of each registration ID gets 429 with
 *   `Retry-After: N`; `false` turns it off.
 * - `serverErrorOnce`: 500 or 503 makes the next request fail once with that status; `false` turns it off.
 * - `outcome`: final status, one of `OUTCOMES`.
 * - `failedErrorCode`: `registrationState.errorCode` when `outcome` is "failed".
 */
export const DEFAULT_KNOBS = Object.freeze({
  assignmentDelayMs: 0,
  retryAfterSeconds: 1,
  throttleFirstPut: false,
  serverErrorOnce: false,
  outcome: 'assigned',
  failedErrorCode: 400208,
});

const KNOB_CHECKS = {
  assignmentDelayMs: (value) => isWholeNumber(value) || 'must be a whole number of milliseconds, 0 or more',
  retryAfterSeconds: (value) => value === null || isWholeNumber(value) || 'must be a whole number of seconds, 0 or more, or null to omit the header',
  throttleFirstPut: (value) => value === false || (isWholeNumber(value) && value > 0) || 'must be a whole number of seconds above 0 for Retry-After, or false',
  serverErrorOnce: (value) => value === false || value === 500 || value === 503 || 'must be 500, 503 or false',
  outcome: (value) => OUTCOMES.includes(value) || `must be one of ${OUTCOMES.map((name) => `"${name}"`).join(', ')}`,
  failedErrorCode: (value) => (Number.isInteger(value) && value >= 100000 && value <= 599999) || 'must be a six-digit DPS error code such as 400208',
};

/**
 * Validates a partial knobs object.
 *
 * @param {unknown} knobs Object whose keys are knob names from `DEFAULT_KNOBS`.
 * @param {string} label Where the knobs came from, used in error messages.
 * @returns {Partial<typeof DEFAULT_KNOBS>} A copy of the knobs.
 * @throws {TypeError} When a knob name is unknown or a value is invalid; the message names both.
 */
export function validateKnobs(knobs, label) {
  if (knobs === null || typeof knobs !== 'object' || Array.isArray(knobs)) {
    throw new TypeError(`Invalid ${label}: expected an object of knobs such as { "assignmentDelayMs": 2000 }`);
  }

  for (const [name, value] of Object.entries(knobs)) {
    const check = KNOB_CHECKS[name];
    if (check === undefined) {
      throw new TypeError(`Invalid ${label}: unknown knob "${name}"; known knobs are ${Object.keys(KNOB_CHECKS).join(', ')}`);
    }

    const verdict = check(value);
    if (verdict !== true) {
      throw new TypeError(`Invalid ${label}: knob "${name}" ${verdict}; got ${JSON.stringify(value)}`);
    }
  }

  return { ...knobs };
}

/**
 * Creates the knob store of one emulator.
 *
 * @param {Partial<typeof DEFAULT_KNOBS>} [initialKnobs] Knobs for all registration IDs at start.
 * @returns {{ set(registrationIdOrStar: string, knobs: object): void, get(registrationId: string): typeof DEFAULT_KNOBS,
 *   takeServerError(registrationId: string): number | undefined, takeThrottle(registrationId: string): number | undefined }}
 *   `get` merges defaults, "*" knobs and the registration's own knobs. `takeServerError` and `takeThrottle` return the
 *   status or `Retry-After` seconds when a one-shot knob fires, and record that it fired.
 * @throws {TypeError} From `set` when the knobs are invalid.
 */
export function createKnobStore(initialKnobs = {}) {
  const knobsByKey = new Map([[ALL_REGISTRATIONS, validateKnobs(initialKnobs, 'knobs')]]);
  const throttledRegistrationIds = new Set();

  function set(registrationIdOrStar, knobs) {
    if (typeof registrationIdOrStar !== 'string' || registrationIdOrStar.length === 0) {
      throw new TypeError('Invalid knob target: pass a registration ID or "*" for all registrations');
    }

    const validated = validateKnobs(knobs, `knobs for "${registrationIdOrStar}"`);
    knobsByKey.set(registrationIdOrStar, { ...knobsByKey.get(registrationIdOrStar), ...validated });

    // Setting throttleFirstPut again re-arms it, so the next PUT is throttled once more.
    if ('throttleFirstPut' in validated) {
      if (registrationIdOrStar === ALL_REGISTRATIONS) {
        throttledRegistrationIds.clear();
      } else {
        throttledRegistrationIds.delete(registrationIdOrStar);
      }
    }
  }

  function get(registrationId) {
    return { ...DEFAULT_KNOBS, ...knobsByKey.get(ALL_REGISTRATIONS), ...knobsByKey.get(registrationId) };
  }

  function takeServerError(registrationId) {
    const ownerKey = findOwnerKey(registrationId, 'serverErrorOnce');
    const status = knobsByKey.get(ownerKey)?.serverErrorOnce;
    if (status === undefined || status === false) {
      return undefined;
    }

    knobsByKey.set(ownerKey, { ...knobsByKey.get(ownerKey), serverErrorOnce: false });
    return status;
  }

  function takeThrottle(registrationId) {
    const retryAfterSeconds = get(registrationId).throttleFirstPut;
    if (retryAfterSeconds === false || throttledRegistrationIds.has(registrationId)) {
      return undefined;
    }

    throttledRegistrationIds.add(registrationId);
    return retryAfterSeconds;
  }

  // The registration's own knob wins over the "*" knob, so a one-shot knob is used up where it was set.
  function findOwnerKey(registrationId, knobName) {
    if (knobsByKey.get(registrationId)?.[knobName] !== undefined) {
      return registrationId;
    }
    return ALL_REGISTRATIONS;
  }

  return { set, get, takeServerError, takeThrottle };
}

function isWholeNumber(value) {
  return Number.isInteger(value) && value >= 0;
}
