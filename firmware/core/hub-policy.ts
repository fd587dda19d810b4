// What the device does after a hub response, and when it signs a new hub token, as pure functions. No I/O.
//
// Rules: 204 and 200 go on. 401, 403 and 404 send the device back to DPS, because it may have moved to another hub,
// but at most once per `minReprovisionIntervalMs`; 429 waits `Retry-After` (backoff when it is absent or 0); 5xx
// and network failures back off exponentially with jitter; 412 on a settle means the C2D lock expired, so that
// message is left to the hub; other 4xx responses to a telemetry send drop that one message, which would fail again.

import { computeBackoffMs, DpsPolicyOptions } from "./dps-policy";
import { HubOutcome } from "./hub-response";

/** Signs a new hub token this long before the old one expires, in seconds (the official Node SDK uses 15 min). */
export const HUB_TOKEN_RENEWAL_MARGIN_SECONDS = 900;

/** Default shortest time between two registrations that hub rejections cause, in seconds (10 minutes). */
export const DEFAULT_MIN_REPROVISION_INTERVAL_SECONDS = 600;

/** Default C2D poll interval, in seconds: IoT Hub documentation tells HTTPS devices to poll no more than once every 25 minutes. */
export const DEFAULT_C2D_POLL_INTERVAL_SECONDS = 1500;

/** Backoff of the hub client for 5xx, network failures and 429 without `Retry-After`: first delay and cap, in ms. */
export const HUB_RETRY_BASE_DELAY_MS = 1000;
export const HUB_RETRY_MAX_DELAY_MS = 300000;

/** The next step after a hub response. */
export interface HubStep {
  /**
   * One of "next", "retry", "drop" or "reprovision". "next" goes on with the next request. "retry" sends the same
   * request after `delayMs`. "drop" gives up on this message. "reprovision" registers with DPS again after `delayMs`.
   */
  action: string;
  delayMs: number;
  /** The reason, in a few words for the log. */
  reason: string;
}

/**
 * Computes how long before expiry a hub token is replaced.
 *
 * @param ttlSeconds The token lifetime, in seconds.
 * @returns `HUB_TOKEN_RENEWAL_MARGIN_SECONDS`, or a quarter of the lifetime when that is shorter, in seconds.
 */
export function computeRenewalMarginSeconds(ttlSeconds: number): number {
  const quarter = Math.floor(ttlSeconds / 4);
  return quarter < HUB_TOKEN_RENEWAL_MARGIN_SECONDS ? quarter : HUB_TOKEN_RENEWAL_MARGIN_SECONDS;
}

/**
 * Decides whether the device signs a new hub token before its next request.
 *
 * A token is renewed when there is none, when it expires within the margin, and when its expiry lies further
 * ahead than a fresh token's would, which means the clock was set back since it was signed.
 *
 * @param expiryEpochSeconds The `se` of the current token, or `undefined` when there is none.
 * @param nowEpochSeconds The device clock, in seconds since 1970.
 * @param ttlSeconds The lifetime of new tokens, in seconds.
 * @returns `true` when a new token must be signed.
 */
export function shouldRenewHubToken(expiryEpochSeconds: number | undefined, nowEpochSeconds: number,
  ttlSeconds: number): boolean {
  if (expiryEpochSeconds === undefined) return true;

  const remainingSeconds = expiryEpochSeconds - nowEpochSeconds;
  if (remainingSeconds <= computeRenewalMarginSeconds(ttlSeconds)) return true;
  return remainingSeconds > ttlSeconds + 1;
}

/** Backoff options for `computeBackoffMs`, with the hub client's base and cap. */
function createBackoffOptions(): DpsPolicyOptions {
  return {
    maxProvisioningMs: 0,
    defaultPollIntervalMs: 0,
    retryBaseDelayMs: HUB_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: HUB_RETRY_MAX_DELAY_MS,
    maxRequestsPerWindow: 0,
    requestWindowMs: 0,
  };
}

/**
 * Computes the wait before the next retry of a failing hub request.
 *
 * @param failures Consecutive failures so far, 1 or more.
 * @param random A number in [0, 1) for the jitter.
 * @returns Delay in ms: doubling from 1 s up to 5 min, drawn from the upper half of that range.
 */
export function computeHubBackoffMs(failures: number, random: number): number {
  return computeBackoffMs(failures, random, createBackoffOptions());
}

/**
 * Decides what to do after a hub response or a network failure.
 *
 * @param outcome The parsed response, or `undefined` when the request failed without a response (network, timeout).
 * @param request "send", "receive" or "settle", as given to `parseHubResponse`.
 * @param failures Consecutive failures including this one when it is a failure; drives the backoff.
 * @param random A number in [0, 1) for the jitter.
 * @param msSinceLastReprovision Time since the last registration that a hub rejection caused, in ms, or
 *   `undefined` when there was none since boot.
 * @param minReprovisionIntervalMs Shortest time between two such registrations, in ms.
 * @returns The next step.
 */
export function decideHubStep(outcome: HubOutcome | undefined, request: string, failures: number, random: number,
  msSinceLastReprovision: number | undefined, minReprovisionIntervalMs: number): HubStep {
  if (outcome === undefined) {
    return { action: "retry", delayMs: computeHubBackoffMs(failures, random), reason: "no response" };
  }

  const kind = outcome.kind;
  if (kind === "accepted" || kind === "empty" || kind === "message") return { action: "next", delayMs: 0, reason: kind };

  if (kind === "unauthorized" || kind === "forbidden" || kind === "notFound") {
    let delayMs = 0;
    if (msSinceLastReprovision !== undefined && msSinceLastReprovision < minReprovisionIntervalMs) {
      delayMs = minReprovisionIntervalMs - msSinceLastReprovision;
    }
    return { action: "reprovision", delayMs: delayMs, reason: "the hub rejected the device (HTTP " + outcome.httpStatus + ")" };
  }

  if (kind === "throttled") {
    const retryAfterMs = outcome.retryAfterSeconds !== undefined ? outcome.retryAfterSeconds * 1000 : 0;
    return {
      action: "retry",
      delayMs: retryAfterMs > 0 ? retryAfterMs : computeHubBackoffMs(failures, random),
      reason: "throttled",
    };
  }

  if (kind === "serverError" || kind === "malformed") {
    return { action: "retry", delayMs: computeHubBackoffMs(failures, random), reason: kind };
  }

  if (kind === "lockLost") return { action: "next", delayMs: 0, reason: "the C2D lock expired" };

  // Another 4xx: the same request would fail again. A receive or settle is simply left for the next poll.
  if (request === "send") return { action: "drop", delayMs: 0, reason: "the hub refused the message (HTTP " + outcome.httpStatus + ")" };
  return { action: "next", delayMs: 0, reason: "HTTP " + outcome.httpStatus };
}
