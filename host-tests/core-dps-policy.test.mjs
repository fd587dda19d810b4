import assert from "node:assert/strict";
import { parseDpsResponse } from "../firmware/core/dps.ts";
import {
  computeBackoffMs, createDpsPolicyOptions, createDpsPolicyState, decideDpsStep, recordDpsRequest,
} from "../firmware/core/dps-policy.ts";

const REGISTRATION_ID = "sensor-01";
const OPERATION_ID = "5.abc.def";
const OPTIONS = createDpsPolicyOptions(300);

// Outcomes as the parser returns them, so the policy sees exactly what the board sees.
/** Parses a DPS response given as status, body (text or a value to serialize) and lower-case headers. */
function parseOutcome(status, body, headers = {}) {
  return parseDpsResponse({ status, headers, body: typeof body === "string" ? body : JSON.stringify(body) }, 0);
}

function assigning(retryAfter) {
  return parseOutcome(202, { operationId: OPERATION_ID, status: "assigning" },
    retryAfter === undefined ? {} : { "retry-after": retryAfter });
}

const ASSIGNED = parseOutcome(200, { operationId: OPERATION_ID, status: "assigned",
  registrationState: { assignedHub: "example-hub.azure-devices.net", deviceId: REGISTRATION_ID, status: "assigned" } });
const FAILED = parseOutcome(200, { operationId: OPERATION_ID, status: "failed",
  registrationState: { status: "failed", errorCode: 400208, errorMessage: "No hub could be assigned" } });
const DISABLED = parseOutcome(200, { operationId: OPERATION_ID, status: "disabled",
  registrationState: { registrationId: REGISTRATION_ID, status: "disabled" } });
const UNKNOWN = parseOutcome(200, { operationId: OPERATION_ID, status: "blacklisted" });
const MALFORMED = parseOutcome(200, "<html></html>");
const UNAUTHORIZED = parseOutcome(401, { errorCode: 401002, trackingId: "track-401", message: "Unauthorized" });
const NOT_FOUND = parseOutcome(404, { errorCode: 404201, trackingId: "track-404", message: "Not found" });
const BAD_REQUEST = parseOutcome(400, { errorCode: 400004, trackingId: "track-400", message: "Bad request" });
const THROTTLED_NO_WAIT = parseOutcome(429, { errorCode: 429001, trackingId: "track-429" });
const SERVER_ERROR = parseOutcome(500, "");
const UNAVAILABLE = parseOutcome(503, "");

/** Records a request at `requestMs` and decides the next step for the response received at `responseMs`. */
function decideAfterRequest(state, outcome, requestMs, responseMs, random = 0.5, options = OPTIONS) {
  recordDpsRequest(state, requestMs, options);
  return decideDpsStep(state, outcome, responseMs, random, options, REGISTRATION_ID);
}

/**
 * Runs an attempt on a fake clock: each request takes `latencyMs`, then gets the next outcome from `nextOutcome`.
 *
 * @returns {{ requestTimesMs: number[], steps: object[] }} Start time of every request and every step decided.
 */
function simulateRun(nextOutcome, latencyMs, maxRequests, options = OPTIONS, random = () => 0.5) {
  const state = createDpsPolicyState(0, []);
  const requestTimesMs = [];
  const steps = [];
  let nowMs = 0;

  while (requestTimesMs.length < maxRequests) {
    requestTimesMs.push(nowMs);
    recordDpsRequest(state, nowMs, options);
    nowMs += latencyMs;

    const step = decideDpsStep(state, nextOutcome(requestTimesMs.length), nowMs, random(), options, REGISTRATION_ID);
    steps.push(step);
    if (step.action !== "register" && step.action !== "poll") break;
    nowMs += step.delayMs;
  }
  return { requestTimesMs, steps };
}

/** Returns the largest number of request starts in any window [t, t + windowMs). */
function countMaxRequestsInWindow(requestTimesMs, windowMs) {
  let max = 0;
  for (const startMs of requestTimesMs) {
    const count = requestTimesMs.filter((timeMs) => timeMs >= startMs && timeMs < startMs + windowMs).length;
    if (count > max) max = count;
  }
  return max;
}

describe("decideDpsStep Retry-After", () => {
  it("honours Retry-After on the first PUT", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, parseOutcome(429, "", { "retry-after": "5" }), 0, 200);

    assert.equal(step.action, "register");
    assert.equal(step.delayMs, 5000);
  });

  it("polls after 202 with Retry-After", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, assigning("3"), 0, 150);

    assert.equal(step.action, "poll");
    assert.equal(step.delayMs, 3000);
    assert.equal(state.operationId, OPERATION_ID);
  });

  it("honours Retry-After on polls", () => {
    const state = createDpsPolicyState(0, []);
    decideAfterRequest(state, assigning("3"), 0, 100);
    const step = decideAfterRequest(state, assigning("1"), 3100, 3200);

    assert.equal(step.action, "poll");
    assert.equal(step.delayMs, 1000);
  });

  it("honours Retry-After on throttled polls", () => {
    const state = createDpsPolicyState(0, []);
    decideAfterRequest(state, assigning("3"), 0, 100);
    const step = decideAfterRequest(state, parseOutcome(429, "", { "retry-after": "7" }), 3100, 3200);

    assert.equal(step.action, "poll");
    assert.equal(step.delayMs, 7000);
  });

  it("waits 2 s without Retry-After", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, assigning(undefined), 0, 100);

    assert.equal(step.delayMs, 2000);
  });

  it("follows the F7 throttled PUT", () => {
    const run = simulateRun((n) => (n === 1 ? parseOutcome(429, "", { "retry-after": "5" }) : ASSIGNED), 100, 10);

    assert.deepEqual(run.requestTimesMs, [0, 5100]);
    assert.equal(run.steps[1].action, "done");
  });
});

describe("decideDpsStep rate window", () => {
  // name, latency per request in ms, outcome of the n-th request
  const cases = [
    ["Retry-After 0, instant responses", 0, () => assigning("0")],
    ["Retry-After 0, 50 ms responses", 50, () => assigning("0")],
    ["Retry-After 1, 0 ms responses", 0, () => assigning("1")],
    ["default interval, 10 ms responses", 10, () => assigning(undefined)],
    ["throttled with Retry-After 0", 0, () => parseOutcome(429, "", { "retry-after": "0" })],
    ["network failures", 0, () => undefined],
    ["alternating outcomes", 3, (n) => (n % 2 === 0 ? assigning("0") : parseOutcome(503, "", { "retry-after": "0" }))],
  ];

  for (const [name, latencyMs, nextOutcome] of cases) {
    it(`keeps 5 per 10 s: ${name}`, () => {
      const run = simulateRun(nextOutcome, latencyMs, 40);

      assert.ok(run.requestTimesMs.length >= 6, `only ${run.requestTimesMs.length} requests ran`);
      assert.ok(countMaxRequestsInWindow(run.requestTimesMs, 10000) <= 5,
        `request times ${JSON.stringify(run.requestTimesMs)}`);
    });
  }

  it("delays the sixth request past 10 s", () => {
    const run = simulateRun(() => assigning("0"), 0, 6);

    assert.deepEqual(run.requestTimesMs.slice(0, 5), [0, 0, 0, 0, 0]);
    assert.ok(run.requestTimesMs[5] > 10000, `sixth request at ${run.requestTimesMs[5]} ms`);
  });
});

describe("computeBackoffMs", () => {
  it("doubles the ceiling per failure", () => {
    // failures, delay with random 0 (half the ceiling), delay with random close to 1 (the ceiling)
    const cases = [[1, 500, 1000], [2, 1000, 2000], [3, 2000, 4000], [4, 4000, 8000], [6, 16000, 32000]];

    for (const [failures, lowMs, highMs] of cases) {
      assert.equal(computeBackoffMs(failures, 0, OPTIONS), lowMs, `failures ${failures}, random 0`);
      assert.equal(computeBackoffMs(failures, 0.9999999, OPTIONS), highMs, `failures ${failures}, random 0.9999999`);
    }
  });

  it("keeps jitter within bounds", () => {
    for (let failures = 1; failures <= 12; failures++) {
      const ceilingMs = Math.min(1000 * 2 ** (failures - 1), 60000);
      for (const random of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]) {
        const delayMs = computeBackoffMs(failures, random, OPTIONS);
        assert.ok(delayMs >= ceilingMs / 2 && delayMs <= ceilingMs,
          `failures ${failures}, random ${random}: ${delayMs} ms outside [${ceilingMs / 2}, ${ceilingMs}]`);
      }
    }
  });

  it("spreads delays with jitter", () => {
    assert.notEqual(computeBackoffMs(3, 0.1, OPTIONS), computeBackoffMs(3, 0.9, OPTIONS));
  });

  it("caps the delay", () => {
    assert.equal(computeBackoffMs(7, 0.9999999, OPTIONS), 60000);
    assert.equal(computeBackoffMs(50, 0.9999999, OPTIONS), 60000);
    assert.equal(computeBackoffMs(1e9, 0, OPTIONS), 30000);
  });
});

describe("decideDpsStep retries", () => {
  // name, outcome
  const retried = [
    ["429 without Retry-After", THROTTLED_NO_WAIT],
    ["500", SERVER_ERROR],
    ["503", UNAVAILABLE],
    ["network failure", undefined],
  ];

  for (const [name, outcome] of retried) {
    it(`retries the PUT after ${name}`, () => {
      const state = createDpsPolicyState(0, []);
      const step = decideAfterRequest(state, outcome, 0, 100, 0);

      assert.equal(step.action, "register");
      assert.equal(step.delayMs, 500);
      assert.equal(state.consecutiveFailures, 1);
    });
  }

  it("retries a poll as a poll", () => {
    const state = createDpsPolicyState(0, []);
    decideAfterRequest(state, assigning("1"), 0, 100);
    const step = decideAfterRequest(state, SERVER_ERROR, 1100, 1200);

    assert.equal(step.action, "poll");
  });

  it("backs off on repeated failures", () => {
    const run = simulateRun(() => UNAVAILABLE, 0, 8, OPTIONS, () => 0.9999999);
    const delaysMs = run.steps.map((step) => step.delayMs);

    assert.deepEqual(delaysMs.slice(0, 7), [1000, 2000, 4000, 8000, 16000, 32000, 60000]);
  });

  it("backs off on throttled Retry-After 0", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, parseOutcome(429, "", { "retry-after": "0" }), 0, 100, 0);

    assert.equal(step.delayMs, 500);
  });

  it("resets backoff after assigning", () => {
    const state = createDpsPolicyState(0, []);
    decideAfterRequest(state, SERVER_ERROR, 0, 100, 0);
    decideAfterRequest(state, SERVER_ERROR, 600, 700, 0);
    decideAfterRequest(state, assigning("1"), 1700, 1800, 0);
    const step = decideAfterRequest(state, SERVER_ERROR, 2800, 2900, 0);

    assert.equal(state.consecutiveFailures, 1);
    assert.equal(step.delayMs, 500);
  });
});

describe("decideDpsStep stops", () => {
  it("finishes on assigned", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, ASSIGNED, 0, 100);

    assert.equal(step.action, "done");
    assert.equal(step.error, undefined);
  });

  // name, outcome, expected error code, expected HTTP status, expected service error code, expected tracking ID
  const stops = [
    ["failed", FAILED, "DPS_FAILED", 200, 400208, undefined],
    ["disabled", DISABLED, "DPS_DISABLED", 200, undefined, undefined],
    ["unknown status", UNKNOWN, "DPS_MALFORMED", 200, undefined, undefined],
    ["malformed response", MALFORMED, "DPS_MALFORMED", 200, undefined, undefined],
    ["401", UNAUTHORIZED, "DPS_UNAUTHORIZED", 401, 401002, "track-401"],
    ["404", NOT_FOUND, "DPS_REJECTED", 404, 404201, "track-404"],
    ["400", BAD_REQUEST, "DPS_REJECTED", 400, 400004, "track-400"],
  ];

  for (const [name, outcome, code, httpStatus, serviceErrorCode, trackingId] of stops) {
    it(`stops on ${name}`, () => {
      const state = createDpsPolicyState(0, []);
      const step = decideAfterRequest(state, outcome, 0, 100);

      assert.equal(step.action, "fail");
      assert.equal(step.error.code, code);
      assert.equal(step.error.httpStatus, httpStatus);
      assert.equal(step.error.serviceErrorCode, serviceErrorCode);
      assert.equal(step.error.trackingId, trackingId);
      assert.equal(step.error.retryable, false);
      assert.match(step.error.message, /registration "sensor-01"/);
    });
  }

  it("names the cause in messages", () => {
    const state = createDpsPolicyState(0, []);

    assert.match(decideDpsStep(state, FAILED, 0, 0, OPTIONS, REGISTRATION_ID).error.message, /No hub could be assigned/);
    assert.match(decideDpsStep(state, UNKNOWN, 0, 0, OPTIONS, REGISTRATION_ID).error.message, /"blacklisted"/);
    assert.match(decideDpsStep(state, NOT_FOUND, 0, 0, OPTIONS, REGISTRATION_ID).error.message, /Check dps.idScope/);
    assert.match(decideDpsStep(state, UNAUTHORIZED, 0, 0, OPTIONS, REGISTRATION_ID).error.message, /dps.deviceKey/);
  });

  it("ends the F8 polling loop", () => {
    const run = simulateRun((n) => (n === 1 ? assigning("3") : DISABLED), 100, 10);

    assert.deepEqual(run.requestTimesMs, [0, 3100]);
    assert.equal(run.steps[1].error.code, "DPS_DISABLED");
  });
});

describe("decideDpsStep deadline", () => {
  const shortOptions = createDpsPolicyOptions(10);

  it("gives up past the total cap", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, assigning("3"), 7000, 7001, 0.5, shortOptions);

    assert.equal(step.action, "fail");
    assert.equal(step.error.code, "DPS_DEADLINE_EXCEEDED");
    assert.equal(step.error.retryable, true);
    assert.equal(step.error.httpStatus, 202);
    assert.match(step.error.message, /dps.maxProvisioningSeconds \(10 s\)/);
    assert.match(step.error.message, /"assigning"/);
  });

  it("allows a request at the cap", () => {
    const state = createDpsPolicyState(0, []);
    const step = decideAfterRequest(state, assigning("3"), 6900, 7000, 0.5, shortOptions);

    assert.equal(step.action, "poll");
    assert.equal(step.delayMs, 3000);
  });

  it("carries the last response details", () => {
    const state = createDpsPolicyState(0, []);
    const throttled = parseOutcome(429, { errorCode: 429001, trackingId: "track-late" }, { "retry-after": "20" });
    const step = decideAfterRequest(state, throttled, 0, 100, 0.5, shortOptions);

    assert.equal(step.error.code, "DPS_DEADLINE_EXCEEDED");
    assert.equal(step.error.httpStatus, 429);
    assert.equal(step.error.serviceErrorCode, 429001);
    assert.equal(step.error.trackingId, "track-late");
    assert.equal(step.error.retryAfterSeconds, 20);
  });

  it("gives up after network failures", () => {
    const run = simulateRun(() => undefined, 0, 100, shortOptions);
    const last = run.steps[run.steps.length - 1];

    assert.equal(last.action, "fail");
    assert.equal(last.error.code, "DPS_DEADLINE_EXCEEDED");
    assert.equal(last.error.httpStatus, undefined);
    assert.match(last.error.message, /no response \(network failure\)/);
    assert.ok(run.requestTimesMs[run.requestTimesMs.length - 1] <= 10000);
  });

  it("counts the rate window", () => {
    const run = simulateRun(() => assigning("0"), 0, 100, shortOptions);
    const last = run.steps[run.steps.length - 1];

    assert.equal(run.requestTimesMs.length, 5);
    assert.equal(last.error.code, "DPS_DEADLINE_EXCEEDED");
  });
});

describe("createDpsPolicyState shared history", () => {
  it("keeps the window across attempts", () => {
    const history = [];
    const first = createDpsPolicyState(0, history);
    for (let i = 0; i < 5; i++) recordDpsRequest(first, i * 100, OPTIONS);

    const second = createDpsPolicyState(500, history);
    const step = decideDpsStep(second, assigning("0"), 500, 0.5, OPTIONS, REGISTRATION_ID);

    assert.equal(step.action, "poll");
    assert.ok(step.delayMs >= 10001 - 500, `the new attempt would start ${step.delayMs} ms later, inside the window`);
  });
});

