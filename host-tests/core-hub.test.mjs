// Unit tests of the IoT Hub request builders, the response parser and the hub policy (firmware/core/hub*.ts).

import assert from "node:assert/strict";
import {
  buildReceiveRequest,
  buildSettleRequest,
  buildTelemetryRequest,
  findPropertyTextProblem,
  MESSAGE_INVALID,
  unquoteEtag,
} from "../firmware/core/hub.ts";
import { describeHubOutcome, parseHubResponse } from "../firmware/core/hub-response.ts";
import {
  computeRenewalMarginSeconds,
  decideHubStep,
  shouldRenewHubToken,
} from "../firmware/core/hub-policy.ts";

const OPTIONS = { hubHostName: "example-hub.azure-devices.net", deviceId: "sensor-01", apiVersion: "2021-04-12" };
const TOKEN = "SharedAccessSignature sr=example-hub.azure-devices.net%2Fdevices%2Fsensor-01&sig=x&se=1767225600";
const NOW_MS = Date.parse("2026-01-01T00:00:00Z");

function message(overrides = {}) {
  return {
    body: "{\"t\":21.5}",
    messageId: "5f3a.2.17",
    contentType: "application/json",
    contentEncoding: "utf-8",
    properties: { source: "demo" },
    ...overrides,
  };
}

function response(status, headers = {}, body = "") {
  return { status, headers, body };
}

describe("hub telemetry request", () => {
  it("builds the documented path and headers", () => {
    const spec = buildTelemetryRequest(OPTIONS, message(), TOKEN);

    assert.equal(spec.method, "POST");
    assert.equal(spec.path, "/devices/sensor-01/messages/events?api-version=2021-04-12");
    assert.equal(spec.headers.Authorization, TOKEN);
    assert.equal(spec.headers["iothub-to"], "/devices/sensor-01/messages/events");
    assert.equal(spec.headers["iothub-messageid"], "5f3a.2.17");
    assert.equal(spec.headers["iothub-contenttype"], "application/json");
    assert.equal(spec.headers["iothub-contentencoding"], "utf-8");
    assert.equal(spec.headers["iothub-app-source"], "demo");
    assert.equal(spec.body, "{\"t\":21.5}");
  });

  it("uses the configured api-version", () => {
    const spec = buildTelemetryRequest({ ...OPTIONS, apiVersion: "2020-03-13" }, message(), TOKEN);
    assert.equal(spec.path, "/devices/sensor-01/messages/events?api-version=2020-03-13");
  });

  it("percent-encodes the device ID", () => {
    const spec = buildTelemetryRequest({ ...OPTIONS, deviceId: "Dev:01" }, message(), TOKEN);
    assert.equal(spec.path, "/devices/Dev%3A01/messages/events?api-version=2021-04-12");
  });

  it("leaves out absent system properties", () => {
    const spec = buildTelemetryRequest(OPTIONS, message({ contentType: undefined, contentEncoding: undefined,
      properties: undefined }), TOKEN);
    assert.equal(spec.headers["iothub-contenttype"], undefined);
    assert.equal(spec.headers["iothub-contentencoding"], undefined);
    assert.deepEqual(Object.keys(spec.headers).filter((name) => name.startsWith("iothub-app-")), []);
  });

  const invalidCases = [
    ["property name with a space", { properties: { "room temp": "21" } }, /property name "room temp" contains " "/],
    ["property value with a colon", { properties: { at: "12:00" } }, /value of property "at" contains ":"/],
    ["non-ASCII property value", { properties: { city: "K\u00f6ln" } }, /value of property "city" contains/],
    ["empty property value", { properties: { a: "" } }, /value of property "a" is empty/],
    ["number property value", { properties: { a: 5 } }, /value of property "a" is a number/],
    ["message ID with a slash", { messageId: "a/b" }, /message ID "a\/b" contains "\/"/],
  ];
  for (const [name, overrides, pattern] of invalidCases) {
    it(`rejects ${name}`, () => {
      assert.throws(() => buildTelemetryRequest(OPTIONS, message(overrides), TOKEN), (error) => {
        assert.equal(error.code, MESSAGE_INVALID);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }

  it("accepts every allowed punctuation mark", () => {
    assert.equal(findPropertyTextProblem("aZ09!#$%&'*+-.^_`|~"), undefined);
  });
});

describe("hub C2D requests", () => {
  it("builds the receive request", () => {
    const spec = buildReceiveRequest(OPTIONS, TOKEN);
    assert.equal(spec.method, "GET");
    assert.equal(spec.path, "/devices/sensor-01/messages/deviceBound?api-version=2021-04-12");
    assert.equal(spec.body, undefined);
  });

  it("completes with the unquoted ETag", () => {
    const spec = buildSettleRequest(OPTIONS, "\"lock-token-1\"", "complete", TOKEN);
    assert.equal(spec.method, "DELETE");
    assert.equal(spec.path, "/devices/sensor-01/messages/deviceBound/lock-token-1?api-version=2021-04-12");
    assert.equal(spec.headers["If-Match"], "lock-token-1");
  });

  it("rejects with the reject query", () => {
    const spec = buildSettleRequest(OPTIONS, "\"lock-token-1\"", "reject", TOKEN);
    assert.equal(spec.method, "DELETE");
    assert.equal(spec.path, "/devices/sensor-01/messages/deviceBound/lock-token-1?api-version=2021-04-12&reject");
  });

  it("abandons with a POST", () => {
    const spec = buildSettleRequest(OPTIONS, "lock-token-1", "abandon", TOKEN);
    assert.equal(spec.method, "POST");
    assert.equal(spec.path, "/devices/sensor-01/messages/deviceBound/lock-token-1/abandon?api-version=2021-04-12");
  });

  it("refuses an unknown settle action", () => {
    assert.throws(() => buildSettleRequest(OPTIONS, "x", "delete", TOKEN), /Invalid C2D settle action "delete"/);
  });

  it("unquotes weak and strong ETags", () => {
    assert.equal(unquoteEtag("\"abc\""), "abc");
    assert.equal(unquoteEtag("W/\"abc\""), "abc");
    assert.equal(unquoteEtag("abc"), "abc");
  });
});

describe("hub response parser", () => {
  it("reads 204 to a send as accepted", () => {
    assert.equal(parseHubResponse(response(204), "send", NOW_MS).kind, "accepted");
  });

  it("reads 204 to a receive as empty", () => {
    assert.equal(parseHubResponse(response(204), "receive", NOW_MS).kind, "empty");
  });

  it("reads a C2D message with its lock token", () => {
    const outcome = parseHubResponse(response(200, {
      "ETag": "\"9c1b2f1e\"",
      "iothub-messageid": "cmd-1",
      "iothub-correlationid": "corr-1",
      "iothub-deliverycount": "2",
      "iothub-app-kind": "command",
    }, "{\"led\":\"on\"}"), "receive", NOW_MS);

    assert.equal(outcome.kind, "message");
    assert.equal(outcome.message.lockToken, "9c1b2f1e");
    assert.equal(outcome.message.messageId, "cmd-1");
    assert.equal(outcome.message.correlationId, "corr-1");
    assert.equal(outcome.message.deliveryCount, 2);
    assert.deepEqual(outcome.message.properties, { kind: "command" });
    assert.equal(outcome.message.body, "{\"led\":\"on\"}");
  });

  it("calls a message without ETag malformed", () => {
    const outcome = parseHubResponse(response(200, {}, "x"), "receive", NOW_MS);
    assert.equal(outcome.kind, "malformed");
    assert.match(outcome.detail, /without an ETag/);
  });

  const errorCases = [
    [401, 401003, "unauthorized"],
    [403, 403002, "forbidden"],
    [404, 404001, "notFound"],
    [412, 412002, "lockLost"],
    [429, 429001, "throttled"],
    [500, 500001, "serverError"],
    [503, 503000, "serverError"],
    [400, 400004, "rejected"],
    [413, 413001, "rejected"],
  ];
  for (const [status, errorCode, kind] of errorCases) {
    it(`reads ${status} as ${kind}`, () => {
      const body = JSON.stringify({ errorCode, trackingId: "track-1", message: "text", timestampUtc: "2026-01-01T00:00:00Z" });
      const outcome = parseHubResponse(response(status, {}, body), "send", NOW_MS);
      assert.equal(outcome.kind, kind);
      assert.equal(outcome.httpStatus, status);
      assert.equal(outcome.errorCode, errorCode);
      assert.equal(outcome.trackingId, "track-1");
    });
  }

  it("reads Retry-After of a 429", () => {
    const outcome = parseHubResponse(response(429, { "retry-after": "7" }, "{}"), "send", NOW_MS);
    assert.equal(outcome.retryAfterSeconds, 7);
  });

  it("reads header names in any case", () => {
    const outcome = parseHubResponse(response(429, { "Retry-After": "3", "X-Ms-Error-Code": "429001" }, ""), "send", NOW_MS);
    assert.equal(outcome.retryAfterSeconds, 3);
    assert.equal(outcome.errorCode, 429001);
  });

  it("reads the older error body form", () => {
    const body = JSON.stringify({
      Message: "ErrorCode:IotHubUnauthorizedAccess;Unauthorized",
      ExceptionMessage: "Tracking ID:abc123-G:5-TimeStamp:01/01/2026 00:00:00",
    });
    const outcome = parseHubResponse(response(401, {}, body), "send", NOW_MS);
    assert.equal(outcome.errorName, "IotHubUnauthorizedAccess");
    assert.equal(outcome.trackingId, "abc123");
    assert.equal(outcome.errorCode, undefined);
  });

  it("survives a body that is not JSON", () => {
    const outcome = parseHubResponse(response(503, {}, "<html>busy</html>"), "send", NOW_MS);
    assert.equal(outcome.kind, "serverError");
    assert.equal(outcome.errorCode, undefined);
  });

  it("describes an outcome for the log", () => {
    const outcome = parseHubResponse(response(401, {}, JSON.stringify({ errorCode: 401003, trackingId: "t-1" })), "send", NOW_MS);
    assert.equal(describeHubOutcome(outcome), "HTTP 401 unauthorized (errorCode 401003, trackingId t-1)");
  });
});

describe("hub token renewal", () => {
  it("uses 15 minutes for 60-minute tokens", () => {
    assert.equal(computeRenewalMarginSeconds(3600), 900);
  });

  it("uses a quarter of short lifetimes", () => {
    assert.equal(computeRenewalMarginSeconds(60), 15);
  });

  const cases = [
    ["no token", undefined, 1000, true],
    ["fresh token", 1000 + 3600, 1000, false],
    ["just outside the margin", 1000 + 901, 1000, false],
    ["at the margin", 1000 + 900, 1000, true],
    ["expired token", 999, 1000, true],
    ["clock set back", 1000 + 3600 + 120, 1000, true],
  ];
  for (const [name, expiry, now, expected] of cases) {
    it(`renews ${name}: ${expected}`, () => {
      assert.equal(shouldRenewHubToken(expiry, now, 3600), expected);
    });
  }
});

describe("hub policy", () => {
  const outcome = (kind, extra = {}) => ({ kind, httpStatus: 0, ...extra });

  it("goes on after 204", () => {
    assert.equal(decideHubStep(outcome("accepted"), "send", 0, 0.5, undefined, 600000).action, "next");
  });

  for (const kind of ["unauthorized", "forbidden", "notFound"]) {
    it(`re-provisions at once after ${kind}`, () => {
      const step = decideHubStep(outcome(kind), "send", 1, 0.5, undefined, 600000);
      assert.equal(step.action, "reprovision");
      assert.equal(step.delayMs, 0);
    });
  }

  it("caps how often it re-provisions", () => {
    const step = decideHubStep(outcome("unauthorized"), "send", 1, 0.5, 60000, 600000);
    assert.equal(step.action, "reprovision");
    assert.equal(step.delayMs, 540000);
  });

  it("waits Retry-After after 429", () => {
    const step = decideHubStep(outcome("throttled", { retryAfterSeconds: 4 }), "send", 1, 0.5, undefined, 0);
    assert.equal(step.action, "retry");
    assert.equal(step.delayMs, 4000);
  });

  it("backs off after 429 without Retry-After", () => {
    const step = decideHubStep(outcome("throttled"), "send", 3, 0, undefined, 0);
    assert.equal(step.action, "retry");
    assert.equal(step.delayMs, 2000);
  });

  it("backs off with jitter after 5xx", () => {
    const low = decideHubStep(outcome("serverError"), "send", 3, 0, undefined, 0);
    const high = decideHubStep(outcome("serverError"), "send", 3, 0.999, undefined, 0);
    assert.equal(low.delayMs, 2000);
    assert.ok(high.delayMs > 3990, `got ${high.delayMs}`);
    assert.ok(high.delayMs <= 4000, `got ${high.delayMs}`);
  });

  it("caps the backoff at 5 minutes", () => {
    const step = decideHubStep(undefined, "send", 40, 0.999, undefined, 0);
    assert.ok(step.delayMs <= 300000, `got ${step.delayMs}`);
    assert.ok(step.delayMs > 299000, `got ${step.delayMs}`);
  });

  it("drops a message the hub refuses", () => {
    assert.equal(decideHubStep(outcome("rejected", { httpStatus: 400 }), "send", 1, 0.5, undefined, 0).action, "drop");
  });

  it("goes on after a lost lock", () => {
    assert.equal(decideHubStep(outcome("lockLost", { httpStatus: 412 }), "settle", 1, 0.5, undefined, 0).action, "next");
  });
});
