// A simulated ESP32 running Espruino 2v29: it runs the firmware bundle unchanged in a Node `vm` context that offers
// only what the interpreter offers, with a Storage folder, a host table for HTTPS, scripted WiFi and a device clock.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { DeviceClock } from "./clock.mjs";
import { DeviceSession } from "./session.mjs";
import { normalizeWifiScript } from "./wifi.mjs";

const LOOPBACK_IPV4 = /^127\.[0-9]+\.[0-9]+\.[0-9]+$/;

/**
 * Creates a simulated device; call `boot()` to run its code.
 *
 * @param {object} options the device description
 * @param {string} [options.code] the JavaScript to run (give this or `bundlePath`)
 * @param {string} [options.bundlePath] a file with the JavaScript to run, read at every boot
 * @param {string} [options.storageDir] the folder backing `require("Storage")`, one file per Storage file;
 *   created if missing; a new temporary folder when absent
 * @param {{[hostName: string]: {address: string, port: number}}} [options.hosts] the only host names HTTPS requests
 *   can reach, each mapped to a loopback IPv4 address and the port used in place of 443
 * @param {number} [options.clockStartEpochMs] the device clock at boot in milliseconds since 1970 (default 0,
 *   like an ESP32 after power-on)
 * @param {object} [options.wifi] scripted WiFi: `{ ssid?, password?, failuresBeforeSuccess?, firmwareVersion?,
 *   dropAfterMs?, attemptMs?, available? }` (see wifi.mjs)
 * @param {(line: string) => void} [options.onLog] called with every line the device prints
 * @param {{[name: string]: string}} [options.env] overrides of `process.env` on the device
 * @returns {SimulatedDevice} the device, not yet booted
 * @throws {TypeError} naming the first invalid option
 */
export function createSimulatedDevice(options) {
  return new SimulatedDevice(options);
}

/** A simulated Espruino ESP32. Create it with `createSimulatedDevice`. */
export class SimulatedDevice {
  constructor(options) {
    if (options === null || typeof options !== "object") {
      throw new TypeError("createSimulatedDevice expects an options object with code or bundlePath");
    }
    if ((options.code === undefined) === (options.bundlePath === undefined)) {
      throw new TypeError("createSimulatedDevice needs exactly one of options.code and options.bundlePath");
    }
    if (options.code !== undefined && typeof options.code !== "string") {
      throw new TypeError(`options.code must be a string of JavaScript, but it is ${typeof options.code}`);
    }
    if (options.onLog !== undefined && typeof options.onLog !== "function") {
      throw new TypeError("options.onLog must be a function that takes one line of text");
    }

    this.code = options.code;
    this.bundlePath = options.bundlePath;
    this.storageDir = options.storageDir !== undefined
      ? path.resolve(options.storageDir)
      : fs.mkdtempSync(path.join(os.tmpdir(), "espruino-sim-storage-"));
    this.hosts = validateHosts(options.hosts || {});
    this.clockStartEpochMs = options.clockStartEpochMs === undefined ? 0 : options.clockStartEpochMs;
    this.clock = new DeviceClock(this.clockStartEpochMs);
    this.wifiScript = normalizeWifiScript(options.wifi);
    this.onLog = options.onLog;
    this.env = { ...(options.env || {}) };

    /** Every line the device printed, across reboots. */
    this.logs = [];
    /** Every exception that escaped device code: `{ source, message, error, handled }`. */
    this.uncaughtErrors = [];
    /**
     * Every HTTPS connection the device opened: `{ method, host, port, path, headerNames, startedAtDeviceMs,
     * startedAtHostMs, statusCode, bodyBytes, error, lateError }`. `port` is the port the firmware gave
     * (undefined when it left it unset). Header values are never recorded because they hold tokens.
     */
    this.httpRequests = [];
    /** The Telnet server mode: "on" at every boot until the firmware calls `setOptions({mode})`. */
    this.telnetMode = "on";
    /** WiFi connection attempts made so far, counted against `wifi.failuresBeforeSuccess`. */
    this.wifiAttempts = 0;
    /** Flags given to `E.setFlags`. */
    this.flags = {};
    /** The last seed given to `E.srand`, or undefined. */
    this.randomSeed = undefined;
    /** The device given to `E.setConsole`. */
    this.consoleDevice = "Serial1";

    this.session = undefined;
    this.logWaiters = new Set();
  }

  /** The firmware version the device reports: `env.VERSION` when given, else the WiFi script's version. */
  get firmwareVersion() {
    return this.env.VERSION !== undefined ? String(this.env.VERSION) : this.wifiScript.firmwareVersion;
  }

  /** The device clock in milliseconds since 1970. */
  get clockEpochMs() {
    return this.clock.nowMs();
  }

  /**
   * Powers the device on and runs its code in a fresh context.
   *
   * @returns {void}
   * @throws {Error} when the device is already running, or the bundle file cannot be read
   */
  boot() {
    if (this.session !== undefined) {
      throw new Error("The simulated device is already running; call reboot() to restart it");
    }
    const code = this.readCode();
    this.telnetMode = "on";
    this.session = new DeviceSession(this);
    this.session.start(code, this.bundlePath || "device-code.js");
  }

  /**
   * Restarts the device with the same Storage folder: runs `E.on("kill")` handlers, stops the old context and
   * boots a new one.
   *
   * @param {{keepClock?: boolean, code?: string}} [options] `keepClock: true` keeps the device time (a soft
   *   reset); otherwise the clock restarts at `clockStartEpochMs` (a power cycle); `code` replaces the code
   * @returns {void}
   */
  reboot(options) {
    const settings = options || {};
    if (this.session !== undefined) {
      this.session.runKillHandlers();
      this.session.stop();
      this.session = undefined;
    }
    if (settings.code !== undefined) {
      this.code = settings.code;
      this.bundlePath = undefined;
    }
    if (!settings.keepClock) {
      this.clock = new DeviceClock(this.clockStartEpochMs);
    }
    this.boot();
  }

  /**
   * Powers the device off: clears its timers and destroys its sockets so the Node process can exit. Pending
   * `waitForLog` calls are rejected.
   *
   * @returns {void}
   */
  stop() {
    if (this.session !== undefined) {
      this.session.stop();
      this.session = undefined;
    }
    for (const waiter of this.logWaiters) {
      waiter.reject(new Error(`The simulated device stopped before it printed a line matching ${waiter.pattern}`));
    }
    this.logWaiters.clear();
  }

  /**
   * Runs one REPL line in the device context.
   *
   * @param {string} expression JavaScript source
   * @returns {unknown} the value of the expression (a value of the device context)
   * @throws {Error} when the device is not running, or whatever the expression throws
   */
  eval(expression) {
    if (this.session === undefined) {
      throw new Error("The simulated device is not running; call boot() first");
    }
    return vm.runInContext(String(expression), this.session.context);
  }

  /**
   * Waits for a log line that matches a pattern, looking first at the lines already printed from `fromIndex` on.
   *
   * @param {RegExp} pattern the pattern to match
   * @param {number} [timeoutMs] how long to wait in milliseconds (default 5000)
   * @param {number} [fromIndex] the first index in `logs` to consider (default 0)
   * @returns {Promise<string>} the first matching line
   * @throws {Error} (as a rejection) when no line matches within `timeoutMs` or the device stops
   */
  waitForLog(pattern, timeoutMs, fromIndex) {
    const limitMs = timeoutMs === undefined ? 5000 : timeoutMs;
    const startIndex = fromIndex === undefined ? 0 : fromIndex;
    const existing = this.logs.slice(startIndex).find((line) => pattern.test(line));
    if (existing !== undefined) {
      return Promise.resolve(existing);
    }

    return new Promise((resolve, reject) => {
      const waiter = { pattern, resolve, reject, timer: undefined };
      waiter.resolve = (line) => {
        clearTimeout(waiter.timer);
        this.logWaiters.delete(waiter);
        resolve(line);
      };
      waiter.reject = (error) => {
        clearTimeout(waiter.timer);
        this.logWaiters.delete(waiter);
        reject(error);
      };
      waiter.timer = setTimeout(() => {
        const recent = this.logs.slice(-5).map((line) => `  ${line}`).join("\n");
        waiter.reject(new Error(`No device log line matched ${pattern} within ${limitMs} ms; last lines:\n${recent}`));
      }, limitMs);
      this.logWaiters.add(waiter);
    });
  }

  /**
   * Changes the scripted WiFi while the device runs. `available: false` drops a live link at once; a new
   * `failuresBeforeSuccess` restarts the attempt count.
   *
   * @param {object} options fields of the WiFi script to change (see `createSimulatedDevice`)
   * @returns {void}
   * @throws {TypeError} naming an invalid field
   */
  setWifi(options) {
    this.wifiScript = normalizeWifiScript({ ...this.wifiScript, ...options });
    if (options.failuresBeforeSuccess !== undefined) {
      this.wifiAttempts = 0;
    }
    if (this.session !== undefined) {
      this.session.wifi.scriptChanged();
    }
  }

  /**
   * Records one printed line and passes it to `onLog` and to waiting `waitForLog` calls. Used by the session.
   *
   * @param {string} line the line without its newline
   * @returns {void}
   */
  appendLog(line) {
    this.logs.push(line);
    if (this.onLog !== undefined) {
      this.onLog(line);
    }
    for (const waiter of Array.from(this.logWaiters)) {
      if (waiter.pattern.test(line)) {
        waiter.resolve(line);
      }
    }
  }

  readCode() {
    if (this.code !== undefined) {
      return this.code;
    }
    try {
      return fs.readFileSync(this.bundlePath, "utf8");
    } catch (error) {
      throw new Error(`Cannot read the bundle ${this.bundlePath} (${error.code}); build it first with npm run build`);
    }
  }
}

function validateHosts(hosts) {
  if (hosts === null || typeof hosts !== "object") {
    throw new TypeError('options.hosts must map host names to { address: "127.0.0.1", port: PORT }');
  }
  const table = {};
  for (const name of Object.keys(hosts)) {
    const entry = hosts[name];
    if (entry === null || typeof entry !== "object" || !LOOPBACK_IPV4.test(String(entry.address))) {
      throw new TypeError(
        `options.hosts["${name}"].address must be a loopback IPv4 address such as 127.0.0.1, ` +
          `but it is ${JSON.stringify(entry && entry.address)}`,
      );
    }
    if (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65535) {
      throw new TypeError(
        `options.hosts["${name}"].port must be a TCP port from 1 to 65535, but it is ${JSON.stringify(entry.port)}`,
      );
    }
    table[name] = { address: entry.address, port: entry.port };
  }
  return table;
}
