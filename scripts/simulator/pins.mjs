// GPIO pins of the simulated ESP32: `D0` to `D39`, `digitalRead`, `digitalWrite` and `pinMode`.
//
// Inputs read from `device.pinInputs` (a name-to-level object that tests change at run time, e.g. the BOOT button
// on D0 pressed is `{ D0: 0 }`); an input not listed reads 1, as a pin with a pull-up does. Every write is recorded
// in `device.pinWrites` so tests can follow the status LED.

/** Number of GPIO pins named on the ESP32 build (D0 to D39). */
const PIN_COUNT = 40;

/** Largest number of pin writes kept in `device.pinWrites`; older ones are dropped. */
const MAX_RECORDED_WRITES = 1000;

/**
 * Installs the pin objects and functions in a session's context.
 *
 * @param {import("./session.mjs").DeviceSession} session the session whose context receives them
 * @returns {void}
 */
export function installPins(session) {
  const { realm, sandbox, device } = session;
  if (device.pinInputs === undefined) device.pinInputs = {};
  if (device.pinWrites === undefined) device.pinWrites = [];

  const pins = [];
  for (let i = 0; i < PIN_COUNT; i++) {
    const pin = realm.newObject({ toString: () => `D${i}` });
    pins.push(pin);
    sandbox[`D${i}`] = pin;
  }

  const nameOf = (pin) => {
    const index = pins.indexOf(pin);
    if (index < 0) throw realm.newError(`Invalid pin: ${String(pin)}; use one of D0 to D${PIN_COUNT - 1}`);
    return `D${index}`;
  };

  sandbox.pinMode = (pin) => {
    nameOf(pin);
  };
  sandbox.digitalRead = (pin) => {
    const level = device.pinInputs[nameOf(pin)];
    return level === undefined ? 1 : level ? 1 : 0;
  };
  sandbox.digitalWrite = (pin, value) => {
    device.pinWrites.push({ pin: nameOf(pin), level: value ? 1 : 0, atDeviceMs: session.clock.nowMs() });
    if (device.pinWrites.length > MAX_RECORDED_WRITES) device.pinWrites.shift();
  };
}
