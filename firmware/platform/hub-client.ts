// The IoT Hub client after assignment: sends queued readings in order, polls for cloud-to-device (C2D) messages and
// settles them, renews the hub token, and hands hub rejections (401, 403, 404) back to the device for a new DPS
// registration. One hub request runs at a time, so readings leave in the order they were taken.

import { DeviceConfig } from "../core/config";
import { createError, describeError, DeviceError, ErrorCode } from "../core/errors";
import { HttpRequestSpec } from "../core/http-types";
import { buildReceiveRequest, buildSettleRequest, buildTelemetryRequest, HubRequestOptions } from "../core/hub";
import { decideHubStep, HubStep, shouldRenewHubToken } from "../core/hub-policy";
import { CloudToDeviceMessage, describeHubOutcome, HubOutcome, parseHubResponse } from "../core/hub-response";
import { toTelemetryMessage } from "../core/telemetry-queue";
import { computeExpiryEpochSeconds, createHubSasToken } from "../core/sas";
import { isClockSet, monotonicMs, nowEpochMs, setClockFromDateHeader } from "./clock";
import { HttpsTarget, sendHttpsRequest } from "./https";
import { logError, logInfo, logWarn } from "./log";
import { sha256 } from "./sha256";
import { acknowledgeReading, discardReading, peekReading } from "./telemetry";

/** Receives a C2D message and returns "complete", "reject" or "abandon". */
export type CloudToDeviceHandler = (message: CloudToDeviceMessage) => string;

/** Called when the hub rejected the device; `delayMs` is the wait that `hub.minReprovisionIntervalSeconds` requires, in ms. */
export type HubRejectionCallback = (reason: string, delayMs: number) => void;

/** A clock change beyond this after a 401 means the clock was wrong, so one more try is worth it, in seconds. */
const CLOCK_CORRECTION_RETRY_SECONDS = 60;

/** Maximum number of C2D messages received in a row before the client waits for the next poll interval. */
const MAX_C2D_MESSAGES_PER_POLL = 5;

/** Maximum length of a C2D body shown in the log, in characters. */
const LOGGED_BODY_CHARACTERS = 60;

/** Counters for the REPL and the benchmark. */
export interface HubStatistics {
  requests: number;
  /** Request bytes handed to the HTTPS layer: body plus header names and values, without TLS and HTTP framing. */
  requestBytes: number;
  acceptedReadings: number;
  droppedReadings: number;
  receivedMessages: number;
  tokensSigned: number;
  /** The last outcome, e.g. "HTTP 204 accepted", for `dps.status()`. */
  lastOutcome: string | undefined;
}

interface PendingSettle {
  lockToken: string;
  action: string;
}

interface HubClient {
  config: DeviceConfig;
  deviceKey: string;
  options: HubRequestOptions;
  target: HttpsTarget;
  onRejected: HubRejectionCallback;
  token: string | undefined;
  tokenExpiryEpochSeconds: number | undefined;
  /** A request is running or a retry wait is pending. */
  busy: boolean;
  retryTimer: number | undefined;
  /** The pending retry wait follows a request that got no response, so a WiFi reconnection may end it early. */
  waitingForNetwork: boolean;
  pollTimer: number | undefined;
  pollDue: boolean;
  messagesThisPoll: number;
  settle: PendingSettle | undefined;
  failures: number;
  clockResynced: boolean;
}

let current: HubClient | undefined = undefined;
let lastRejectionAtMs: number | undefined = undefined;
let messageHandler: CloudToDeviceHandler | undefined = undefined;

/** Counters since boot, across hub clients. */
export const hubStatistics: HubStatistics = {
  requests: 0,
  requestBytes: 0,
  acceptedReadings: 0,
  droppedReadings: 0,
  receivedMessages: 0,
  tokensSigned: 0,
  lastOutcome: undefined,
};

/**
 * Sets the function that decides what happens to each C2D message.
 *
 * @param handler Returns "complete", "reject" or "abandon"; `undefined` restores the default, which logs the
 *   message and completes it. A handler that throws or returns anything else gets the message abandoned.
 */
export function setCloudToDeviceHandler(handler: CloudToDeviceHandler | undefined): void {
  messageHandler = handler;
}

/** Returns whether a hub client is running. */
export function isHubClientRunning(): boolean {
  return current !== undefined;
}

/** Stops the hub client: no more requests, and the response of a running request is ignored. */
export function stopHubClient(): void {
  const client = current;
  if (client === undefined) return;
  current = undefined;
  if (client.retryTimer !== undefined) clearTimeout(client.retryTimer);
  if (client.pollTimer !== undefined) clearTimeout(client.pollTimer);
}

/**
 * Asks the hub client to send now: after a reading was queued, or after WiFi came back during a retry wait.
 *
 * @param cancelWait Whether a retry wait after a request without response ends at once, e.g. after WiFi came back.
 *   Waits that the hub requested (429) or that follow 5xx always run to the end.
 */
export function nudgeHubClient(cancelWait: boolean): void {
  const client = current;
  if (client === undefined) return;
  if (cancelWait && client.retryTimer !== undefined && client.waitingForNetwork) {
    clearTimeout(client.retryTimer);
    client.retryTimer = undefined;
    client.busy = false;
  }
  pump(client);
}

/**
 * Starts the hub client for an assigned device, replacing any running one.
 *
 * @param config The validated configuration (`hub` section).
 * @param deviceKey The device key in Base64, the same that registered with DPS.
 * @param assignedHub The hub host name from DPS.
 * @param deviceId The device ID from DPS.
 * @param onRejected Called once when the hub rejects the device; the client has stopped by then.
 */
export function startHubClient(config: DeviceConfig, deviceKey: string, assignedHub: string, deviceId: string,
  onRejected: HubRejectionCallback): void {
  stopHubClient();

  const client: HubClient = {
    config: config,
    deviceKey: deviceKey,
    options: { hubHostName: assignedHub, deviceId: deviceId, apiVersion: config.hub.apiVersion },
    target: { host: assignedHub, port: config.hub.port },
    onRejected: onRejected,
    token: undefined,
    tokenExpiryEpochSeconds: undefined,
    busy: false,
    retryTimer: undefined,
    waitingForNetwork: false,
    pollTimer: undefined,
    pollDue: true,
    messagesThisPoll: 0,
    settle: undefined,
    failures: 0,
    clockResynced: false,
  };
  current = client;

  logInfo("hub", "sending to " + assignedHub + (config.hub.port !== undefined ? ":" + config.hub.port : "") +
    " as " + deviceId + "; C2D poll every " + config.hub.c2dPollIntervalSeconds + " s");
  pump(client);
}

function getToken(client: HubClient): string {
  const nowSeconds = nowEpochMs() / 1000;
  const ttlSeconds = client.config.hub.tokenTtlSeconds;

  if (client.token === undefined || shouldRenewHubToken(client.tokenExpiryEpochSeconds, nowSeconds, ttlSeconds)) {
    const expiry = computeExpiryEpochSeconds(nowSeconds, ttlSeconds);
    client.token = createHubSasToken(sha256, {
      hubHostName: client.options.hubHostName,
      deviceId: client.options.deviceId,
      deviceKey: client.deviceKey,
      expiryEpochSeconds: expiry,
    });
    client.tokenExpiryEpochSeconds = expiry;
    hubStatistics.tokensSigned++;
    logInfo("hub", "signed a new hub token, valid until " + new Date(expiry * 1000).toISOString());
  }
  return client.token;
}

function countRequest(spec: HttpRequestSpec): void {
  let bytes = spec.method.length + spec.path.length + (spec.body !== undefined ? spec.body.length : 0);
  const names = Object.keys(spec.headers);
  for (let i = 0; i < names.length; i++) bytes += names[i].length + spec.headers[names[i]].length + 4;
  hubStatistics.requests++;
  hubStatistics.requestBytes += bytes;
}

function schedulePoll(client: HubClient): void {
  if (client.pollTimer !== undefined) clearTimeout(client.pollTimer);
  client.pollTimer = setTimeout(() => {
    client.pollTimer = undefined;
    if (current !== client) return;
    client.pollDue = true;
    client.messagesThisPoll = 0;
    pump(client);
  }, client.config.hub.c2dPollIntervalSeconds * 1000);
}

/** Reads the time from the hub's `Date` header when the clock was never set, e.g. after booting from the cache. */
function syncClock(client: HubClient): void {
  client.busy = true;
  const spec: HttpRequestSpec = { method: "GET", path: "/", headers: {}, body: undefined };
  logInfo("clock", "not set yet; reading the time from " + client.target.host);
  countRequest(spec);

  sendHttpsRequest(client.target, spec, client.config.device.requestTimeoutSeconds * 1000, (error, response) => {
    if (current !== client) return;
    client.busy = false;
    if (response !== undefined) setClockFromDateHeader(response.headers["date"]);
    if (isClockSet()) {
      client.failures = 0;
      pump(client);
      return;
    }
    client.failures++;
    applyStep(client, decideHubStep(undefined, "receive", client.failures, Math.random(), undefined, 0),
      error !== undefined ? describeError(error) : "no usable Date header", error !== undefined);
  });
}

function pump(client: HubClient): void {
  if (current !== client || client.busy) return;

  if (!isClockSet()) {
    syncClock(client);
    return;
  }

  if (client.settle !== undefined) {
    const settle = client.settle;
    send(client, "settle", buildSettleRequest(client.options, settle.lockToken, settle.action, getToken(client)), undefined);
    return;
  }

  if (client.pollDue) {
    send(client, "receive", buildReceiveRequest(client.options, getToken(client)), undefined);
    return;
  }

  const reading = peekReading();
  if (reading === undefined) return;

  const token = getToken(client);
  let spec: HttpRequestSpec;
  try {
    spec = buildTelemetryRequest(client.options, toTelemetryMessage(reading), token);
  } catch (e) {
    logError("hub", "reading " + reading.i + " cannot be sent and is dropped: " + describeError(e));
    hubStatistics.droppedReadings++;
    discardReading(reading.i);
    pump(client);
    return;
  }
  send(client, "send", spec, reading.i);
}

function send(client: HubClient, request: string, spec: HttpRequestSpec, messageId: string | undefined): void {
  client.busy = true;
  countRequest(spec);

  sendHttpsRequest(client.target, spec, client.config.device.requestTimeoutSeconds * 1000, (error, response) => {
    if (current !== client) return;
    client.busy = false;

    try {
      if (response === undefined) {
        client.failures++;
        hubStatistics.lastOutcome = describeError(error);
        logWarn("hub", request + (messageId !== undefined ? " " + messageId : "") + " failed: " + describeError(error));
        applyStep(client, decideHubStep(undefined, request, client.failures, Math.random(), undefined, 0),
          "no response", true);
        return;
      }

      const outcome = parseHubResponse(response, request, nowEpochMs());
      hubStatistics.lastOutcome = describeHubOutcome(outcome);
      logInfo("hub", request + (messageId !== undefined ? " " + messageId : "") + " -> " + describeHubOutcome(outcome));

      if (outcome.kind === "unauthorized" && !client.clockResynced) {
        // A wrong clock is the one cause of a 401 that the device can fix by itself, so it gets one more try.
        client.clockResynced = true;
        const changeSeconds = setClockFromDateHeader(response.headers["date"]);
        if (Math.abs(changeSeconds) >= CLOCK_CORRECTION_RETRY_SECONDS) {
          logWarn("hub", "the clock was off by " + Math.round(changeSeconds) + " s; signing a new token and retrying");
          client.token = undefined;
          pump(client);
          return;
        }
      }

      handleOutcome(client, request, outcome, messageId);
    } catch (e) {
      logError("hub", "handling the " + request + " response failed: " + describeError(e));
      client.failures++;
      applyStep(client, decideHubStep(undefined, request, client.failures, Math.random(), undefined, 0), "internal error",
        false);
    }
  });
}

function handleOutcome(client: HubClient, request: string, outcome: HubOutcome, messageId: string | undefined): void {
  const sinceRejectionMs = lastRejectionAtMs !== undefined ? monotonicMs() - lastRejectionAtMs : undefined;
  const step = decideHubStep(outcome, request, client.failures + 1, Math.random(), sinceRejectionMs,
    client.config.hub.minReprovisionIntervalSeconds * 1000);

  if (step.action === "retry" || step.action === "reprovision") {
    if (step.action === "retry") client.failures++;
    applyStep(client, step, describeHubOutcome(outcome), false);
    return;
  }

  client.failures = 0;
  client.clockResynced = false;

  if (request === "send" && messageId !== undefined) {
    if (step.action === "drop") {
      logError("hub", "reading " + messageId + " was rejected by the hub and is dropped: " + describeHubOutcome(outcome));
      hubStatistics.droppedReadings++;
      discardReading(messageId);
    } else {
      hubStatistics.acceptedReadings++;
      acknowledgeReading(messageId);
    }
  } else if (request === "receive") {
    if (outcome.kind === "message" && outcome.message !== undefined) {
      hubStatistics.receivedMessages++;
      client.messagesThisPoll++;
      client.settle = { lockToken: outcome.message.lockToken, action: decideSettleAction(outcome.message) };
    } else {
      client.pollDue = false;
      schedulePoll(client);
    }
  } else if (request === "settle") {
    if (outcome.kind === "lockLost") {
      logWarn("hub", "the C2D lock expired before it was settled; the hub delivers the message again");
    }
    client.settle = undefined;
    if (client.messagesThisPoll >= MAX_C2D_MESSAGES_PER_POLL) {
      client.pollDue = false;
      schedulePoll(client);
    }
  }
  pump(client);
}

function decideSettleAction(message: CloudToDeviceMessage): string {
  const action = runMessageHandler(message);
  const body = message.body.length > LOGGED_BODY_CHARACTERS
    ? message.body.substring(0, LOGGED_BODY_CHARACTERS) + "..." : message.body;
  logInfo("c2d", "received message " + (message.messageId !== undefined ? message.messageId : "(no ID)") + " (" +
    message.body.length + " bytes): " + JSON.stringify(body) + "; action " + action);
  return action;
}

function runMessageHandler(message: CloudToDeviceMessage): string {
  if (messageHandler === undefined) return "complete";

  let action: any;
  try {
    action = messageHandler(message);
  } catch (e) {
    logError("c2d", "the message handler failed: " + describeError(e) + "; abandoning the message");
    return "abandon";
  }
  if (action === "complete" || action === "reject" || action === "abandon") return action;

  logError("c2d", "the message handler returned " + JSON.stringify(action) + " instead of \"complete\", \"reject\" " +
    "or \"abandon\"; abandoning the message");
  return "abandon";
}

function applyStep(client: HubClient, step: HubStep, cause: string, waitingForNetwork: boolean): void {
  if (step.action === "reprovision") {
    stopHubClient();
    lastRejectionAtMs = monotonicMs() + step.delayMs;
    const error: DeviceError = createError(ErrorCode.hubUnauthorized, "IoT hub " + client.options.hubHostName +
      " rejected device " + client.options.deviceId + " (" + cause + "); registering with DPS again" +
      (step.delayMs > 0 ? " in " + Math.round(step.delayMs / 1000) + " s (hub.minReprovisionIntervalSeconds)" : ""));
    logWarn("hub", describeError(error));
    client.onRejected(step.reason, step.delayMs);
    return;
  }

  client.busy = true;
  client.waitingForNetwork = waitingForNetwork;
  logWarn("hub", "retrying in " + step.delayMs + " ms (" + cause + ")");
  client.retryTimer = setTimeout(() => {
    client.retryTimer = undefined;
    client.busy = false;
    pump(client);
  }, step.delayMs);
}
