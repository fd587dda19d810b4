// DPS device registration over HTTPS: request builders and the response parser. No I/O.
//
// Example flow, as the service and the local emulator send it:
//
//   PUT /0ne000A1B2C/registrations/sensor-01/register?api-version=2021-10-01
//   <- 202 Retry-After: 3
//      {"operationId":"5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550","status":"assigning"}
//   GET /0ne000A1B2C/registrations/sensor-01/operations/5.316aac5bdc130deb.b1e02da8-...?api-version=2021-10-01
//   <- 200 {"operationId":"5.316...","status":"assigned","registrationState":{"registrationId":"sensor-01",
//      "assignedHub":"example-hub.azure-devices.net","deviceId":"sensor-01","status":"assigned",...}}
//
// A bad token gets this response:
//   <- 401 {"errorCode":401002,"trackingId":"8d5c7e6a-...","message":"Unauthorized","timestampUtc":"2026-..."}

import { getHeader, HttpRequestSpec, HttpResponseData } from "./http-types";
import { parseJsonObject, readNumber, readText } from "./json-read";
import { parseRetryAfterSeconds } from "./retry-after";

/** What a device sends to DPS, besides the token. */
export interface DpsRequestOptions {
  idScope: string;
  registrationId: string;
  apiVersion: string;
  /** Custom registration data, e.g. `{ modelId: "dtmi:com:example:Thermostat;1" }`, or `undefined`. */
  payload: any;
}

/** Parsed DPS response. `kind` selects the variant; fields not listed for a kind are `undefined`. */
export interface DpsOutcome {
  /**
   * "assigning", "assigned", "failed", "disabled", "unauthorized", "throttled", "serverError", "rejected" (another
   * 4xx), "unknownStatus" (a status this client does not know) or "malformed" (a body that cannot be read).
   */
  kind: string;
  /** HTTP status of the response. */
  httpStatus: number;
  operationId?: string;
  /** The wait the service asked for, in seconds, from `Retry-After`. */
  retryAfterSeconds?: number;
  assignedHub?: string;
  deviceId?: string;
  substatus?: string;
  /** The service's six-digit error code, from the error body or `registrationState.errorCode`. */
  errorCode?: number;
  errorMessage?: string;
  trackingId?: string;
  /** The unknown `status` value for "unknownStatus", or why the body was unreadable for "malformed". */
  detail?: string;
}

function createQuery(apiVersion: string): string {
  return "?api-version=" + encodeURIComponent(apiVersion);
}

function createRegistrationPath(options: DpsRequestOptions): string {
  return "/" + encodeURIComponent(options.idScope) + "/registrations/" + encodeURIComponent(options.registrationId);
}

/**
 * Builds the Register Device request.
 *
 * @param options ID scope, registration ID, api-version and optional payload.
 * @param authorization The DPS SAS token.
 * @returns `PUT /{idScope}/registrations/{registrationId}/register?api-version=...` with a JSON body.
 */
export function buildRegisterRequest(options: DpsRequestOptions, authorization: string): HttpRequestSpec {
  const body: any = { registrationId: options.registrationId };
  if (options.payload !== undefined) body.payload = options.payload;

  return {
    method: "PUT",
    path: createRegistrationPath(options) + "/register" + createQuery(options.apiVersion),
    headers: {
      "Authorization": authorization,
      "Content-Type": "application/json; charset=utf-8",
      "Accept": "application/json",
    },
    body: JSON.stringify(body),
  };
}

/**
 * Builds the Operation Status Lookup request.
 *
 * @param options ID scope, registration ID and api-version.
 * @param operationId The `operationId` from the register response.
 * @param authorization The DPS SAS token.
 * @returns `GET /{idScope}/registrations/{registrationId}/operations/{operationId}?api-version=...`.
 */
export function buildOperationStatusRequest(
  options: DpsRequestOptions,
  operationId: string,
  authorization: string
): HttpRequestSpec {
  return {
    method: "GET",
    path: createRegistrationPath(options) + "/operations/" + encodeURIComponent(operationId) +
      createQuery(options.apiVersion),
    headers: { "Authorization": authorization, "Accept": "application/json" },
    body: undefined,
  };
}

function parseOperationStatus(outcome: DpsOutcome, json: any): DpsOutcome {
  const status = readText(json.status);
  const state = json.registrationState !== null && typeof json.registrationState === "object"
    ? json.registrationState : {};
  outcome.operationId = readText(json.operationId);

  if (status === "assigning" || status === "unassigned") {
    if (outcome.operationId === undefined) {
      outcome.kind = "malformed";
      outcome.detail = "status \"" + status + "\" without an operationId";
      return outcome;
    }
    outcome.kind = "assigning";
    return outcome;
  }

  if (status === "assigned") {
    outcome.assignedHub = readText(state.assignedHub);
    outcome.deviceId = readText(state.deviceId);
    outcome.substatus = readText(state.substatus);
    if (outcome.assignedHub === undefined || outcome.deviceId === undefined) {
      outcome.kind = "malformed";
      outcome.detail = "status \"assigned\" without both registrationState.assignedHub and registrationState.deviceId";
      return outcome;
    }
    outcome.kind = "assigned";
    return outcome;
  }

  if (status === "failed" || status === "disabled") {
    outcome.kind = status;
    outcome.errorCode = readNumber(state.errorCode);
    outcome.errorMessage = readText(state.errorMessage);
    return outcome;
  }

  outcome.kind = status === undefined ? "malformed" : "unknownStatus";
  outcome.detail = status === undefined ? "no \"status\" field in the response" : status;
  return outcome;
}

/**
 * Turns a DPS response to a register or poll request into a typed outcome.
 *
 * "assigned" is only returned when both `assignedHub` and `deviceId` are present; otherwise the response is
 * "malformed". Unknown `status` values (the C SDK has met "blacklisted") are "unknownStatus", never "assigning".
 *
 * @param response The complete response; header names in any case.
 * @param nowEpochMs The device clock in ms since 1970, for a `Retry-After` given as an HTTP date.
 * @returns The outcome, with `retryAfterSeconds` whenever the response carried a usable `Retry-After`.
 */
export function parseDpsResponse(response: HttpResponseData, nowEpochMs: number): DpsOutcome {
  const outcome: DpsOutcome = { kind: "malformed", httpStatus: response.status };
  outcome.retryAfterSeconds = parseRetryAfterSeconds(getHeader(response, "retry-after"), getHeader(response, "date"),
    nowEpochMs);

  const json = parseJsonObject(response.body);
  const status = response.status;

  if (status === 200 || status === 202) {
    if (json === undefined) {
      outcome.detail = "HTTP " + status + " with a body that is not a JSON object";
      return outcome;
    }
    return parseOperationStatus(outcome, json);
  }

  // Error responses carry ProvisioningServiceErrorDetails: errorCode, trackingId, message.
  if (json !== undefined) {
    outcome.errorCode = readNumber(json.errorCode);
    outcome.trackingId = readText(json.trackingId);
    outcome.errorMessage = readText(json.message);
  }
  if (outcome.errorCode === undefined) outcome.errorCode = readNumber(getHeader(response, "x-ms-error-code"));

  if (status === 401) outcome.kind = "unauthorized";
  else if (status === 429) outcome.kind = "throttled";
  else if (status >= 500 && status <= 599) outcome.kind = "serverError";
  else if (status >= 400 && status <= 499) outcome.kind = "rejected";
  else outcome.detail = "unexpected HTTP status " + status;
  return outcome;
}
