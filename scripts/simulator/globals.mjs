// The global objects and functions of Espruino 2v29 on ESP32 that device code can reach: `print`, `console`,
// timers, the clock, `btoa`/`atob`, `E`, `process`, `ESP32`, `require` and `global`.

import vm from "node:vm";
import { espruinoAtob, espruinoBtoa, flattenToBytes, bytesToBinaryString } from "./bytes.mjs";
import { attachEmitter } from "./events.mjs";
import { createCryptoModule } from "./crypto.mjs";
import { createHttpModule } from "./http.mjs";
import { installPins } from "./pins.mjs";

/** Built-in modules of the ESP32 build that the simulator does not provide. */
const UNSIMULATED_MODULES = ["Flash", "heatshrink", "fs", "timer", "net", "dgram", "tls", "neopixel"];

/** Value of `process.env.MODULES` on the ESP32 build. */
export const ESP32_MODULES = "Flash,Storage,heatshrink,fs,timer,net,dgram,http,tls,Wifi,TelnetServer,crypto,neopixel";

// Made-up but plausible sizes for a WROOM ESP32 (no PSRAM) with WiFi up, used by `process.memory` and
// `ESP32.getState`; nothing here was measured.
const TOTAL_JSVARS = 12000;
const JSVAR_BYTES = 14;
const FREE_HEAP_IDLE_BYTES = 38000;
const FREE_HEAP_WITH_TLS_BYTES = 5200;

/**
 * Formats one `print`/`console.log` argument roughly as Espruino does: strings as they are, errors as
 * "Name: message", other objects as JSON.
 *
 * @param {unknown} value the argument
 * @returns {string} the text
 */
export function formatLogValue(value) {
  if (typeof value === "string") {
    return value;
  }
  if (value !== null && typeof value === "object" && typeof value.message === "string" && "stack" in value) {
    return `${value.name || "Error"}: ${value.message}`;
  }
  if (value === undefined || typeof value === "function" || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Installs the device globals in a session's context.
 *
 * @param {import("./session.mjs").DeviceSession} session the session whose context receives the globals
 * @returns {void}
 */
export function installGlobals(session) {
  const { realm, sandbox, device } = session;
  const fail = (message) => {
    throw realm.newError(message);
  };

  const logLine = function () {
    session.log(Array.prototype.map.call(arguments, formatLogValue).join(" "));
  };
  sandbox.print = logLine;
  sandbox.console = realm.newObject({ log: logLine, debug: logLine, info: logLine, warn: logLine, error: logLine });

  sandbox.setTimeout = function (callback, delayMs) {
    return session.timers.add(callback, delayMs, Array.prototype.slice.call(arguments, 2), false);
  };
  sandbox.setInterval = function (callback, delayMs) {
    return session.timers.add(callback, delayMs, Array.prototype.slice.call(arguments, 2), true);
  };
  sandbox.clearTimeout = (id) => session.timers.remove(id, false);
  sandbox.clearInterval = (id) => session.timers.remove(id, true);

  sandbox.getTime = () => session.clock.nowMs() / 1000;
  sandbox.setTime = (seconds) => {
    if (typeof seconds !== "number" || !Number.isFinite(seconds)) {
      fail(`setTime expects a number of seconds since 1970, but got ${formatLogValue(seconds)}`);
    }
    session.clock.setMs(seconds * 1000);
  };

  sandbox.btoa = (data) => {
    try {
      return espruinoBtoa(data);
    } catch (error) {
      return fail(error.message);
    }
  };
  sandbox.atob = (text) => espruinoAtob(text);

  installE(session, fail);
  installProcess(session);
  installPins(session);

  sandbox.ESP32 = realm.newObject({
    getState() {
      const freeHeap = session.http.openConnections > 0 ? FREE_HEAP_WITH_TLS_BYTES : FREE_HEAP_IDLE_BYTES;
      session.minHeapBytes = Math.min(session.minHeapBytes, freeHeap);
      return realm.newObject({
        sdkVersion: "v3.1.3-dirty",
        freeHeap,
        BLE: true,
        Wifi: true,
        minHeap: session.minHeapBytes,
      });
    },
    reboot() {
      session.setHostTimer(() => device.reboot(), 0);
    },
  });

  const modules = {};
  const moduleFactories = {
    http: () => createHttpModule(session),
    crypto: () => createCryptoModule(realm),
    Storage: () => session.storageModule,
    Wifi: () => session.wifiModule,
    TelnetServer: () =>
      realm.newObject({
        setOptions(options) {
          if (options !== null && typeof options === "object" && options.mode !== undefined) {
            device.telnetMode = String(options.mode);
          }
        },
      }),
  };
  sandbox.require = (name) => {
    const moduleName = String(name);
    if (Object.prototype.hasOwnProperty.call(moduleFactories, moduleName)) {
      if (modules[moduleName] === undefined) {
        modules[moduleName] = moduleFactories[moduleName]();
      }
      return modules[moduleName];
    }
    if (UNSIMULATED_MODULES.includes(moduleName)) {
      return fail(`Module ${moduleName} exists on the ESP32 build, but the simulator does not provide it`);
    }
    return fail(`Module ${moduleName} not found`);
  };

  sandbox.global = vm.runInContext("globalThis", session.context);
}

function installE(session, fail) {
  const { realm, sandbox, device } = session;
  const espruino = realm.newObject();
  session.eEvents = attachEmitter(espruino, session.invoke, "E");

  const flatten = (items) => {
    try {
      return flattenToBytes(items);
    } catch (error) {
      return fail(error.message);
    }
  };

  Object.assign(espruino, {
    toString() {
      return bytesToBinaryString(Uint8Array.from(flatten(Array.prototype.slice.call(arguments))));
    },
    toFlatString() {
      return bytesToBinaryString(Uint8Array.from(flatten(Array.prototype.slice.call(arguments))));
    },
    toUint8Array() {
      return realm.newUint8Array(flatten(Array.prototype.slice.call(arguments)));
    },
    toArrayBuffer(text) {
      return realm.newArrayBuffer(Uint8Array.from(flatten([String(text)])));
    },
    srand(seed) {
      device.randomSeed = Number(seed);
    },
    hwRand() {
      return Math.floor(Math.random() * 0x100000000) | 0;
    },
    getErrorFlags() {
      const flags = realm.toContextValue(Array.from(session.errorFlags));
      session.errorFlags.clear();
      return flags;
    },
    setFlags(flags) {
      Object.assign(device.flags, flags);
    },
    getFlags() {
      return realm.toContextValue(device.flags);
    },
    setConsole(consoleDevice) {
      device.consoleDevice = consoleDevice === null ? null : String(consoleDevice);
    },
    setTimeZone(hours) {
      device.timeZoneHours = Number(hours);
    },
    getSizeOf() {
      return 1;
    },
  });
  sandbox.E = espruino;
}

function installProcess(session) {
  const { realm, sandbox, device } = session;
  const processObject = realm.newObject({
    version: session.firmwareVersion,
    env: realm.toContextValue({
      VERSION: session.firmwareVersion,
      BOARD: "ESP32",
      MODULES: ESP32_MODULES,
      STORAGE: 917504,
      CONSOLE: "Serial1",
      ...device.env,
    }),
    memory() {
      const usage = Math.min(TOTAL_JSVARS - 200, 900 + Math.ceil(session.codeLength / 12));
      return realm.newObject({
        free: TOTAL_JSVARS - usage,
        usage,
        total: TOTAL_JSVARS,
        history: 0,
        gc: 0,
        gctime: 0.5,
        blocksize: JSVAR_BYTES,
      });
    },
  });
  session.processEvents = attachEmitter(processObject, session.invoke, "process");
  sandbox.process = processObject;
}
