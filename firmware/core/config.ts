// Validation of the device configuration file, with defaults applied.
//
// The board runs this at every boot and the host CLI runs it before flashing. Every problem names the field and
// says what to do, and validation collects all problems instead of stopping at the first, so a user fixes the file
// in one pass. Keys are checked for shape only; they never appear in a message.

import * as C from "./constants";
import { findHostNameProblem, findIdScopeProblem, findRegistrationIdProblem, isHostTrusted } from "./identifiers";
import { findBase64Problem, decodeBase64 } from "./base64";
import { DERIVED_KEY_BYTES, MAX_KEY_BYTES, MIN_KEY_BYTES } from "./sas";
import { DEFAULT_C2D_POLL_INTERVAL_SECONDS, DEFAULT_MIN_REPROVISION_INTERVAL_SECONDS } from "./hub-policy";
import { DEFAULT_MAX_QUEUE_BYTES } from "./telemetry-queue";

/** The validated configuration, with every default filled in. */
export interface DeviceConfig {
  wifi: { ssid: string; password: string };
  dps: {
    idScope: string;
    registrationId: string;
    /** "individual" or "group": which kind of enrollment the device belongs to. */
    enrollment: string;
    /** The device key in Base64; for a group enrollment, the key derived from the group key. */
    deviceKey: string | undefined;
    /** The group key, only when `allowGroupKeyOnDevice` is true; the device then derives its key at boot. */
    groupKey: string | undefined;
    host: string;
    /** Port override for a local emulator; `undefined` means the HTTPS default, 443. */
    port: number | undefined;
    apiVersion: string;
    /** Custom data sent with the registration, e.g. `{ "modelId": "dtmi:..." }`. */
    payload: any;
    tokenTtlSeconds: number;
    maxProvisioningSeconds: number;
  };
  hub: {
    apiVersion: string;
    tokenTtlSeconds: number;
    /** Port override for a local emulator; `undefined` means 443. */
    port: number | undefined;
    /** Time between two cloud-to-device polls, in seconds; IoT Hub documentation sets 25 minutes or more over HTTPS. */
    c2dPollIntervalSeconds: number;
    /** Shortest time between two DPS registrations caused by hub rejections (401, 403, 404), in seconds. */
    minReprovisionIntervalSeconds: number;
  };
  telemetry: {
    /** Whether the device takes the demo reading (sequence number, uptime, free memory) every `intervalSeconds`. */
    demoReadings: boolean;
    /** Time between two demo readings, in seconds. */
    intervalSeconds: number;
    /** Bound of the queue of unsent readings, in bytes; the oldest readings are dropped beyond it. */
    maxQueueBytes: number;
    /** Maximum time a changed queue waits in RAM before it is written to flash, in seconds. */
    flushDelaySeconds: number;
  };
  trust: {
    /** Host name suffixes (leading ".") or exact names that the assigned hub must match. */
    hubSuffixes: string[];
    /** The same for the DPS host. */
    dpsSuffixes: string[];
  };
  device: {
    /** Whether to keep Espruino's Telnet console, which has no password, on port 23. */
    telnet: boolean;
    logLevel: string;
    /** Time allowed for one HTTPS request, from connect to the last body byte, in seconds. */
    requestTimeoutSeconds: number;
  };
}

/** One configuration problem: the dotted field name and what is wrong with it. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** Result of `validateDeviceConfig`. */
export interface ConfigValidation {
  /** The configuration with defaults, or `undefined` when there are problems. */
  config: DeviceConfig | undefined;
  problems: ConfigProblem[];
  /** Things that work but that the user should change, e.g. a group key stored on the device. */
  warnings: string[];
}

/** Fields each section may contain; anything else is reported as a warning, since it is most likely a typo. */
const KNOWN_FIELDS: { [section: string]: string[] } = {
  "": ["wifi", "dps", "hub", "telemetry", "trust", "device"],
  "wifi": ["ssid", "password"],
  "dps": ["idScope", "registrationId", "enrollment", "deviceKey", "groupKey", "allowGroupKeyOnDevice", "host", "port",
    "apiVersion", "payload", "modelId", "tokenTtlSeconds", "maxProvisioningSeconds"],
  "hub": ["apiVersion", "tokenTtlSeconds", "port", "c2dPollIntervalSeconds", "minReprovisionIntervalSeconds"],
  "telemetry": ["demoReadings", "intervalSeconds", "maxQueueBytes", "flushDelaySeconds"],
  "trust": ["hubSuffixes", "dpsSuffixes"],
  "device": ["telnet", "logLevel", "requestTimeoutSeconds"],
};

function warnUnknownFields(root: any, warnings: string[]): void {
  const sections = Object.keys(KNOWN_FIELDS);
  for (let i = 0; i < sections.length; i++) {
    const name = sections[i];
    const section = name === "" ? root : root[name];
    if (!isObject(section)) continue;

    const fields = Object.keys(section);
    for (let j = 0; j < fields.length; j++) {
      if (KNOWN_FIELDS[name].indexOf(fields[j]) < 0) {
        warnings.push((name === "" ? "" : name + ".") + fields[j] + " is not a known field and is ignored; check " +
          "its spelling (names are case-sensitive)");
      }
    }
  }
}

/** Log levels accepted by `device.logLevel`, from least to most output. */
export const LOG_LEVELS = ["error", "warn", "info", "debug"];

function isObject(value: any): boolean {
  return value !== null && typeof value === "object" && !(value instanceof Array);
}

/** Collects problems while reading one configuration object. */
class Reader {
  problems: ConfigProblem[];

  constructor() {
    this.problems = [];
  }

  add(field: string, message: string): void {
    this.problems.push({ field: field, message: message });
  }

  section(root: any, name: string, required: boolean): any {
    const value = root[name];
    if (value === undefined && !required) return {};
    if (!isObject(value)) {
      this.add(name, required ? "is missing: add a \"" + name + "\" object" : "must be an object");
      return {};
    }
    return value;
  }

  text(section: any, sectionName: string, name: string, required: boolean, fallback: string | undefined):
    string | undefined {
    const value = section[name];
    if (value === undefined) {
      if (required) this.add(sectionName + "." + name, "is missing");
      return fallback;
    }
    if (typeof value !== "string") {
      this.add(sectionName + "." + name, "must be a string, not " + (value === null ? "null" : typeof value));
      return fallback;
    }
    return value;
  }

  integer(section: any, field: string, name: string, fallback: number | undefined, min: number, max: number, unit: string):
    number | undefined {
    const value = section[name];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || Math.floor(value) !== value || value < min || value > max) {
      this.add(field + "." + name, "must be a whole number of " + unit + " from " + min + " to " + max + ", not " +
        JSON.stringify(value));
      return fallback;
    }
    return value;
  }

  hostList(section: any, field: string, name: string, fallback: string[]): string[] {
    const value = section[name];
    if (value === undefined) return fallback;
    if (!(value instanceof Array) || value.length === 0) {
      this.add(field + "." + name, "must be a non-empty list of host name suffixes such as \".azure-devices.net\"");
      return fallback;
    }
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== "string" || value[i].length < 2) {
        this.add(field + "." + name, "entry " + (i + 1) + " must be a host name or a suffix starting with \".\"");
        return fallback;
      }
    }
    return value;
  }
}

function checkKeyShape(reader: Reader, field: string, key: string, exactBytes: number | undefined): boolean {
  const problem = findBase64Problem(key);
  if (problem !== undefined) {
    reader.add(field, "is not valid Base64 because " + problem + ". Copy the key again from the enrollment");
    return false;
  }

  const length = decodeBase64(key).length;
  if (length < MIN_KEY_BYTES || length > MAX_KEY_BYTES) {
    reader.add(field, "decodes to " + length + " bytes, but DPS keys are " + MIN_KEY_BYTES + " to " + MAX_KEY_BYTES +
      " bytes. Copy the whole key from the enrollment");
    return false;
  }

  if (exactBytes !== undefined && length !== exactBytes) {
    reader.add(field, "decodes to " + length + " bytes, but a key derived for a group enrollment is always " +
      exactBytes + " bytes. This is almost always the group key pasted by mistake: derive the device key on a " +
      "computer with `npm run keys -- derive --registration-id <id> --group-key-file <file>` and put that here");
    return false;
  }
  return true;
}

function readDps(reader: Reader, root: any, trustDps: string[], warnings: string[]): DeviceConfig["dps"] {
  const dps = reader.section(root, "dps", true);

  const idScope = reader.text(dps, "dps", "idScope", true, "") as string;
  const idScopeProblem = typeof dps.idScope === "string" ? findIdScopeProblem(idScope) : undefined;
  if (idScopeProblem !== undefined) {
    reader.add("dps.idScope", "must contain only letters and digits, like 0ne000A1B2C, but " + idScopeProblem +
      "; copy it from the DPS overview page");
  }

  const registrationId = reader.text(dps, "dps", "registrationId", true, "") as string;
  if (dps.registrationId !== undefined && typeof dps.registrationId === "string") {
    const problem = findRegistrationIdProblem(registrationId);
    if (problem !== undefined) reader.add("dps.registrationId", "breaks the DPS rules: " + problem);
  }

  const enrollment = reader.text(dps, "dps", "enrollment", true, "") as string;
  if (typeof dps.enrollment === "string" && enrollment !== "individual" && enrollment !== "group") {
    reader.add("dps.enrollment", "must be \"individual\" or \"group\", not " + JSON.stringify(dps.enrollment));
  }

  const deviceKey = reader.text(dps, "dps", "deviceKey", false, undefined);
  let groupKey = reader.text(dps, "dps", "groupKey", false, undefined);
  const allowGroupKey = dps.allowGroupKeyOnDevice === true;

  if (groupKey !== undefined && !allowGroupKey) {
    reader.add("dps.groupKey", "must not be stored on a device: anyone with the REPL can read it and impersonate every " +
      "device of the group. Derive the device key with `npm run keys -- derive` and set dps.deviceKey instead " +
      "(or set dps.allowGroupKeyOnDevice to true if you accept that risk)");
    groupKey = undefined;
  }
  if (groupKey !== undefined && enrollment === "individual") {
    reader.add("dps.groupKey", "is only for dps.enrollment \"group\"; an individual enrollment uses dps.deviceKey");
  }
  if (deviceKey !== undefined && groupKey !== undefined) {
    reader.add("dps.deviceKey", "and dps.groupKey are both set; keep only one");
  }
  // A deviceKey of the wrong type already has its own problem, so "is missing" would mislead.
  if (dps.deviceKey === undefined && groupKey === undefined) {
    reader.add("dps.deviceKey", "is missing: set it to the enrollment's primary key (individual) or the key derived " +
      "from the group key (group)");
  }

  if (deviceKey !== undefined) checkKeyShape(reader, "dps.deviceKey", deviceKey, enrollment === "group" ? DERIVED_KEY_BYTES : undefined);
  if (groupKey !== undefined && checkKeyShape(reader, "dps.groupKey", groupKey, undefined)) {
    warnings.push("dps.groupKey is stored on this device: anyone with the REPL can read it. Store the derived device key instead");
  }

  const host = reader.text(dps, "dps", "host", false, C.DPS_GLOBAL_HOST) as string;
  const hostProblem = findHostNameProblem(host);
  if (hostProblem !== undefined) {
    reader.add("dps.host", "is not a valid host name: " + hostProblem);
  } else if (!isHostTrusted(host, trustDps)) {
    reader.add("dps.host", "\"" + host + "\" does not match trust.dpsSuffixes " + JSON.stringify(trustDps) +
      "; add it there if you really mean to provision through it");
  }

  const payload = dps.payload;
  if (payload !== undefined && !isObject(payload)) reader.add("dps.payload", "must be a JSON object");
  const modelId = reader.text(dps, "dps", "modelId", false, undefined);
  if (modelId !== undefined && modelId.indexOf("dtmi:") !== 0) {
    reader.add("dps.modelId", "must be a DTDL model ID starting with \"dtmi:\", e.g. dtmi:com:example:Thermostat;1");
  }

  let finalPayload: any = payload;
  if (modelId !== undefined) finalPayload = Object.assign({}, isObject(payload) ? payload : {}, { modelId: modelId });

  return {
    idScope: idScope,
    registrationId: registrationId,
    enrollment: enrollment,
    deviceKey: deviceKey,
    groupKey: groupKey,
    host: host,
    port: reader.integer(dps, "dps", "port", undefined, 1, 65535, "port"),
    apiVersion: reader.text(dps, "dps", "apiVersion", false, C.DEFAULT_DPS_API_VERSION) as string,
    payload: finalPayload,
    tokenTtlSeconds: reader.integer(dps, "dps", "tokenTtlSeconds", C.DEFAULT_DPS_TOKEN_TTL_SECONDS,
      C.MIN_TOKEN_TTL_SECONDS, C.MAX_DPS_TOKEN_TTL_SECONDS, "seconds") as number,
    maxProvisioningSeconds: reader.integer(dps, "dps", "maxProvisioningSeconds", C.DEFAULT_MAX_PROVISIONING_SECONDS,
      10, 86400, "seconds") as number,
  };
}

/**
 * Validates a parsed device configuration file and fills in defaults.
 *
 * @param value The parsed JSON of the configuration file.
 * @returns The configuration (when there are no problems), every problem with its field, and warnings.
 * @example
 *   const result = validateDeviceConfig(require("Storage").readJSON("dpscfg.json", true));
 *   if (result.problems.length > 0) result.problems.forEach((p) => print(p.field + " " + p.message));
 */
export function validateDeviceConfig(value: any): ConfigValidation {
  const reader = new Reader();
  const warnings: string[] = [];

  if (!isObject(value)) {
    reader.add("(file)", "must contain one JSON object with \"wifi\" and \"dps\" sections");
    return { config: undefined, problems: reader.problems, warnings: warnings };
  }

  warnUnknownFields(value, warnings);

  const trustSection = reader.section(value, "trust", false);
  const trust = {
    hubSuffixes: reader.hostList(trustSection, "trust", "hubSuffixes", C.DEFAULT_HUB_SUFFIXES),
    dpsSuffixes: reader.hostList(trustSection, "trust", "dpsSuffixes", C.DEFAULT_DPS_SUFFIXES),
  };

  const wifiSection = reader.section(value, "wifi", true);
  const ssid = reader.text(wifiSection, "wifi", "ssid", true, "") as string;
  if (typeof wifiSection.ssid === "string" && ssid.length === 0) reader.add("wifi.ssid", "is empty: set the WiFi network name");
  if (ssid.length > 32) reader.add("wifi.ssid", "has " + ssid.length + " characters; WiFi allows at most 32");
  const password = reader.text(wifiSection, "wifi", "password", false, "") as string;
  if (password.length > 64) reader.add("wifi.password", "has " + password.length + " characters; WiFi allows at most 64");

  const dps = readDps(reader, value, trust.dpsSuffixes, warnings);

  const hubSection = reader.section(value, "hub", false);
  const hub = {
    apiVersion: reader.text(hubSection, "hub", "apiVersion", false, C.DEFAULT_HUB_API_VERSION) as string,
    tokenTtlSeconds: reader.integer(hubSection, "hub", "tokenTtlSeconds", C.DEFAULT_HUB_TOKEN_TTL_SECONDS,
      C.MIN_TOKEN_TTL_SECONDS, C.MAX_HUB_TOKEN_TTL_SECONDS, "seconds") as number,
    port: reader.integer(hubSection, "hub", "port", undefined, 1, 65535, "port"),
    c2dPollIntervalSeconds: reader.integer(hubSection, "hub", "c2dPollIntervalSeconds",
      DEFAULT_C2D_POLL_INTERVAL_SECONDS, 1, 86400, "seconds") as number,
    minReprovisionIntervalSeconds: reader.integer(hubSection, "hub", "minReprovisionIntervalSeconds",
      DEFAULT_MIN_REPROVISION_INTERVAL_SECONDS, 0, 86400, "seconds") as number,
  };
  if (hub.c2dPollIntervalSeconds < DEFAULT_C2D_POLL_INTERVAL_SECONDS) {
    warnings.push("hub.c2dPollIntervalSeconds is " + hub.c2dPollIntervalSeconds + " s; IoT Hub throttles HTTPS " +
      "devices that poll more often than every " + DEFAULT_C2D_POLL_INTERVAL_SECONDS + " s");
  }

  const telemetrySection = reader.section(value, "telemetry", false);
  let demoReadings = true;
  if (telemetrySection.demoReadings !== undefined) {
    if (typeof telemetrySection.demoReadings !== "boolean") reader.add("telemetry.demoReadings", "must be true or false");
    else demoReadings = telemetrySection.demoReadings;
  }
  const telemetry = {
    demoReadings: demoReadings,
    intervalSeconds: reader.integer(telemetrySection, "telemetry", "intervalSeconds", 60, 1, 86400, "seconds") as number,
    maxQueueBytes: reader.integer(telemetrySection, "telemetry", "maxQueueBytes", DEFAULT_MAX_QUEUE_BYTES, 512, 65536,
      "bytes") as number,
    flushDelaySeconds: reader.integer(telemetrySection, "telemetry", "flushDelaySeconds", 10, 0, 3600,
      "seconds") as number,
  };

  const deviceSection = reader.section(value, "device", false);
  let telnet = false;
  if (deviceSection.telnet !== undefined) {
    if (typeof deviceSection.telnet !== "boolean") reader.add("device.telnet", "must be true or false");
    else telnet = deviceSection.telnet;
  }
  if (telnet) {
    warnings.push("device.telnet is true: Espruino's Telnet console on port 23 has no password, so anyone on the " +
      "network can read the configuration, keys included");
  }
  const logLevel = reader.text(deviceSection, "device", "logLevel", false, "info") as string;
  if (LOG_LEVELS.indexOf(logLevel) < 0) reader.add("device.logLevel", "must be one of " + LOG_LEVELS.join(", "));

  const requestTimeoutSeconds = reader.integer(deviceSection, "device", "requestTimeoutSeconds",
    C.DEFAULT_REQUEST_TIMEOUT_MS / 1000, 2, 120, "seconds") as number;

  if (reader.problems.length > 0) return { config: undefined, problems: reader.problems, warnings: warnings };

  return {
    config: {
      wifi: { ssid: ssid, password: password },
      dps: dps,
      hub: hub,
      telemetry: telemetry,
      trust: trust,
      device: { telnet: telnet, logLevel: logLevel, requestTimeoutSeconds: requestTimeoutSeconds },
    },
    problems: [],
    warnings: warnings,
  };
}
