// The emulator's IoT Hub, on the same TLS server as DPS:
//   POST   /devices/{deviceId}/messages/events?api-version=V                       telemetry -> 204
//   GET    /devices/{deviceId}/messages/deviceBound?api-version=V                  C2D receive -> 200 or 204
//   DELETE /devices/{deviceId}/messages/deviceBound/{lockToken}?api-version=V[&reject]  complete or reject -> 204
//   POST   /devices/{deviceId}/messages/deviceBound/{lockToken}/abandon?api-version=V   abandon -> 204
//
// Only devices that the emulator's DPS has assigned exist on the hub; their keys come from the enrollments. Checks run
// in this order: api-version, the outage and throttle knobs, device known (404001), token (401003), then the
// one-shot 401 knob for telemetry. Error bodies follow IoT Hub: `{errorCode, trackingId, message, timestampUtc}`.

import { deriveGroupDeviceKey, findIndividualEnrollment } from './enrollments.mjs';
import { authenticateHubRequest } from './hub-auth.mjs';
import { createCloudToDeviceQueues } from './hub-c2d.mjs';
import { createHubKnobStore } from './hub-knobs.mjs';
import { errorReply } from './responses.mjs';

/** IoT Hub api-version values the emulator accepts: those the C and Node SDKs and the REST reference use. */
export const SUPPORTED_HUB_API_VERSIONS = Object.freeze(['2016-11-14', '2020-03-13', '2020-09-30', '2021-04-12']);

const APP_PROPERTY_PREFIX = 'iothub-app-';

// IoT Hub error codes and names of the error responses the emulator sends.
const HUB_ERRORS = Object.freeze({
  badRequest: { status: 400, errorCode: 400004, name: 'ArgumentInvalid' },
  unauthorized: { status: 401, errorCode: 401003, name: 'IotHubUnauthorized' },
  deviceNotFound: { status: 404, errorCode: 404001, name: 'DeviceNotFound' },
  lockLost: { status: 412, errorCode: 412002, name: 'DeviceMessageLockLost' },
  throttled: { status: 429, errorCode: 429001, name: 'ThrottlingException' },
  unavailable: { status: 503, errorCode: 503000, name: 'ServiceUnavailable' },
});

/**
 * Creates the hub: its routes for `server.mjs`, a hook that learns assignments from DPS, and the test API.
 *
 * @param {object} context Shared emulator state.
 * @param {ReturnType<import('./enrollments.mjs').parseEnrollments>} context.enrollments Enrollment list (keys).
 * @param {string} context.hubHostName The hub's host name; tokens must name it.
 * @param {object} [context.knobs] Hub knobs at start; see `DEFAULT_HUB_KNOBS` in `hub-knobs.mjs`.
 * @param {() => number} context.monotonicMs Monotonic clock in ms, for C2D locks.
 * @returns {{ routes: object[], observeRequest(entry: object): void, api: object }} `observeRequest` gets every
 *   request log entry; DPS entries with outcome "assigned" create the device on the hub.
 * @throws {TypeError} When the knobs are invalid.
 */
export function createHub(context) {
  const knobs = createHubKnobStore(context.knobs ?? {});
  const devices = new Map();
  const received = [];
  const c2d = createCloudToDeviceQueues({
    monotonicMs: context.monotonicMs,
    getLockDurationMs: () => knobs.get().lockDurationMs,
  });

  const state = { context, knobs, devices, received, c2d };

  const routes = [
    { method: 'POST', pattern: /^\/devices\/([^/]+)\/messages\/events$/, handle: (request) => handleTelemetry(state, request) },
    { method: 'GET', pattern: /^\/devices\/([^/]+)\/messages\/deviceBound$/i, handle: (request) => handleReceive(state, request) },
    {
      method: 'DELETE',
      pattern: /^\/devices\/([^/]+)\/messages\/deviceBound\/([^/]+)$/i,
      handle: (request) => handleSettle(state, request, request.searchParams.has('reject') ? 'reject' : 'complete'),
    },
    {
      method: 'POST',
      pattern: /^\/devices\/([^/]+)\/messages\/deviceBound\/([^/]+)\/abandon$/i,
      handle: (request) => handleSettle(state, request, 'abandon'),
    },
  ];

  const api = {
    /** Sets hub knobs, e.g. `{ outage: true }`; see `hub-knobs.mjs`. */
    setKnobs: (changes) => knobs.set(changes),
    /** Returns the current hub knobs. */
    getKnobs: () => knobs.get(),
    /** Telemetry the hub accepted, oldest first, including resends (marked `duplicate: true`). */
    received,
    /** Queues a C2D message: `enqueueCloudToDevice(deviceId, { body, messageId?, properties? })`; returns its ID. */
    enqueueCloudToDevice: (deviceId, message) => c2d.enqueue(deviceId, message),
    /** Lists a device's C2D messages with their states ("queued", "locked", "completed", ...). */
    listCloudToDevice: (deviceId) => c2d.list(deviceId),
    /** Lists the devices DPS has assigned to this hub. */
    listDevices: () => [...devices.values()].map((device) => ({ deviceId: device.deviceId, registrationId: device.registrationId })),
  };

  return { routes, observeRequest: (entry) => observeDpsEntry(state, entry), api };
}

// A DPS poll that returned "assigned" creates (or keeps) the device on the hub, with the keys that may sign for it.
function observeDpsEntry(state, entry) {
  if (entry.outcome !== 'assigned' || typeof entry.registrationId !== 'string') {
    return;
  }

  const { enrollments } = state.context;
  const individual = findIndividualEnrollment(enrollments, entry.registrationId);
  if (individual !== undefined) {
    state.devices.set(individual.deviceId, {
      deviceId: individual.deviceId,
      registrationId: entry.registrationId,
      keys: [individual.primaryKey],
    });
    return;
  }

  const keys = enrollments.groups
    .filter((group) => group.enabled)
    .map((group) => deriveGroupDeviceKey(group.primaryKey, entry.registrationId));
  state.devices.set(entry.registrationId, { deviceId: entry.registrationId, registrationId: entry.registrationId, keys });
}

function hubError(kind, message, nowMs, headers = {}) {
  const error = HUB_ERRORS[kind];
  const reply = errorReply(error.status, error.errorCode, message, nowMs, { ...headers, 'iothub-errorcode': error.name });
  return reply;
}

function finish(reply, deviceId, outcome, extra = {}) {
  const record = { deviceId, outcome, ...extra };
  if (reply.trackingId !== undefined) {
    record.trackingId = reply.trackingId;
  }
  return { reply, record };
}

// Counts what the device sent: request line, headers and body, without TLS and HTTP framing overhead.
function measureRequestBytes(request, path) {
  let bytes = `${request.method} ${path} HTTP/1.1\r\n`.length + 2 + Buffer.byteLength(request.bodyText);
  for (const [name, value] of Object.entries(request.headers)) {
    bytes += name.length + 4 + String(value).length;
  }
  return bytes;
}

// Checks shared by every hub route, in order: device ID in the path, api-version, outage, throttling, device known,
// token. Returns `{ done: true, result }` when the request ends here.
function checkPreconditions(state, request) {
  const { context, knobs } = state;
  const done = (result) => ({ done: true, result });
  let deviceId;
  try {
    deviceId = decodeURIComponent(request.match[1]);
  } catch {
    return done(finish(hubError('badRequest', 'Device ID in the path has an invalid percent-encoding', request.nowMs), request.match[1], 'bad-request'));
  }

  const apiVersion = request.searchParams.get('api-version');
  if (!SUPPORTED_HUB_API_VERSIONS.includes(apiVersion)) {
    const message = `Missing or unsupported api-version ${JSON.stringify(apiVersion)}; use one of ${SUPPORTED_HUB_API_VERSIONS.join(', ')}`;
    return done(finish(hubError('badRequest', message, request.nowMs), deviceId, 'bad-request', { reason: message }));
  }

  if (knobs.get().outage) {
    return done(finish(hubError('unavailable', 'Service unavailable', request.nowMs), deviceId, 'outage', { reason: 'outage knob' }));
  }

  const retryAfterSeconds = knobs.takeThrottle();
  if (retryAfterSeconds !== undefined) {
    const reply = hubError('throttled', 'Too many requests', request.nowMs, { 'Retry-After': String(retryAfterSeconds) });
    return done(finish(reply, deviceId, 'throttled', { reason: `throttleOnce knob, Retry-After ${retryAfterSeconds} s` }));
  }

  const device = state.devices.get(deviceId);
  if (device === undefined) {
    const reply = hubError('deviceNotFound', `Device "${deviceId}" is not registered on this hub; provision it through DPS first`, request.nowMs);
    return done(finish(reply, deviceId, 'not-found', { reason: 'no DPS assignment' }));
  }

  const authentication = authenticateHubRequest({
    authorization: request.headers.authorization,
    hubHostName: context.hubHostName,
    deviceId,
    candidateKeys: device.keys,
    nowMs: request.nowMs,
    maxTokenLifetimeSeconds: knobs.get().maxTokenLifetimeSeconds,
  });
  if (!authentication.ok) {
    return done(finish(hubError('unauthorized', 'Unauthorized', request.nowMs), deviceId, 'rejected', { reason: authentication.reason }));
  }

  return { done: false, deviceId };
}

function readAppProperties(headers) {
  const properties = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(APP_PROPERTY_PREFIX)) {
      properties[name.slice(APP_PROPERTY_PREFIX.length)] = String(value);
    }
  }
  return properties;
}

function handleTelemetry(state, request) {
  const requestBytes = measureRequestBytes(request, `${request.match.input}?${request.searchParams}`);
  const preflight = checkPreconditions(state, request);
  if (preflight.done) {
    preflight.result.record.requestBytes = requestBytes;
    return preflight.result;
  }

  const { deviceId } = preflight;
  if (state.knobs.takeUnauthorized()) {
    const reply = hubError('unauthorized', 'Unauthorized', request.nowMs);
    return finish(reply, deviceId, 'rejected', { reason: 'unauthorizedOnce knob', requestBytes });
  }

  const messageId = request.headers['iothub-messageid'];
  const duplicate = messageId !== undefined &&
    state.received.some((message) => message.deviceId === deviceId && message.messageId === messageId);
  state.received.push({
    atMs: request.nowMs,
    deviceId,
    messageId,
    body: request.bodyText,
    properties: readAppProperties(request.headers),
    contentType: request.headers['iothub-contenttype'],
    contentEncoding: request.headers['iothub-contentencoding'],
    duplicate,
  });

  const reply = { status: 204, headers: {}, body: undefined };
  const label = messageId === undefined ? 'no message ID' : `message ${messageId}`;
  return finish(reply, deviceId, duplicate ? 'duplicate' : 'accepted', { reason: label, requestBytes });
}

function handleReceive(state, request) {
  const preflight = checkPreconditions(state, request);
  if (preflight.done) {
    return preflight.result;
  }

  const { deviceId } = preflight;
  const message = state.c2d.receive(deviceId);
  if (message === undefined) {
    return finish({ status: 204, headers: {}, body: undefined }, deviceId, 'empty');
  }

  const headers = {
    ETag: `"${message.lockToken}"`,
    'iothub-messageid': message.messageId,
    'iothub-to': `/devices/${encodeURIComponent(deviceId)}/messages/deviceBound`,
    'iothub-deliverycount': String(message.deliveryCount),
  };
  if (message.correlationId !== undefined) {
    headers['iothub-correlationid'] = message.correlationId;
  }
  for (const [name, value] of Object.entries(message.properties)) {
    headers[`${APP_PROPERTY_PREFIX}${name}`] = value;
  }
  return finish({ status: 200, headers, rawBody: message.body }, deviceId, 'message', { reason: `message ${message.messageId}` });
}

function handleSettle(state, request, action) {
  const preflight = checkPreconditions(state, request);
  if (preflight.done) {
    return preflight.result;
  }

  const { deviceId } = preflight;
  let lockToken;
  try {
    lockToken = decodeURIComponent(request.match[2]);
  } catch {
    return finish(hubError('badRequest', 'Lock token in the path has an invalid percent-encoding', request.nowMs), deviceId, 'bad-request');
  }

  const ifMatch = request.headers['if-match'];
  if (ifMatch !== undefined && ifMatch.replace(/^"|"$/g, '') !== lockToken) {
    const message = 'If-Match does not name the lock token in the path';
    return finish(hubError('badRequest', message, request.nowMs), deviceId, 'bad-request', { reason: message });
  }

  const result = state.c2d.settle(deviceId, lockToken, action);
  if (!result.ok) {
    return finish(hubError('lockLost', 'The message lock was lost; receive the message again', request.nowMs), deviceId, 'lock-lost', { reason: result.reason });
  }
  const outcome = { complete: 'completed', reject: 'rejected-c2d', abandon: 'abandoned' }[action];
  return finish({ status: 204, headers: {}, body: undefined }, deviceId, outcome, { reason: `message ${result.messageId}` });
}
