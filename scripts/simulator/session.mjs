// One power-on of a simulated device: a fresh `vm` context with Espruino's globals, its timers, sockets and WiFi
// link, from boot until reboot or stop.

import vm from "node:vm";
import { createRealm } from "./realm.mjs";
import { prepareIntrinsics } from "./intrinsics.mjs";
import { TimerTable } from "./timers.mjs";
import { installGlobals, formatLogValue } from "./globals.mjs";
import { createStorageModule } from "./storage.mjs";
import { createWifiModule } from "./wifi.mjs";

/** Sessions that are running, so unhandled promise rejections can be routed to the device that made them. */
const liveSessions = new Set();

/** Rejections already reported; Mocha re-emits the event, so one rejection can reach the listener twice. */
const reportedRejections = new WeakSet();

function onUnhandledRejection(reason, promise) {
  if (reportedRejections.has(promise)) {
    return;
  }
  for (const session of liveSessions) {
    if (session.realm.ownsPromise(promise)) {
      reportedRejections.add(promise);
      session.reportUncaught(reason, "unhandled promise rejection");
      return;
    }
  }
  // Not a device promise: behave as if this listener did not exist.
  throw reason;
}

/** One boot of a simulated device. */
export class DeviceSession {
  /**
   * @param {import("./device.mjs").SimulatedDevice} device the device that owns the logs, records and options
   */
  constructor(device) {
    this.device = device;
    this.clock = device.clock;
    this.alive = true;
    this.firmwareVersion = device.firmwareVersion;
    this.codeLength = 0;
    this.minHeapBytes = Infinity;
    this.errorFlags = new Set();
    this.http = { openConnections: 0 };
    this.hostTimers = new Set();
    this.sockets = new Set();

    this.invoke = this.invoke.bind(this);
    this.reportUncaught = this.reportUncaught.bind(this);

    this.sandbox = {};
    this.context = vm.createContext(this.sandbox, { name: "espruino-device" });
    this.realm = createRealm(this.context);
    prepareIntrinsics(this.context, () => this.clock.nowMs());
    this.timers = new TimerTable(this.invoke, (message) => this.realm.newError(message));

    this.storageModule = createStorageModule(device.storageDir, this.realm);
    const wifi = createWifiModule(this);
    this.wifiModule = wifi.module;
    this.wifi = wifi.controller;
    installGlobals(this);
  }

  /**
   * Runs the boot sequence: the code, then `E.on("init")` handlers, then `onInit()`, then the WiFi restore from a
   * saved `.wificfg`, as the ESP32 build does. An exception in the code is reported as uncaught, not thrown.
   *
   * @param {string} code the JavaScript to run
   * @param {string} fileName the name shown in stack traces
   * @returns {void}
   */
  start(code, fileName) {
    liveSessions.add(this);
    if (liveSessions.size === 1) {
      process.on("unhandledRejection", onUnhandledRejection);
    }

    this.codeLength = code.length;
    try {
      new vm.Script(code, { filename: fileName }).runInContext(this.context);
    } catch (error) {
      this.reportUncaught(error, "top-level code");
    }

    this.eEvents.emit("init", []);
    if (typeof this.sandbox.onInit === "function") {
      this.invoke(this.sandbox.onInit, [], "onInit");
    }
    this.wifi.restoreAtBoot();
  }

  /**
   * Runs a device callback and reports what it throws, as Espruino's event loop does.
   *
   * @param {Function} callback the device function
   * @param {unknown[]} args its arguments
   * @param {string} source what kind of callback it is, for the report (for example "setTimeout callback")
   * @param {unknown} [thisArg] the `this` value
   * @returns {boolean} true when the callback threw
   */
  invoke(callback, args, source, thisArg) {
    if (!this.alive) {
      return false;
    }
    try {
      callback.apply(thisArg, args);
      return false;
    } catch (error) {
      this.reportUncaught(error, source);
      return true;
    }
  }

  /**
   * Records an exception that escaped device code. It goes to `process.on("uncaughtException")` handlers when
   * there are any; otherwise it is printed as "Uncaught ...", as Espruino does.
   *
   * @param {unknown} error the thrown value
   * @param {string} source where it escaped
   * @returns {void}
   */
  reportUncaught(error, source) {
    const message = formatLogValue(error);
    const handled = this.processEvents !== undefined && this.processEvents.listenerCount("uncaughtException") > 0;
    this.device.uncaughtErrors.push({ source, message, error, handled });

    if (!handled) {
      this.log(`Uncaught ${message}`);
      return;
    }
    // A handler that throws must not loop back here, so it is called without `invoke`.
    try {
      this.processEvents.emit("uncaughtException", [error]);
    } catch (handlerError) {
      this.log(`Uncaught ${formatLogValue(handlerError)}`);
    }
  }

  /**
   * Appends device output to the log, one entry per line.
   *
   * @param {string} text the printed text
   * @returns {void}
   */
  log(text) {
    if (!this.alive) {
      return;
    }
    for (const line of String(text).split("\n")) {
      this.device.appendLog(line);
    }
  }

  /**
   * Starts a host timer that belongs to this session and never fires after `stop`.
   *
   * @param {() => void} callback host code to run
   * @param {number} delayMs the delay in milliseconds
   * @returns {NodeJS.Timeout} the handle for `clearHostTimer`
   */
  setHostTimer(callback, delayMs) {
    const handle = setTimeout(() => {
      this.hostTimers.delete(handle);
      if (this.alive) {
        callback();
      }
    }, delayMs);
    this.hostTimers.add(handle);
    return handle;
  }

  /**
   * Cancels a timer from `setHostTimer`; `undefined` is ignored.
   *
   * @param {NodeJS.Timeout | undefined} handle the handle
   * @returns {void}
   */
  clearHostTimer(handle) {
    if (handle !== undefined) {
      clearTimeout(handle);
      this.hostTimers.delete(handle);
    }
  }

  /**
   * Registers a socket so `stop` can destroy it.
   *
   * @param {import("node:net").Socket} socket the socket
   * @returns {void}
   */
  trackSocket(socket) {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  /**
   * Runs the `E.on("kill")` handlers, as Espruino does before a soft reset.
   *
   * @returns {void}
   */
  runKillHandlers() {
    if (this.alive) {
      this.eEvents.emit("kill", []);
    }
  }

  /**
   * Stops the session: clears every timer and destroys every socket, so no device code runs afterwards.
   *
   * @returns {void}
   */
  stop() {
    this.alive = false;
    this.timers.clear();
    for (const handle of this.hostTimers) {
      clearTimeout(handle);
    }
    this.hostTimers.clear();
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();

    liveSessions.delete(this);
    if (liveSessions.size === 0) {
      process.off("unhandledRejection", onUnhandledRejection);
    }
  }
}
