// IoT Hub device API over HTTPS: request builders for telemetry and cloud-to-device (C2D) messages. No I/O.
//
// Example exchange, as the service and the local emulator send it:
//
//   POST /devices/sensor-01/messages/events?api-version=2021-04-12
//   iothub-messageid: 5f3a.2.17   iothub-contenttype: application/json   iothub-app-source: demo
//   <- 204
//   GET /devices/sensor-01/messages/deviceBound?api-version=2021-04-12
//   <- 200 ETag: "9c1b2f1e-6a43-4c9e-b8c1-3f0e8f0a9d11"   iothub-messageid: cmd-1   body: {"led":"on"}
//   DELETE /devices/sensor-01/messages/deviceBound/9c1b2f1e-6a43-4c9e-b8c1-3f0e8f0a9d11?api-version=2021-04-12
//   <- 204

import { createError, DeviceError, ErrorCode } from "./errors";
import { HttpRequestSpec } from "./http-types";

/** Error code of a telemetry message that the hub could not accept as built, e.g. a property with a space. */
export const MESSAGE_INVALID = ErrorCode.messageInvalid;

/** Prefix of the HTTP header that carries one application property of a message. */
export const APP_PROPERTY_PREFIX = "iothub-app-";

/** Largest message the hub accepts, in bytes: body, system property values and application properties together. */
export const MAX_HUB_MESSAGE_BYTES = 262144;

// Characters IoT Hub allows in property names and values sent over HTTPS, besides ASCII letters and digits.
const PROPERTY_PUNCTUATION = "!#$%&'*+-.^_`|~";

/** Target hub, device and api-version of hub requests. */
export interface HubRequestOptions {
  /** The assigned hub, e.g. "example-hub.azure-devices.net". */
  hubHostName: string;
  /** The device ID that DPS returned. */
  deviceId: string;
  /** IoT Hub REST api-version, e.g. "2021-04-12". */
  apiVersion: string;
}

/** One device-to-cloud message. */
export interface TelemetryMessage {
  /** Message body as a binary string (UTF-8 bytes for JSON). */
  body: string;
  /** `iothub-messageid`: stays the same when the message is sent again, so the receiver can drop the copy. */
  messageId: string;
  /** `iothub-contenttype`, e.g. "application/json", or `undefined` to leave it out. */
  contentType: string | undefined;
  /** `iothub-contentencoding`, e.g. "utf-8", or `undefined` to leave it out. */
  contentEncoding: string | undefined;
  /** Application properties by name; each becomes an `iothub-app-{name}` header. */
  properties: { [name: string]: string } | undefined;
}

function isPropertyCharacter(c: string): boolean {
  if (c >= "a" && c <= "z") return true;
  if (c >= "A" && c <= "Z") return true;
  if (c >= "0" && c <= "9") return true;
  return PROPERTY_PUNCTUATION.indexOf(c) >= 0;
}

/**
 * Finds why a text cannot be a message property name or value over HTTPS.
 *
 * IoT Hub allows ASCII letters, digits and ``! # $ % & ' * + - . ^ _ ` | ~`` in property names and values sent over
 * HTTPS; anything else (spaces, `:`, `/`, non-ASCII) must be left out or encoded by the application first.
 *
 * @param text A property name or value.
 * @returns `undefined` when the text is allowed, otherwise the reason in plain words.
 */
export function findPropertyTextProblem(text: any): string | undefined {
  if (typeof text !== "string") return "is a " + (text === null ? "null" : typeof text) + ", not a string";
  if (text.length === 0) return "is empty";

  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (!isPropertyCharacter(c)) {
      return "contains " + JSON.stringify(c) + " at position " + (i + 1) + "; HTTPS allows only ASCII letters, digits " +
        "and " + PROPERTY_PUNCTUATION;
    }
  }
  return undefined;
}

/**
 * Checks every property and the message ID of a message before it is queued or sent.
 *
 * @param message The message to check.
 * @returns `undefined` when the message can be sent, otherwise a `MESSAGE_INVALID` error naming the property.
 */
export function findMessageProblem(message: TelemetryMessage): DeviceError | undefined {
  const idProblem = findPropertyTextProblem(message.messageId);
  if (idProblem !== undefined) {
    return createError(MESSAGE_INVALID, "The message ID " + JSON.stringify(message.messageId) + " " + idProblem,
      { field: "messageId" });
  }

  const properties = message.properties;
  if (properties === undefined) return undefined;
  const names = Object.keys(properties);
  for (let i = 0; i < names.length; i++) {
    const nameProblem = findPropertyTextProblem(names[i]);
    if (nameProblem !== undefined) {
      return createError(MESSAGE_INVALID, "The property name " + JSON.stringify(names[i]) + " " + nameProblem +
        ". Rename the property", { field: "properties" });
    }
    const valueProblem = findPropertyTextProblem(properties[names[i]]);
    if (valueProblem !== undefined) {
      return createError(MESSAGE_INVALID, "The value of property \"" + names[i] + "\" " + valueProblem +
        ". Send such data in the message body instead", { field: "properties." + names[i] });
    }
  }
  return undefined;
}

/** Builds "?api-version=V". */
function createQuery(apiVersion: string): string {
  return "?api-version=" + encodeURIComponent(apiVersion);
}

/** Builds "/devices/{deviceId}/messages". */
function createMessagesPath(options: HubRequestOptions): string {
  return "/devices/" + encodeURIComponent(options.deviceId) + "/messages";
}

/**
 * Removes the quotes around an entity tag, as the hub sends it in the `ETag` header of a C2D message.
 *
 * @param etag e.g. "\"9c1b2f1e-...\"" or an already unquoted value.
 * @returns The lock token without quotes, e.g. "9c1b2f1e-...".
 */
export function unquoteEtag(etag: string): string {
  let value = etag.trim();
  if (value.indexOf("W/") === 0) value = value.substring(2);
  if (value.length >= 2 && value.charAt(0) === "\"" && value.charAt(value.length - 1) === "\"") {
    value = value.substring(1, value.length - 1);
  }
  return value;
}

/**
 * Builds the Send Device Event request.
 *
 * @param options Hub, device ID and api-version.
 * @param message Body, message ID, content type and encoding, and application properties.
 * @param authorization The hub SAS token from `createHubSasToken`.
 * @returns `POST /devices/{deviceId}/messages/events?api-version=V`; the hub returns 204.
 * @throws DeviceError `MESSAGE_INVALID` when the message ID or a property breaks the HTTPS character rules.
 * @example
 *   buildTelemetryRequest({ hubHostName: "example-hub.azure-devices.net", deviceId: "sensor-01",
 *     apiVersion: "2021-04-12" }, { body: "{\"t\":21.5}", messageId: "5f3a.2.17", contentType: "application/json",
 *     contentEncoding: "utf-8", properties: { source: "demo" } }, token)
 */
export function buildTelemetryRequest(options: HubRequestOptions, message: TelemetryMessage,
  authorization: string): HttpRequestSpec {
  const problem = findMessageProblem(message);
  if (problem !== undefined) throw problem;

  const headers: { [name: string]: string } = {
    "Authorization": authorization,
    "iothub-to": "/devices/" + encodeURIComponent(options.deviceId) + "/messages/events",
    "iothub-messageid": message.messageId,
  };
  if (message.contentType !== undefined) headers["iothub-contenttype"] = message.contentType;
  if (message.contentEncoding !== undefined) headers["iothub-contentencoding"] = message.contentEncoding;
  if (message.contentType !== undefined) headers["Content-Type"] = message.contentType;

  if (message.properties !== undefined) {
    const names = Object.keys(message.properties);
    for (let i = 0; i < names.length; i++) headers[APP_PROPERTY_PREFIX + names[i]] = message.properties[names[i]];
  }

  return {
    method: "POST",
    path: createMessagesPath(options) + "/events" + createQuery(options.apiVersion),
    headers: headers,
    body: message.body,
  };
}

/**
 * Builds the Receive Device Bound Notification request: one C2D message, locked for the device, or none.
 *
 * @param options Hub, device ID and api-version.
 * @param authorization The hub SAS token.
 * @returns `GET /devices/{deviceId}/messages/deviceBound?api-version=V`; the hub returns 200 with a message or 204.
 */
export function buildReceiveRequest(options: HubRequestOptions, authorization: string): HttpRequestSpec {
  return {
    method: "GET",
    path: createMessagesPath(options) + "/deviceBound" + createQuery(options.apiVersion),
    headers: { "Authorization": authorization },
    body: undefined,
  };
}

/**
 * Builds the request that settles a received C2D message.
 *
 * "complete" removes the message from the device queue, "reject" moves it to the dead-letter state, and "abandon"
 * puts it back so that a later poll receives it again. The lock token goes unquoted into the path and `If-Match`,
 * as the official Node SDK sends it.
 *
 * @param options Hub, device ID and api-version.
 * @param etag The message's `ETag`, quoted or not.
 * @param action "complete", "reject" or "abandon".
 * @param authorization The hub SAS token.
 * @returns `DELETE .../deviceBound/{etag}`, `DELETE .../deviceBound/{etag}?...&reject` or
 *   `POST .../deviceBound/{etag}/abandon`; the hub returns 204, or 412 (errorCode 412002) when the lock expired.
 * @throws Error when `action` is not one of the three.
 */
export function buildSettleRequest(options: HubRequestOptions, etag: string, action: string,
  authorization: string): HttpRequestSpec {
  const lockToken = unquoteEtag(etag);
  const messagePath = createMessagesPath(options) + "/deviceBound/" + encodeURIComponent(lockToken);
  const headers = { "Authorization": authorization, "If-Match": lockToken };

  if (action === "complete") {
    return { method: "DELETE", path: messagePath + createQuery(options.apiVersion), headers: headers, body: undefined };
  }
  if (action === "reject") {
    return {
      method: "DELETE",
      path: messagePath + createQuery(options.apiVersion) + "&reject",
      headers: headers,
      body: undefined,
    };
  }
  if (action === "abandon") {
    return {
      method: "POST",
      path: messagePath + "/abandon" + createQuery(options.apiVersion),
      headers: headers,
      body: "",
    };
  }
  throw new Error("Invalid C2D settle action " + JSON.stringify(action) + "; use \"complete\", \"reject\" or \"abandon\"");
}
