// Espruino's event methods (`on`, `removeListener`, `removeAllListeners`, `emit`) for the objects the simulator
// hands to device code: the HTTP request and response, and the Wifi module.

/**
 * Adds Espruino's event methods to a device object and returns the host side of its emitter.
 *
 * @param {object} target the context object that receives `on`, `addListener`, `removeListener`,
 *   `removeAllListeners` and `emit`
 * @param {(listener: Function, args: unknown[], source: string, thisArg: object) => boolean} invoke runs a
 *   device callback, reports what it throws, and returns true when it threw
 * @param {string} owner names the object in error reports, for example "http response"
 * @returns {{emit: (event: string, args?: unknown[], options?: {removeOnThrow?: boolean, onRemoved?: () => void})
 *   => boolean,
 *   listenerCount: (event: string) => number}} host-side helpers; `emit` returns whether a listener existed
 */
export function attachEmitter(target, invoke, owner) {
  /** @type {Map<string, Function[]>} */
  const listeners = new Map();

  const add = function (event, listener) {
    if (typeof listener !== "function") {
      return target;
    }
    const name = String(event);
    if (!listeners.has(name)) {
      listeners.set(name, []);
    }
    listeners.get(name).push(listener);
    return target;
  };

  const emit = (event, args, options) => {
    const current = (listeners.get(event) || []).slice();
    for (const listener of current) {
      const threw = invoke(listener, args || [], `${owner} "${event}" handler`, target);
      // Espruino removes a stream's "data" handler that throws, and sets the CALLBACK error flag.
      if (threw && options !== undefined && options.removeOnThrow) {
        const remaining = (listeners.get(event) || []).filter((item) => item !== listener);
        listeners.set(event, remaining);
        if (options.onRemoved !== undefined) {
          options.onRemoved();
        }
      }
    }
    return current.length > 0;
  };

  target.on = add;
  target.addListener = add;
  target.removeListener = function (event, listener) {
    const name = String(event);
    listeners.set(name, (listeners.get(name) || []).filter((item) => item !== listener));
    return target;
  };
  target.removeAllListeners = function (event) {
    if (event === undefined) {
      listeners.clear();
    } else {
      listeners.delete(String(event));
    }
    return target;
  };
  target.emit = function (event) {
    emit(String(event), Array.prototype.slice.call(arguments, 1));
    return target;
  };

  return {
    emit,
    listenerCount: (event) => (listeners.get(event) || []).length,
  };
}
