// Parsing of IoT Hub responses to the device requests of core/hub.ts. No I/O.
//
// Responses, as the service and the local emulator send them:
//
//   204                                       telemetry accepted; C2D settled; or no C2D message waiting
//   200 ETag: "lock-1" iothub-messageid: m1   a C2D message, locked for this device for one minute
//   401 {"errorCode":401003,"trackingId":"...","message":"IotHubUnauthorized","timestampUtc":"..."}
//   404 {"errorCode":404001,...}              the device does not exist on this hub (it may have moved)
//   412 {"errorCode":412002,...}              the C2D lock expired before complete, reject or abandon
//   429 Retry-After: 5 {"errorCode":429001,...}
//   503 {"errorCode":503000,...}
//
// Older hub versions send `{"Message":"ErrorCode:IotHubUnauthorizedAccess;...","ExceptionMessage":"Tracking ID:..."}`
// instead; the parser reads the tracking ID and the error name from that form too.

import { getHeader, HttpResponseData } from "./http-types";
import { parseJsonObject, readNumber, readText } from "./json-read";
import { APP_PROPERTY_PREFIX, unquoteEtag } from "./hub";
import { parseRetryAfterSeconds } from "./retry-after";

/** A C2D message as received, with its lock token. */
export interface CloudToDeviceMessage {
  /** The lock token: the `ETag` header without quotes. Complete, reject or abandon within one minute. */
  lockToken: string;
  body: string;
  messageId: string | undefined;
  correlationId: string | undefined;
  /** Application properties, from the `iothub-app-*` headers. */
  properties: { [name: string]: string };
  /** How many times the hub has delivered this message, from `iothub-deliverycount`, when sent. */
  deliveryCount: number | undefined;
}

/** Parsed hub response. `kind` selects the variant; fields not listed for a kind are `undefined`. */
export interface HubOutcome {
  /**
   * "accepted" (204 to a send or settle), "empty" (204 to a receive), "message" (200 to a receive), "unauthorized"
   * (401), "forbidden" (403), "notFound" (404), "lockLost" (412), "throttled" (429), "serverError" (5xx),
   * "rejected" (another 4xx) or "malformed" (a response this client cannot read).
   */
  kind: string;
  httpStatus: number;
  /** The wait the service asked for, in seconds, from `Retry-After`. */
  retryAfterSeconds?: number;
  /** The hub's six-digit error code, e.g. 401003. */
  errorCode?: number;
  /** The hub's error name, e.g. "IotHubUnauthorizedAccess", from older responses or the `iothub-errorcode` header. */
  errorName?: string;
  errorMessage?: string;
  trackingId?: string;
  message?: CloudToDeviceMessage;
  /** The reason the response could not be read, for "malformed". */
  detail?: string;
}

/** Reads "Name" out of "ErrorCode:Name;more text". */
function readLegacyErrorName(message: string | undefined): string | undefined {
  if (message === undefined || message.indexOf("ErrorCode:") !== 0) return undefined;
  const end = message.indexOf(";");
  return message.substring(10, end < 0 ? message.length : end);
}

/** Reads the ID out of "Tracking ID:abc-G:3-TimeStamp:...". */
function readLegacyTrackingId(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const start = text.indexOf("Tracking ID:");
  if (start < 0) return undefined;
  const rest = text.substring(start + 12);
  const end = rest.indexOf("-G:");
  return rest.substring(0, end < 0 ? rest.length : end).trim();
}

function readErrorBody(outcome: HubOutcome, response: HttpResponseData): void {
  const json = parseJsonObject(response.body);
  if (json !== undefined) {
    outcome.errorCode = readNumber(json.errorCode);
    outcome.trackingId = readText(json.trackingId);
    outcome.errorMessage = readText(json.message);

    const legacyMessage = readText(json.Message);
    if (outcome.errorMessage === undefined) outcome.errorMessage = legacyMessage;
    outcome.errorName = readLegacyErrorName(legacyMessage);
    if (outcome.trackingId === undefined) outcome.trackingId = readLegacyTrackingId(readText(json.ExceptionMessage));
  }

  if (outcome.errorName === undefined) outcome.errorName = getHeader(response, "iothub-errorcode");
  if (outcome.errorCode === undefined) outcome.errorCode = readNumber(getHeader(response, "x-ms-error-code"));
}

/**
 * Collects the `iothub-app-*` headers of a C2D message.
 *
 * NOTE: this is the one place that walks over response header names. Espruino's parser can add one bogus entry made
 * from the start of a chunked body, and such an entry is only read when its name starts with "iothub-app-".
 */
function readAppProperties(response: HttpResponseData): { [name: string]: string } {
  const properties: { [name: string]: string } = {};
  const names = Object.keys(response.headers);
  for (let i = 0; i < names.length; i++) {
    const lowerCaseName = names[i].toLowerCase();
    if (lowerCaseName.indexOf(APP_PROPERTY_PREFIX) === 0 && lowerCaseName.length > APP_PROPERTY_PREFIX.length) {
      properties[names[i].substring(APP_PROPERTY_PREFIX.length)] = String(response.headers[names[i]]);
    }
  }
  return properties;
}

function readCloudToDeviceMessage(outcome: HubOutcome, response: HttpResponseData): HubOutcome {
  const etag = getHeader(response, "etag");
  if (etag === undefined || unquoteEtag(etag).length === 0) {
    outcome.kind = "malformed";
    outcome.detail = "a C2D message without an ETag header, so it cannot be completed";
    return outcome;
  }

  outcome.kind = "message";
  outcome.message = {
    lockToken: unquoteEtag(etag),
    body: response.body,
    messageId: getHeader(response, "iothub-messageid"),
    correlationId: getHeader(response, "iothub-correlationid"),
    properties: readAppProperties(response),
    deliveryCount: readNumber(getHeader(response, "iothub-deliverycount")),
  };
  return outcome;
}

/**
 * Turns a hub response into a typed outcome.
 *
 * @param response The complete response; header names in any case.
 * @param request "send" (telemetry), "receive" (C2D poll) or "settle" (complete, reject or abandon).
 * @param nowEpochMs The device clock in ms since 1970, for a `Retry-After` given as an HTTP date.
 * @returns The outcome, with `retryAfterSeconds` whenever the response carried a usable `Retry-After`, and the error
 *   code, name and tracking ID of an error response.
 */
export function parseHubResponse(response: HttpResponseData, request: string, nowEpochMs: number): HubOutcome {
  const status = response.status;
  const outcome: HubOutcome = { kind: "malformed", httpStatus: status };
  outcome.retryAfterSeconds = parseRetryAfterSeconds(getHeader(response, "retry-after"), getHeader(response, "date"),
    nowEpochMs);

  if (status === 204 || (status === 200 && request !== "receive")) {
    outcome.kind = request === "receive" ? "empty" : "accepted";
    return outcome;
  }
  if (status === 200) return readCloudToDeviceMessage(outcome, response);

  readErrorBody(outcome, response);
  if (status === 401) outcome.kind = "unauthorized";
  else if (status === 403) outcome.kind = "forbidden";
  else if (status === 404) outcome.kind = "notFound";
  else if (status === 412) outcome.kind = "lockLost";
  else if (status === 429) outcome.kind = "throttled";
  else if (status >= 500 && status <= 599) outcome.kind = "serverError";
  else if (status >= 400 && status <= 499) outcome.kind = "rejected";
  else outcome.detail = "unexpected HTTP status " + status;
  return outcome;
}

/**
 * Formats an outcome for a log line: status, kind, error code or name, and tracking ID. Never a secret.
 *
 * @param outcome From `parseHubResponse`.
 * @returns e.g. "HTTP 401 unauthorized (errorCode 401003, trackingId 8d5c...)".
 */
export function describeHubOutcome(outcome: HubOutcome): string {
  const details: string[] = [];
  if (outcome.errorCode !== undefined) details.push("errorCode " + outcome.errorCode);
  else if (outcome.errorName !== undefined) details.push("error " + outcome.errorName);
  if (outcome.retryAfterSeconds !== undefined) details.push("Retry-After " + outcome.retryAfterSeconds + " s");
  if (outcome.trackingId !== undefined) details.push("trackingId " + outcome.trackingId);
  if (outcome.detail !== undefined) details.push(outcome.detail);
  return "HTTP " + outcome.httpStatus + " " + outcome.kind + (details.length > 0 ? " (" + details.join(", ") + ")" : "");
}
