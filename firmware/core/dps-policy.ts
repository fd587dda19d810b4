// The DPS polling and retry policy as a pure function: an outcome and the history in, the next step out.
//
// Rules: honour `Retry-After` on every response, including the first PUT; wait 2 s when it is absent; never send more
// than 5 requests in any 10 s window (the DPS per-device polling limit); retry 429, 5xx and network failures with
// capped exponential backoff and jitter when they carry no `Retry-After` or 0; stop on "assigned", "failed",
// "disabled", an unknown status and every 4xx other than 429; and give up when the next request would start after
// the deadline.

import { computeJitteredBackoffMs } from "./backoff";
import * as C from "./constants";
import { DpsOutcome } from "./dps";
import { createError, DeviceError, ErrorCode } from "./errors";

/** What the policy remembers between steps of one provisioning attempt. */
export interface DpsPolicyState {
  /** Device clock when the attempt started, in ms. */
  startedAtMs: number;
  /** Start times of the requests sent so far, in ms, oldest first (only the last few are kept). */
  requestTimesMs: number[];
  /** Failures (429, 5xx, network) since the last good response; drives the backoff. */
  consecutiveFailures: number;
  /** The operation being polled, once DPS has returned one. */
  operationId: string | undefined;
}

/** Tunables of the policy; `createDpsPolicyOptions` gives the defaults. */
export interface DpsPolicyOptions {
  maxProvisioningMs: number;
  defaultPollIntervalMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  maxRequestsPerWindow: number;
  requestWindowMs: number;
}

/** The next step: send a request after `delayMs`, or stop with a result or an error. */
export interface DpsStep {
  /** "register" (send the PUT), "poll" (send the GET), "done" (assigned) or "fail". */
  action: string;
  delayMs: number;
  error?: DeviceError;
}

/**
 * Returns the policy defaults, with the total time cap from the configuration.
 *
 * @param maxProvisioningSeconds Cap on one provisioning attempt, in seconds.
 */
export function createDpsPolicyOptions(maxProvisioningSeconds: number): DpsPolicyOptions {
  return {
    maxProvisioningMs: maxProvisioningSeconds * 1000,
    defaultPollIntervalMs: C.DEFAULT_POLL_INTERVAL_MS,
    retryBaseDelayMs: C.RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: C.RETRY_MAX_DELAY_MS,
    maxRequestsPerWindow: C.MAX_POLLS_PER_WINDOW,
    requestWindowMs: C.POLL_WINDOW_MS,
  };
}

/**
 * Starts the state of a new provisioning attempt.
 *
 * @param nowMs Device clock in ms.
 * @param recentRequestTimesMs Start times of requests that earlier attempts sent, in ms, oldest first, so the new
 *   attempt keeps to the same rate window; the array is shared and updated in place, or pass `[]`.
 */
export function createDpsPolicyState(nowMs: number, recentRequestTimesMs: number[]): DpsPolicyState {
  return { startedAtMs: nowMs, requestTimesMs: recentRequestTimesMs, consecutiveFailures: 0, operationId: undefined };
}

/**
 * Records that a request starts now; call it right before each send.
 *
 * @param state The attempt's state (changed in place).
 * @param nowMs Device clock in ms.
 * @param options The policy options, for the window size.
 */
export function recordDpsRequest(state: DpsPolicyState, nowMs: number, options: DpsPolicyOptions): void {
  state.requestTimesMs.push(nowMs);
  while (state.requestTimesMs.length > options.maxRequestsPerWindow) state.requestTimesMs.shift();
}

/**
 * Computes the capped exponential backoff with jitter for the n-th consecutive failure.
 *
 * The delay doubles from `retryBaseDelayMs` up to `retryMaxDelayMs`, and the jitter draws it uniformly from the
 * upper half of that range, so devices that failed together do not retry together.
 *
 * @param failures Consecutive failures so far, 1 or more.
 * @param random A number in [0, 1), e.g. from `Math.random()`.
 * @param options Base and cap.
 * @returns Delay in ms.
 */
export function computeBackoffMs(failures: number, random: number, options: DpsPolicyOptions): number {
  return computeJitteredBackoffMs(failures, random, options.retryBaseDelayMs, options.retryMaxDelayMs);
}

/**
 * Delays a request until it fits the rate window: no more than `maxRequestsPerWindow` starts in any window.
 *
 * @param state The attempt's state, with the recent request start times.
 * @param nowMs Device clock in ms.
 * @param delayMs The delay wanted for other reasons, in ms.
 * @param options Window size and request count.
 * @returns `delayMs`, or longer when the request would otherwise break the window.
 */
export function applyRateWindow(state: DpsPolicyState, nowMs: number, delayMs: number, options: DpsPolicyOptions): number {
  const times = state.requestTimesMs;
  if (times.length < options.maxRequestsPerWindow) return delayMs;

  // The oldest of the last N starts must leave the window before the next one starts.
  const earliestMs = times[times.length - options.maxRequestsPerWindow] + options.requestWindowMs + 1;
  return nowMs + delayMs >= earliestMs ? delayMs : earliestMs - nowMs;
}

function describeHttp(outcome: DpsOutcome): { httpStatus: number; serviceErrorCode?: number; trackingId?: string } {
  return { httpStatus: outcome.httpStatus, serviceErrorCode: outcome.errorCode, trackingId: outcome.trackingId };
}

function createOutcomeError(outcome: DpsOutcome, registrationId: string): DeviceError {
  const details: any = describeHttp(outcome);

  if (outcome.kind === "unauthorized") {
    return createError(ErrorCode.dpsUnauthorized, "DPS rejected the token for registration \"" + registrationId +
      "\" (HTTP 401). Check that dps.deviceKey is the enrollment's key (or, for a group, the key derived for this " +
      "registration ID), that dps.idScope and dps.registrationId match the enrollment, and that the clock is right. " +
      "`npm run keys -- diagnose` names the cause", details);
  }
  if (outcome.kind === "failed") {
    return createError(ErrorCode.dpsFailed, "DPS could not assign registration \"" + registrationId + "\": " +
      (outcome.errorMessage !== undefined ? outcome.errorMessage : "no reason given") +
      ". Check the enrollment's IoT hub links and allocation policy", details);
  }
  if (outcome.kind === "disabled") {
    return createError(ErrorCode.dpsDisabled, "The enrollment of registration \"" + registrationId +
      "\" is disabled in DPS. Enable it (or its enrollment group) and provision again", details);
  }
  if (outcome.kind === "rejected") {
    return createError(ErrorCode.dpsRejected, "DPS rejected the request for registration \"" + registrationId +
      "\" with HTTP " + outcome.httpStatus + (outcome.errorMessage !== undefined ? ": " + outcome.errorMessage : "") +
      (outcome.httpStatus === 404 ? ". Check dps.idScope and that an enrollment exists" : ""), details);
  }
  if (outcome.kind === "unknownStatus") {
    return createError(ErrorCode.dpsMalformed, "DPS returned the unknown status \"" + outcome.detail +
      "\" for registration \"" + registrationId + "\"; treating it as a failure", details);
  }
  return createError(ErrorCode.dpsMalformed, "DPS sent a response this client cannot read (" + outcome.detail +
    ") for registration \"" + registrationId + "\"", details);
}

/**
 * Decides what to do after a DPS response or a network failure.
 *
 * @param state The attempt's state; updated in place (operation ID, failure count).
 * @param outcome The parsed response, or `undefined` when the request failed without a response (network, timeout).
 * @param nowMs Device clock in ms.
 * @param random A number in [0, 1) for the jitter.
 * @param options Policy tunables.
 * @param registrationId Named in error messages.
 * @returns The next step. A "fail" step carries the error with its code, HTTP status and tracking ID.
 */
export function decideDpsStep(
  state: DpsPolicyState,
  outcome: DpsOutcome | undefined,
  nowMs: number,
  random: number,
  options: DpsPolicyOptions,
  registrationId: string
): DpsStep {
  let delayMs: number;

  if (outcome !== undefined && outcome.kind === "assigned") return { action: "done", delayMs: 0 };

  if (outcome !== undefined && outcome.kind === "assigning") {
    state.consecutiveFailures = 0;
    state.operationId = outcome.operationId;
    delayMs = outcome.retryAfterSeconds !== undefined ? outcome.retryAfterSeconds * 1000 : options.defaultPollIntervalMs;
  } else if (outcome === undefined || outcome.kind === "throttled" || outcome.kind === "serverError") {
    state.consecutiveFailures++;
    const backoffMs = computeBackoffMs(state.consecutiveFailures, random, options);
    const retryAfterMs = outcome !== undefined && outcome.retryAfterSeconds !== undefined
      ? outcome.retryAfterSeconds * 1000 : 0;
    // Retry-After is the service's minimum; backoff applies when it is absent or 0, as in azure-sdk-for-c, so that
    // a throttled device never retries at once.
    delayMs = retryAfterMs > 0 ? retryAfterMs : backoffMs;
  } else {
    return { action: "fail", delayMs: 0, error: createOutcomeError(outcome, registrationId) };
  }

  delayMs = applyRateWindow(state, nowMs, delayMs, options);

  if (nowMs + delayMs - state.startedAtMs > options.maxProvisioningMs) {
    const last = outcome === undefined ? "no response (network failure)" : "\"" + outcome.kind + "\"";
    const details: any = outcome === undefined ? { retryable: true } : describeHttp(outcome);
    details.retryable = true;
    // The next attempt must still honour a wait the service asked for that did not fit in this one.
    if (outcome !== undefined && outcome.retryAfterSeconds !== undefined) details.retryAfterSeconds = outcome.retryAfterSeconds;
    return {
      action: "fail",
      delayMs: 0,
      error: createError(ErrorCode.dpsDeadlineExceeded, "Provisioning of registration \"" + registrationId +
        "\" did not finish within dps.maxProvisioningSeconds (" + Math.round(options.maxProvisioningMs / 1000) +
        " s); the last DPS response was " + last + ". The device tries again later", details),
    };
  }

  return { action: state.operationId !== undefined ? "poll" : "register", delayMs: delayMs };
}
