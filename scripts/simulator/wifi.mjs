// `require("Wifi")` of Espruino on ESP32 with scripted behaviour: which SSID and password the access point takes,
// how many attempts fail first, when the link drops, and whether the firmware is 2v29 or 2v30.
//
// 2v29: `connect` makes one attempt and calls its callback only on success; a failure emits "disconnected".
// 2v30: `connect` makes up to 3 attempts, then calls the callback with the reason string and emits "disconnected".
// Neither version reconnects by itself after a drop.

import { attachEmitter } from "./events.mjs";
import { toEspruinoJson } from "./storage-json.mjs";
import { encodeFileName } from "./storage.mjs";
import fs from "node:fs";
import path from "node:path";

/** ESP-IDF disconnect reasons used by the simulator, as code and name. */
export const WIFI_REASONS = {
  ASSOC_LEAVE: { code: 8, name: "ASSOC_LEAVE" },
  BEACON_TIMEOUT: { code: 200, name: "BEACON_TIMEOUT" },
  NO_AP_FOUND: { code: 201, name: "NO_AP_FOUND" },
  AUTH_FAIL: { code: 202, name: "AUTH_FAIL" },
  ASSOC_FAIL: { code: 203, name: "ASSOC_FAIL" },
};

/** Attempts the 2v30 firmware makes in one `connect` call before it reports the failure. */
const ATTEMPTS_PER_CONNECT_2V30 = 3;

const DEVICE_IP = { ip: "192.168.4.23", netmask: "255.255.255.0", gw: "192.168.4.1" };
const DEVICE_MAC = "24:0a:c4:00:00:01";

/**
 * Normalizes the scripted WiFi options of a simulated device.
 *
 * @param {object} [options] `{ ssid?, password?, failuresBeforeSuccess?, firmwareVersion?, dropAfterMs?,
 *   attemptMs?, available? }`; an absent `ssid` or `password` accepts any value; `attemptMs` (default 100) is how
 *   long one connection attempt takes; `available: false` makes every attempt fail and drops a live link
 * @returns {object} the complete script
 * @throws {TypeError} naming the invalid field
 */
export function normalizeWifiScript(options) {
  const script = {
    ssid: undefined,
    password: undefined,
    failuresBeforeSuccess: 0,
    firmwareVersion: "2v29",
    dropAfterMs: undefined,
    attemptMs: 100,
    available: true,
    ...(options || {}),
  };
  if (script.firmwareVersion !== "2v29" && script.firmwareVersion !== "2v30") {
    throw new TypeError(`wifi.firmwareVersion must be "2v29" or "2v30", but it is ${JSON.stringify(script.firmwareVersion)}`);
  }
  for (const field of ["failuresBeforeSuccess", "attemptMs"]) {
    if (typeof script[field] !== "number" || !(script[field] >= 0)) {
      throw new TypeError(`wifi.${field} must be a number of 0 or more, but it is ${JSON.stringify(script[field])}`);
    }
  }
  if (script.dropAfterMs !== undefined && !(typeof script.dropAfterMs === "number" && script.dropAfterMs >= 0)) {
    throw new TypeError(`wifi.dropAfterMs must be a number of milliseconds, but it is ${JSON.stringify(script.dropAfterMs)}`);
  }
  return script;
}

/**
 * Creates the device's `Wifi` module for one session.
 *
 * @param {object} session the device session (see session.mjs)
 * @returns {{module: object, controller: {isConnected: () => boolean, scriptChanged: () => void,
 *   restoreAtBoot: () => void}}} the module object and the host-side controls
 */
export function createWifiModule(session) {
  const realm = session.realm;
  const wifiModule = realm.newObject();
  const emitter = attachEmitter(wifiModule, session.invoke, "Wifi");

  const state = {
    status: "off",
    ssid: undefined,
    password: undefined,
    hostname: "espruino",
    attemptTimer: undefined,
    dropTimer: undefined,
  };
  const script = () => session.device.wifiScript;

  const cancelTimers = () => {
    session.clearHostTimer(state.attemptTimer);
    session.clearHostTimer(state.dropTimer);
    state.attemptTimer = undefined;
    state.dropTimer = undefined;
  };

  const emitDisconnected = (reason) => {
    emitter.emit("disconnected", [
      realm.newObject({ ssid: state.ssid, mac: DEVICE_MAC, reason: String(reason.code), msg: reason.name }),
    ]);
  };

  const dropLink = (reason) => {
    cancelTimers();
    state.status = reason.name.toLowerCase();
    emitDisconnected(reason);
  };

  const scheduleDrop = () => {
    const dropAfterMs = script().dropAfterMs;
    if (dropAfterMs !== undefined) {
      state.dropTimer = session.setHostTimer(() => dropLink(WIFI_REASONS.BEACON_TIMEOUT), dropAfterMs);
    }
  };

  // Decides one attempt from the script; returns undefined on success or the failure reason.
  const attempt = () => {
    const current = script();
    session.device.wifiAttempts += 1;
    if (!current.available || (current.ssid !== undefined && state.ssid !== current.ssid)) {
      return WIFI_REASONS.NO_AP_FOUND;
    }
    if (current.password !== undefined && state.password !== current.password) {
      return WIFI_REASONS.AUTH_FAIL;
    }
    if (session.device.wifiAttempts <= current.failuresBeforeSuccess) {
      return WIFI_REASONS.ASSOC_FAIL;
    }
    return undefined;
  };

  const runAttempts = (attemptsLeft, callback) => {
    state.attemptTimer = session.setHostTimer(() => {
      state.attemptTimer = undefined;
      const failure = attempt();
      if (failure === undefined) {
        state.status = "connected";
        emitter.emit("connected", [realm.newObject(DEVICE_IP)]);
        if (typeof callback === "function") {
          session.invoke(callback, [null], "Wifi.connect callback");
        }
        scheduleDrop();
        return;
      }
      if (attemptsLeft > 1) {
        runAttempts(attemptsLeft - 1, callback);
        return;
      }
      state.status = failure.name.toLowerCase();
      emitDisconnected(failure);
      if (script().firmwareVersion === "2v30" && typeof callback === "function") {
        session.invoke(callback, [failure.name], "Wifi.connect callback");
      }
    }, script().attemptMs);
  };

  const connect = (ssid, options, callback, attempts) => {
    if (typeof options === "function") {
      callback = options;
      options = undefined;
    }
    const wasConnected = state.status === "connected";
    cancelTimers();
    state.ssid = String(ssid);
    state.password = options !== undefined && options !== null && options.password !== undefined
      ? String(options.password)
      : undefined;
    // 2v30 drops a live link before it reconnects; 2v29 does not treat this case specially.
    if (wasConnected && script().firmwareVersion === "2v30") {
      emitDisconnected(WIFI_REASONS.ASSOC_LEAVE);
    }
    state.status = "connecting";
    if (attempts === undefined) {
      attempts = script().firmwareVersion === "2v30" ? ATTEMPTS_PER_CONNECT_2V30 : 1;
    }
    runAttempts(attempts, callback);
  };

  Object.assign(wifiModule, {
    connect(ssid, options, callback) {
      connect(ssid, options, callback, undefined);
    },

    disconnect(callback) {
      const wasActive = state.status === "connected" || state.status === "connecting";
      cancelTimers();
      state.status = "off";
      if (wasActive) {
        emitDisconnected(WIFI_REASONS.ASSOC_LEAVE);
      }
      if (typeof callback === "function") {
        session.setHostTimer(() => session.invoke(callback, [], "Wifi.disconnect callback"), 0);
      }
    },

    getIP(callback) {
      const connected = state.status === "connected";
      const info = realm.newObject({
        ip: connected ? DEVICE_IP.ip : "0.0.0.0",
        netmask: connected ? DEVICE_IP.netmask : "0.0.0.0",
        gw: connected ? DEVICE_IP.gw : "0.0.0.0",
        mac: DEVICE_MAC,
      });
      if (typeof callback === "function") {
        session.setHostTimer(() => session.invoke(callback, [null, info], "Wifi.getIP callback"), 0);
      }
      return info;
    },

    getDetails(callback) {
      const details = realm.newObject({ status: state.status, ssid: state.ssid, password: state.password });
      if (typeof callback === "function") {
        session.setHostTimer(() => session.invoke(callback, [details], "Wifi.getDetails callback"), 0);
      }
      return details;
    },

    getStatus() {
      return realm.newObject({ station: state.status, mode: "sta", ssid: state.ssid, hostname: state.hostname });
    },

    setHostname(hostname, callback) {
      state.hostname = String(hostname);
      if (typeof callback === "function") {
        session.setHostTimer(() => session.invoke(callback, [], "Wifi.setHostname callback"), 0);
      }
    },

    getHostname(callback) {
      if (typeof callback === "function") {
        session.setHostTimer(() => session.invoke(callback, [state.hostname], "Wifi.getHostname callback"), 0);
      }
      return state.hostname;
    },

    save(what) {
      const file = path.join(session.device.storageDir, encodeFileName(".wificfg"));
      if (what === "clear") {
        fs.rmSync(file, { force: true });
        return;
      }
      const config = { ssid: state.ssid, password: state.password, mode: "sta", hostname: state.hostname };
      fs.writeFileSync(file, Buffer.from(toEspruinoJson(config), "latin1"));
    },

    getHostByName(hostname, callback) {
      const entry = session.device.hosts[String(hostname)];
      const address = state.status === "connected" && entry !== undefined ? entry.address : null;
      session.setHostTimer(() => session.invoke(callback, [address], "Wifi.getHostByName callback"), 0);
    },
  });

  return {
    module: wifiModule,
    controller: {
      isConnected: () => state.status === "connected",

      scriptChanged() {
        if (!script().available && state.status === "connected") {
          dropLink(WIFI_REASONS.BEACON_TIMEOUT);
        }
      },

      // ESP32 restores a saved `.wificfg` after the boot code has run: one attempt, no callback.
      restoreAtBoot() {
        const file = path.join(session.device.storageDir, encodeFileName(".wificfg"));
        if (!fs.existsSync(file)) {
          return;
        }
        const saved = session.storageModule.readJSON(".wificfg", true);
        if (saved && saved.ssid !== undefined) {
          connect(saved.ssid, { password: saved.password }, undefined, 1);
        }
      },
    },
  };
}
