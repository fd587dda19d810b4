// Runs one DPS provisioning attempt: clock check, register, poll, with the waits the core policy decides.

import { DeviceConfig } from "../core/config";
import { buildOperationStatusRequest, buildRegisterRequest, DpsOutcome, DpsRequestOptions, parseDpsResponse }
  from "../core/dps";
import {
  applyRateWindow, createDpsPolicyOptions, createDpsPolicyState, decideDpsStep, DpsPolicyState, DpsStep, recordDpsRequest,
} from "../core/dps-policy";
import { createError, DeviceError, describeError, ErrorCode } from "../core/errors";
import { HttpRequestSpec, HttpResponseData } from "../core/http-types";
import { isHostTrusted } from "../core/identifiers";
import { computeExpiryEpochSeconds, createDpsSasToken } from "../core/sas";
import { isClockSet, monotonicMs, nowEpochMs, setClockFromDateHeader } from "./clock";
import { HttpsTarget, sendHttpsRequest } from "./https";
import { logInfo, logWarn } from "./log";
import { sha256 } from "./sha256";

/** A successful registration. */
export interface Assignment {
  assignedHub: string;
  deviceId: string;
}

/** Receives the assignment or the error that ended the attempt, exactly once. */
export type ProvisionCallback = (error: DeviceError | undefined, assignment: Assignment | undefined) => void;

/** A clock change beyond this after a 401 means the clock was wrong, so the request is worth one more try, in s. */
const CLOCK_CORRECTION_RETRY_SECONDS = 60;

/**
 * Unreadable responses in a row (a 2xx body that is not the expected JSON) that are retried like network failures,
 * because a proxy, a captive portal or a cut connection can cause them. The next one ends the attempt.
 */
const MAX_UNREADABLE_ANSWERS = 3;

interface Attempt {
  config: DeviceConfig;
  deviceKey: string;
  request: DpsRequestOptions;
  target: HttpsTarget;
  state: DpsPolicyState;
  policy: ReturnType<typeof createDpsPolicyOptions>;
  clockResynced: boolean;
  timer: number | undefined;
  callback: ProvisionCallback;
  requestCount: number;
  /** Unreadable responses since the last readable one. */
  unreadableAnswers: number;
}

let current: Attempt | undefined = undefined;

/** Returns whether a provisioning attempt is running. */
export function isProvisioning(): boolean {
  return current !== undefined;
}

/** Stops the running attempt, if any, without calling its callback. */
export function cancelProvisioning(): void {
  if (current === undefined) return;
  if (current.timer !== undefined) clearTimeout(current.timer);
  current = undefined;
}

function finish(attempt: Attempt, error: DeviceError | undefined, assignment: Assignment | undefined): void {
  if (current !== attempt) return;
  current = undefined;
  if (attempt.timer !== undefined) clearTimeout(attempt.timer);
  attempt.callback(error, assignment);
}

function schedule(attempt: Attempt, step: DpsStep): void {
  attempt.timer = setTimeout(() => {
    attempt.timer = undefined;
    if (current === attempt) sendStep(attempt, step.action);
  }, step.delayMs);
}

/**
 * Asks the DPS host for its time, for a device whose clock is not set yet; any response carries a `Date` header.
 * A 429 or 5xx response still sets the clock, but its `Retry-After` (or the backoff) is waited out before the next
 * request.
 */
function syncClock(attempt: Attempt, onDone: () => void): void {
  const spec: HttpRequestSpec = { method: "GET", path: "/", headers: {}, body: undefined };
  logInfo("clock", "not set yet; reading the time from " + attempt.target.host);

  recordDpsRequest(attempt.state, monotonicMs(), attempt.policy);
  attempt.requestCount++;
  sendHttpsRequest(attempt.target, spec, attempt.config.device.requestTimeoutSeconds * 1000, (error, response) => {
    if (current !== attempt) return;
    if (response !== undefined) setClockFromDateHeader(response.headers["date"]);

    const refused = response !== undefined && (response.status === 429 || response.status >= 500);
    if (isClockSet() && !refused) {
      onDone();
      return;
    }

    // The policy treats a refusal as the throttled or server-error outcome it is, and no response as a network failure.
    const outcome = refused ? parseDpsResponse(response as HttpResponseData, nowEpochMs()) : undefined;
    const step = decideDpsStep(attempt.state, outcome, monotonicMs(), Math.random(), attempt.policy,
      attempt.request.registrationId);
    if (step.action === "fail") {
      const failure = isClockSet() ? step.error as DeviceError : createError(ErrorCode.clockNotSet,
        "The clock could not be set from " + attempt.target.host + (error !== undefined ? " (" +
        describeError(error) + ")" : "") + ", so no token was signed", { retryable: true });
      finish(attempt, failure, undefined);
      return;
    }

    if (isClockSet()) {
      logWarn("clock", "set, but " + attempt.target.host + " returned HTTP " + (response as HttpResponseData).status +
        "; waiting " + step.delayMs + " ms before the next request");
    } else {
      logWarn("clock", "still not set; trying again in " + step.delayMs + " ms");
    }
    attempt.timer = setTimeout(() => {
      attempt.timer = undefined;
      if (current !== attempt) return;
      if (isClockSet()) onDone();
      else syncClock(attempt, onDone);
    }, step.delayMs);
  });
}

function createToken(attempt: Attempt): string {
  const expiry = computeExpiryEpochSeconds(nowEpochMs() / 1000, attempt.config.dps.tokenTtlSeconds);
  return createDpsSasToken(sha256, {
    idScope: attempt.request.idScope,
    registrationId: attempt.request.registrationId,
    deviceKey: attempt.deviceKey,
    expiryEpochSeconds: expiry,
  });
}

function sendStep(attempt: Attempt, action: string): void {
  if (!isClockSet()) {
    syncClock(attempt, () => sendStep(attempt, action));
    return;
  }

  const token = createToken(attempt);
  const spec = action === "poll"
    ? buildOperationStatusRequest(attempt.request, attempt.state.operationId as string, token)
    : buildRegisterRequest(attempt.request, token);

  recordDpsRequest(attempt.state, monotonicMs(), attempt.policy);
  attempt.requestCount++;

  sendHttpsRequest(attempt.target, spec, attempt.config.device.requestTimeoutSeconds * 1000, (error, response) => {
    if (current !== attempt) return;

    let outcome: DpsOutcome | undefined = undefined;
    if (response !== undefined) {
      outcome = parseDpsResponse(response, nowEpochMs());
      logInfo("dps", (action === "poll" ? "poll" : "register") + " " + attempt.request.registrationId + " -> HTTP " +
        outcome.httpStatus + " " + outcome.kind +
        (outcome.retryAfterSeconds !== undefined ? ", Retry-After " + outcome.retryAfterSeconds + " s" : "") +
        (outcome.trackingId !== undefined ? ", trackingId " + outcome.trackingId : ""));

      if (outcome.kind === "unauthorized" && !attempt.clockResynced) {
        // A wrong clock is the one cause of a 401 that the device can fix by itself.
        attempt.clockResynced = true;
        const changeSeconds = setClockFromDateHeader(response.headers["date"]);
        if (Math.abs(changeSeconds) >= CLOCK_CORRECTION_RETRY_SECONDS) {
          logWarn("dps", "the clock was off by " + Math.round(changeSeconds) + " s; signing a new token and retrying");
          schedule(attempt, { action: action, delayMs: applyRateWindow(attempt.state, monotonicMs(), 0, attempt.policy) });
          return;
        }
      }
    } else {
      logWarn("dps", describeError(error));
    }

    // An unreadable response is retried like a network failure a few times before the policy may end the attempt.
    let policyOutcome = outcome;
    if (outcome !== undefined && outcome.kind === "malformed") {
      attempt.unreadableAnswers++;
      if (attempt.unreadableAnswers <= MAX_UNREADABLE_ANSWERS) {
        logWarn("dps", "could not read the response (" + outcome.detail + "); unreadable response " +
          attempt.unreadableAnswers + " of at most " + MAX_UNREADABLE_ANSWERS + " retried");
        policyOutcome = undefined;
      }
    } else if (outcome !== undefined) {
      attempt.unreadableAnswers = 0;
    }

    const step = decideDpsStep(attempt.state, policyOutcome, monotonicMs(), Math.random(), attempt.policy,
      attempt.request.registrationId);

    if (step.action === "done" && outcome !== undefined) {
      const hub = outcome.assignedHub as string;
      if (!isHostTrusted(hub, attempt.config.trust.hubSuffixes)) {
        finish(attempt, createError(ErrorCode.untrustedHost, "DPS assigned the hub \"" + hub + "\", which matches " +
          "none of trust.hubSuffixes " + JSON.stringify(attempt.config.trust.hubSuffixes) + ", so the device will " +
          "not send it anything. Add the suffix if this hub is yours", { httpStatus: outcome.httpStatus }), undefined);
        return;
      }
      finish(attempt, undefined, { assignedHub: hub, deviceId: outcome.deviceId as string });
      return;
    }
    if (step.action === "fail") {
      const failure = step.error as DeviceError;
      // A service that keeps sending unreadable responses may recover (or the proxy in between may go away), so the
      // device tries again later instead of stopping for good.
      if (outcome !== undefined && outcome.kind === "malformed") failure.retryable = true;
      finish(attempt, failure, undefined);
      return;
    }

    logInfo("dps", "next " + step.action + " in " + step.delayMs + " ms");
    schedule(attempt, step);
  });
}

/**
 * Registers the device with DPS and reports the assigned hub.
 *
 * Only one attempt runs at a time; starting another cancels the first. The assigned hub must match
 * `trust.hubSuffixes`, otherwise the attempt fails with `UNTRUSTED_HOST`.
 *
 * @param config The validated configuration.
 * @param deviceKey The device key in Base64 (derived already for a group enrollment).
 * @param callback Called once with the error or the assignment.
 */
export function provision(config: DeviceConfig, deviceKey: string, callback: ProvisionCallback): void {
  cancelProvisioning();

  const policy = createDpsPolicyOptions(config.dps.maxProvisioningSeconds);
  const attempt: Attempt = {
    config: config,
    deviceKey: deviceKey,
    request: {
      idScope: config.dps.idScope,
      registrationId: config.dps.registrationId,
      apiVersion: config.dps.apiVersion,
      payload: config.dps.payload,
    },
    target: { host: config.dps.host, port: config.dps.port },
    // NOTE: each attempt starts a new rate window. Automatic attempts are at least a minute apart, but
    // `dps.provision()` typed repeatedly at the REPL can exceed the DPS limit of 5 requests in 10 s.
    state: createDpsPolicyState(monotonicMs(), []),
    policy: policy,
    clockResynced: false,
    timer: undefined,
    callback: callback,
    requestCount: 0,
    unreadableAnswers: 0,
  };
  current = attempt;

  logInfo("dps", "registering \"" + config.dps.registrationId + "\" in scope " + config.dps.idScope + " at " +
    config.dps.host + (config.dps.port !== undefined ? ":" + config.dps.port : ""));
  sendStep(attempt, "register");
}
