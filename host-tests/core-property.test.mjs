import assert from "node:assert/strict";
import fc from "fast-check";
import { LOG_LEVELS, validateDeviceConfig } from "../firmware/core/config.ts";
import { parseDpsResponse } from "../firmware/core/dps.ts";
import {
  createDpsPolicyOptions, createDpsPolicyState, decideDpsStep, recordDpsRequest,
} from "../firmware/core/dps-policy.ts";
import { ErrorCode } from "../firmware/core/errors.ts";
import { findRegistrationIdProblem, isHostTrusted } from "../firmware/core/identifiers.ts";

// A few hundred runs per property keep the whole file well under a second or two.
const RUNS = { numRuns: 300 };

// Made-up keys: 32 bytes 0x00..0x1f, a 64-byte group key, and the key derived from it for "sensor-01".
const INDIVIDUAL_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const GROUP_KEY = "Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==";
const DERIVED_KEY = "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=";
const SECRETS = [
  INDIVIDUAL_KEY, GROUP_KEY, DERIVED_KEY, GROUP_KEY.replace("+", "-"), GROUP_KEY.replace("+", " "),
  GROUP_KEY.slice(0, 42), DERIVED_KEY.replace("r", "!"),
];

const OUTCOME_KINDS = ["assigning", "assigned", "failed", "disabled", "unauthorized", "throttled", "serverError",
  "rejected", "unknownStatus", "malformed"];
const STEP_ACTIONS = ["register", "poll", "done", "fail"];
const ERROR_CODES = Object.values(ErrorCode);

/** Creates an arbitrary for a field that is absent, one of the plausible values, or any JSON value. */
function field(...plausible) {
  return fc.option(fc.oneof(fc.constantFrom(...plausible), fc.jsonValue({ maxDepth: 2 })), { nil: undefined });
}

function section(model) {
  return fc.oneof(
    { weight: 8, arbitrary: fc.record(model, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

const configArbitrary = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 9,
    arbitrary: fc.record({
      wifi: section({ ssid: field("lab", "s".repeat(33)), password: field("", "p".repeat(65)) }),
      dps: section({
        idScope: field("0ne000A1B2C", "", "0ne-000"),
        registrationId: field("sensor-01", "sensor.", "", "x".repeat(129), "a b"),
        enrollment: field("individual", "group", "groups"),
        deviceKey: field(...SECRETS),
        groupKey: field(...SECRETS),
        allowGroupKeyOnDevice: field(true, false),
        host: field("global.azure-devices-provisioning.net", "localhost", "dps.example.com", "..x", ""),
        port: field(443, 0, 65536, 8443.5),
        apiVersion: field("2021-10-01"),
        payload: field({ site: "lab" }, [], null),
        modelId: field("dtmi:com:example:Thermostat;1", "thermostat"),
        tokenTtlSeconds: field(60, 900, 901, 59),
        maxProvisioningSeconds: field(10, 300, 9, 86401),
      }),
      hub: section({ tokenTtlSeconds: field(3600, 3601), port: field(443, -1), apiVersion: field("2021-04-12") }),
      trust: section({
        hubSuffixes: field([".azure-devices.net"], [], ["x"]),
        dpsSuffixes: field([".azure-devices-provisioning.net"], ["localhost"], [5]),
      }),
      device: section({ telnet: field(true, false), logLevel: field(...LOG_LEVELS, "trace") }),
    }, { requiredKeys: [] }),
  },
);

// Dotted paths that a mutation may set to a random JSON value or delete.
const CONFIG_PATHS = [
  "wifi", "wifi.ssid", "wifi.password", "dps", "dps.idScope", "dps.registrationId", "dps.enrollment", "dps.deviceKey",
  "dps.groupKey", "dps.allowGroupKeyOnDevice", "dps.host", "dps.port", "dps.apiVersion", "dps.payload", "dps.modelId",
  "dps.tokenTtlSeconds", "dps.maxProvisioningSeconds", "hub", "hub.tokenTtlSeconds", "hub.port", "trust",
  "trust.hubSuffixes", "trust.dpsSuffixes", "device", "device.telnet", "device.logLevel",
];

function createValidConfigs() {
  return [
    {
      wifi: { ssid: "lab", password: "pw" },
      dps: { idScope: "0ne000A1B2C", registrationId: "sensor-01", enrollment: "individual", deviceKey: INDIVIDUAL_KEY },
    },
    {
      wifi: { ssid: "lab" },
      dps: { idScope: "0ne000A1B2C", registrationId: "sensor-01", enrollment: "group", deviceKey: DERIVED_KEY,
        modelId: "dtmi:com:example:Thermostat;1", tokenTtlSeconds: 600 },
      hub: { tokenTtlSeconds: 1800 },
      device: { logLevel: "debug", telnet: true },
    },
    {
      wifi: { ssid: "lab", password: "pw" },
      dps: { idScope: "0ne000A1B2C", registrationId: "sensor-01", enrollment: "group", groupKey: GROUP_KEY,
        allowGroupKeyOnDevice: true, host: "localhost", port: 8443 },
      trust: { dpsSuffixes: ["localhost"], hubSuffixes: ["localhost"] },
    },
  ];
}

/** Sets (or deletes, for `undefined`) the value at a dotted path, creating no intermediate objects. */
function setPath(root, path, value) {
  const names = path.split(".");
  let target = root;
  for (const name of names.slice(0, -1)) {
    if (target === null || typeof target !== "object") return;
    target = target[name];
  }
  if (target === null || typeof target !== "object") return;
  if (value === undefined) delete target[names[names.length - 1]];
  else target[names[names.length - 1]] = value;
}

// A valid configuration with zero to three fields replaced by random JSON values or deleted, and maybe a key field
// set to one of the secrets.
// NOTE: secrets go into the key fields only. The validator echoes wrong values of other fields (such as
// dps.enrollment or dps.port), so a key pasted into one of those would appear in its message.
const mutatedConfigArbitrary = fc.tuple(
  fc.nat({ max: 2 }),
  fc.array(fc.tuple(fc.constantFrom(...CONFIG_PATHS), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })),
    { maxLength: 3 }),
  fc.option(fc.tuple(fc.constantFrom("dps.deviceKey", "dps.groupKey"), fc.constantFrom(...SECRETS)), { nil: undefined }),
).map(([index, mutations, keyMutation]) => {
  const config = createValidConfigs()[index];
  for (const [path, value] of mutations) setPath(config, path, value);
  if (keyMutation !== undefined) setPath(config, keyMutation[0], keyMutation[1]);
  return config;
});

const anyConfigArbitrary = fc.oneof(configArbitrary, mutatedConfigArbitrary);

describe("validateDeviceConfig properties", () => {
  it("returns a config or problems", () => {
    fc.assert(fc.property(anyConfigArbitrary, (value) => {
      const result = validateDeviceConfig(value);

      assert.ok(Array.isArray(result.problems));
      assert.ok(Array.isArray(result.warnings));
      assert.equal(result.config === undefined, result.problems.length > 0);
      for (const problem of result.problems) {
        assert.equal(typeof problem.field, "string");
        assert.ok(problem.field.length > 0);
        assert.equal(typeof problem.message, "string");
        assert.ok(problem.message.length > 0);
      }
    }), RUNS);
  });

  it("returns only valid configs", () => {
    fc.assert(fc.property(anyConfigArbitrary, (value) => {
      const config = validateDeviceConfig(value).config;
      if (config === undefined) return;

      assert.equal(findRegistrationIdProblem(config.dps.registrationId), undefined);
      assert.ok(isHostTrusted(config.dps.host, config.trust.dpsSuffixes), config.dps.host);
      assert.ok(config.dps.tokenTtlSeconds >= 60, String(config.dps.tokenTtlSeconds));
      assert.ok(config.dps.tokenTtlSeconds <= 900, String(config.dps.tokenTtlSeconds));
      assert.ok(config.hub.tokenTtlSeconds >= 60, String(config.hub.tokenTtlSeconds));
      assert.ok(config.hub.tokenTtlSeconds <= 3600, String(config.hub.tokenTtlSeconds));
      assert.ok(config.dps.enrollment === "individual" || config.dps.enrollment === "group");
      assert.ok((config.dps.deviceKey === undefined) !== (config.dps.groupKey === undefined));
      assert.ok(LOG_LEVELS.includes(config.device.logLevel));
    }), RUNS);
  });

  it("never puts a key in messages", () => {
    fc.assert(fc.property(anyConfigArbitrary, (value) => {
      const result = validateDeviceConfig(value);
      const text = JSON.stringify({ problems: result.problems, warnings: result.warnings });

      for (const secret of SECRETS) assert.ok(!text.includes(secret.slice(0, 12)), text);
    }), RUNS);
  });
});

const HEADER_NAMES = ["retry-after", "Retry-After", "RETRY-AFTER", "date", "Date", "x-ms-error-code", "content-type"];

const headerValueArbitrary = fc.oneof(
  fc.string(),
  fc.integer({ min: -1000, max: 100000 }).map(String),
  fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
    .map((date) => date.toUTCString()),
);

const registrationStateArbitrary = fc.record({
  registrationId: fc.option(fc.string(), { nil: undefined }),
  assignedHub: fc.option(fc.oneof(fc.constant("example-hub.azure-devices.net"), fc.jsonValue({ maxDepth: 1 })),
    { nil: undefined }),
  deviceId: fc.option(fc.oneof(fc.constant("sensor-01"), fc.jsonValue({ maxDepth: 1 })), { nil: undefined }),
  status: fc.option(fc.string(), { nil: undefined }),
  errorCode: fc.option(fc.oneof(fc.integer(), fc.string(), fc.double()), { nil: undefined }),
  errorMessage: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
}, { requiredKeys: [] });

const bodyArbitrary = fc.oneof(
  fc.record({
    operationId: fc.option(fc.oneof(fc.constant("5.abc.def"), fc.jsonValue({ maxDepth: 1 })), { nil: undefined }),
    status: fc.option(fc.oneof(
      fc.constantFrom("assigning", "assigned", "failed", "disabled", "unassigned", "blacklisted", ""),
      fc.jsonValue({ maxDepth: 1 })), { nil: undefined }),
    registrationState: fc.option(fc.oneof(registrationStateArbitrary, fc.jsonValue({ maxDepth: 1 })), { nil: undefined }),
    errorCode: fc.option(fc.oneof(fc.integer(), fc.string()), { nil: undefined }),
    trackingId: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
    message: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
  }, { requiredKeys: [] }).map((body) => JSON.stringify(body)),
  fc.json(),
  fc.string(),
  fc.constantFrom("", "<html><body>Bad Gateway</body></html>", "[]", "null", "{"),
);

const responseArbitrary = fc.record({
  status: fc.oneof(fc.constantFrom(200, 202, 400, 401, 404, 429, 500, 503), fc.integer({ min: 100, max: 599 })),
  headers: fc.dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.string()), headerValueArbitrary,
    { maxKeys: 5 }),
  body: bodyArbitrary,
});

describe("parseDpsResponse properties", () => {
  it("returns a known kind", () => {
    fc.assert(fc.property(responseArbitrary, fc.integer({ min: 0, max: 4102444800000 }), (response, nowEpochMs) => {
      const outcome = parseDpsResponse(response, nowEpochMs);

      assert.ok(OUTCOME_KINDS.includes(outcome.kind), outcome.kind);
      assert.equal(outcome.httpStatus, response.status);
      if (outcome.retryAfterSeconds !== undefined) {
        assert.ok(Number.isInteger(outcome.retryAfterSeconds), String(outcome.retryAfterSeconds));
        assert.ok(outcome.retryAfterSeconds >= 0, String(outcome.retryAfterSeconds));
        assert.ok(outcome.retryAfterSeconds <= 300, String(outcome.retryAfterSeconds));
      }
      if (outcome.errorCode !== undefined) assert.ok(Number.isFinite(outcome.errorCode));
    }), RUNS);
  });

  it("assigns only with hub and device", () => {
    fc.assert(fc.property(responseArbitrary, (response) => {
      const outcome = parseDpsResponse(response, 0);

      if (outcome.kind === "assigned") {
        assert.ok(response.status === 200 || response.status === 202);
        assert.equal(typeof outcome.assignedHub, "string");
        assert.ok(outcome.assignedHub.length > 0);
        assert.equal(typeof outcome.deviceId, "string");
        assert.ok(outcome.deviceId.length > 0);
      }
      if (outcome.kind === "assigning") {
        assert.equal(typeof outcome.operationId, "string");
        assert.ok(outcome.operationId.length > 0);
      }
    }), RUNS);
  });
});

// Responses that keep a run going: assigning, throttled and server errors, with Retry-After absent, small or random.
const continuingResponseArbitrary = fc.record({
  status: fc.constantFrom(202, 202, 202, 429, 500, 503),
  headers: fc.option(fc.record({ "retry-after": fc.oneof({ weight: 6, arbitrary: fc.constantFrom("0", "0", "1", "2", "5") },
    { weight: 1, arbitrary: headerValueArbitrary }) }), { nil: {} }),
  body: fc.constant(JSON.stringify({ operationId: "5.abc.def", status: "assigning" })),
});

// One step of a random run: the response (or a network failure), its latency and the jitter draw.
const runStepArbitrary = fc.record({
  response: fc.option(fc.oneof({ weight: 1, arbitrary: responseArbitrary },
    { weight: 12, arbitrary: continuingResponseArbitrary }), { nil: undefined, freq: 6 }),
  latencyMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
  random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

describe("decideDpsStep properties", () => {
  it("returns a known step", () => {
    const inputs = fc.tuple(fc.array(runStepArbitrary, { minLength: 1, maxLength: 40 }),
      fc.oneof(fc.constant(300), fc.integer({ min: 10, max: 600 })), fc.integer({ min: 0, max: 1e12 }));

    fc.assert(fc.property(inputs, ([run, maxProvisioningSeconds, startMs]) => {
      const options = createDpsPolicyOptions(maxProvisioningSeconds);
      const state = createDpsPolicyState(startMs, []);
      const requestTimesMs = [];
      let nowMs = startMs;

      for (const entry of run) {
        requestTimesMs.push(nowMs);
        recordDpsRequest(state, nowMs, options);
        nowMs += entry.latencyMs;

        const outcome = entry.response === undefined ? undefined : parseDpsResponse(entry.response, 0);
        const step = decideDpsStep(state, outcome, nowMs, entry.random, options, "sensor-01");

        assert.ok(STEP_ACTIONS.includes(step.action), step.action);
        assert.ok(Number.isFinite(step.delayMs), String(step.delayMs));
        assert.ok(step.delayMs >= 0, String(step.delayMs));
        if (step.action === "fail") {
          assert.ok(ERROR_CODES.includes(step.error.code), step.error.code);
          assert.ok(step.error.message.length > 0);
          break;
        }
        if (step.action === "done") {
          assert.equal(outcome.kind, "assigned");
          break;
        }
        assert.ok(nowMs + step.delayMs - startMs <= maxProvisioningSeconds * 1000);
        nowMs += step.delayMs;
      }

      for (const windowStartMs of requestTimesMs) {
        const count = requestTimesMs.filter((timeMs) => timeMs >= windowStartMs && timeMs < windowStartMs + 10000);
        assert.ok(count.length <= 5, `requests at ${JSON.stringify(requestTimesMs)}`);
      }
    }), RUNS);
  });
});
