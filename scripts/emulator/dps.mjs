// Device registration routes of the local DPS emulator:
//   PUT /{idScope}/registrations/{registrationId}/register?api-version=V
//   GET /{idScope}/registrations/{registrationId}/operations/{operationId}?api-version=V
//
// Each handler gets a plain request object and returns `{ reply, record }`: the reply for `server.mjs` to write and
// the fields of the request log entry.

import { randomBytes, randomUUID } from 'node:crypto';
import { describeInvalidRegistrationId } from './enrollments.mjs';
import { errorReply, jsonReply } from './responses.mjs';
import { authenticateRegistration } from './registration-auth.mjs';

/** Operations kept for status lookups; the oldest are forgotten beyond this, as a long-running emulator would. */
const MAX_OPERATIONS = 1000;

/** api-version values the emulator accepts: those the Node, C and embedded-C SDKs send, and the latest GA one. */
export const SUPPORTED_API_VERSIONS = Object.freeze([
  '2018-11-01',
  '2019-03-31',
  '2021-06-01',
  '2021-10-01',
  '2025-07-01-preview',
]);

/** api-version suggested in error messages: the latest GA version of the DPS device API. */
export const RECOMMENDED_API_VERSION = '2021-10-01';

/** Largest request body DPS accepts, in bytes (96 KB). */
export const MAX_REQUEST_BODY_BYTES = 96 * 1024;

// DPS error codes are HTTP status × 1000 + n. 401002 and 400208/400209 are seen from the service; the others
// follow that rule but their exact values are the emulator's choice.
const ERROR_CODES = Object.freeze({
  unauthorized: 401002,
  badRequest: 400004,
  notFound: 404004,
  unsupportedMediaType: 415001,
  throttled: 429001,
  internalServerError: 500001,
  serviceUnavailable: 503001,
});

const FAILURE_MESSAGES = Object.freeze({
  400208: 'No IoT hub could be assigned to the device; check the hubs linked to the enrollment',
  400209: 'The device is not authorized for the assigned IoT hub',
});

/**
 * Creates the DPS route table.
 *
 * @param {object} context Shared emulator state.
 * @param {ReturnType<import('./enrollments.mjs').parseEnrollments>} context.enrollments Enrollment list.
 * @param {ReturnType<import('./knobs.mjs').createKnobStore>} context.knobs Knob store.
 * @param {() => string} context.getBaseUrl Returns the emulator's base URL, such as "https://127.0.0.1:8443".
 * @param {string} context.hubHostName Host name handed out as `assignedHub`.
 * @param {() => number} context.monotonicMs Monotonic clock in ms for assignment delays; it keeps running when the
 *   emulator clock is pinned.
 * @param {(rejection: object) => string} [context.explainRejection] Explains token rejections in plain words.
 * @returns {Array<{ method: string, pattern: RegExp, handle: (request: object) => { reply: object, record: object } }>}
 *   Routes; `pattern` groups are (idScope, registrationId[, operationId]) in percent-encoded form.
 */
export function createDpsRoutes(context) {
  const operations = new Map();

  // TODO: Device Registration Status Lookup (POST /{idScope}/registrations/{registrationId}) is not emulated and
  // gets 404.

  return [
    {
      method: 'PUT',
      pattern: /^\/([^/]+)\/registrations\/([^/]+)\/register$/,
      handle: (request) => handleRegister(context, operations, request),
    },
    {
      method: 'GET',
      pattern: /^\/([^/]+)\/registrations\/([^/]+)\/operations\/([^/]+)$/,
      handle: (request) => handleOperationStatus(context, operations, request),
    },
  ];
}

function handleRegister(context, operations, request) {
  const preflight = checkCommonPreconditions(context, request);
  if (preflight.done) {
    return preflight.result;
  }

  const { registrationId, authentication } = preflight;
  const knobs = context.knobs.get(registrationId);

  const bodyProblem = checkRegisterBody(request, registrationId);
  if (bodyProblem !== undefined) {
    return finish(bodyProblem.reply, registrationId, bodyProblem.outcome, { reason: bodyProblem.reason });
  }

  const throttleRetryAfterSeconds = context.knobs.takeThrottle(registrationId);
  if (throttleRetryAfterSeconds !== undefined) {
    const reply = errorReply(429, ERROR_CODES.throttled, 'Too many requests', request.nowMs, {
      'Retry-After': String(throttleRetryAfterSeconds),
    });
    return finish(reply, registrationId, 'throttled', { reason: 'throttleFirstPut knob' });
  }

  const operation = {
    operationId: `5.${randomBytes(8).toString('hex')}.${randomUUID()}`,
    registrationId,
    deviceId: authentication.deviceId,
    createdAtMs: request.nowMs,
    startedMonotonicMs: context.monotonicMs(),
    assignmentDelayMs: knobs.assignmentDelayMs,
    outcome: authentication.enabled ? knobs.outcome : 'disabled',
    failedErrorCode: knobs.failedErrorCode,
    etag: Buffer.from(JSON.stringify(randomUUID())).toString('base64'),
  };
  operations.set(operation.operationId, operation);
  // Keep memory bounded in long runs: a Map iterates in insertion order, so the first key is the oldest operation.
  if (operations.size > MAX_OPERATIONS) operations.delete(operations.keys().next().value);

  const location = `${context.getBaseUrl()}/${context.enrollments.idScope}/registrations/${encodeURIComponent(registrationId)}/register`;
  const reply = jsonReply(
    202,
    { operationId: operation.operationId, status: 'assigning' },
    { ...retryAfterHeader(knobs.retryAfterSeconds), Location: location },
  );
  return finish(reply, registrationId, 'assigning', { operationId: operation.operationId });
}

function handleOperationStatus(context, operations, request) {
  const preflight = checkCommonPreconditions(context, request);
  if (preflight.done) {
    return preflight.result;
  }

  const { registrationId } = preflight;
  const operationId = safeDecode(request.match[3]);
  const operation = operations.get(operationId);
  if (operation === undefined || operation.registrationId !== registrationId) {
    const reply = errorReply(404, ERROR_CODES.notFound, `Operation "${operationId}" was not found for registration "${registrationId}"; send the register PUT again`, request.nowMs);
    return finish(reply, registrationId, 'not-found', { operationId, reason: 'unknown operation ID' });
  }

  const elapsedMs = context.monotonicMs() - operation.startedMonotonicMs;
  if (elapsedMs < operation.assignmentDelayMs) {
    const knobs = context.knobs.get(registrationId);
    const reply = jsonReply(
      202,
      { operationId, status: 'assigning' },
      retryAfterHeader(knobs.retryAfterSeconds),
    );
    return finish(reply, registrationId, 'assigning', { operationId });
  }

  const reply = jsonReply(200, buildFinalStatus(context, operation));
  return finish(reply, registrationId, operation.outcome, { operationId });
}

// Checks shared by both routes, in the order the emulator applies them: path, api-version, the one-shot server
// error knob, then the token.
function checkCommonPreconditions(context, request) {
  const idScope = safeDecode(request.match[1]);
  const registrationId = safeDecode(request.match[2]);
  const done = (result) => ({ done: true, result });

  const invalidReason = registrationId === undefined ? 'has an invalid percent-encoding' : describeInvalidRegistrationId(registrationId);
  if (invalidReason !== undefined) {
    const message = `Registration ID in the path ${invalidReason}`;
    const reply = errorReply(400, ERROR_CODES.badRequest, message, request.nowMs);
    return done(finish(reply, registrationId ?? request.match[2], 'bad-request', { reason: message }));
  }

  const apiVersion = request.searchParams.get('api-version');
  if (apiVersion === null || apiVersion === '') {
    const message = `Missing query parameter "api-version"; add ?api-version=${RECOMMENDED_API_VERSION}`;
    const reply = errorReply(400, ERROR_CODES.badRequest, message, request.nowMs);
    return done(finish(reply, registrationId, 'bad-request', { reason: 'missing api-version' }));
  }

  if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) {
    const message = `Unsupported api-version "${apiVersion}"; use one of ${SUPPORTED_API_VERSIONS.join(', ')}`;
    const reply = errorReply(400, ERROR_CODES.badRequest, message, request.nowMs);
    return done(finish(reply, registrationId, 'bad-request', { reason: `unsupported api-version ${apiVersion}` }));
  }

  const serverErrorStatus = context.knobs.takeServerError(registrationId);
  if (serverErrorStatus !== undefined) {
    const reply = serverErrorStatus === 503
      ? errorReply(503, ERROR_CODES.serviceUnavailable, 'Service unavailable', request.nowMs)
      : errorReply(500, ERROR_CODES.internalServerError, 'Internal server error', request.nowMs);
    return done(finish(reply, registrationId, 'server-error', { reason: 'serverErrorOnce knob' }));
  }

  if (idScope !== context.enrollments.idScope) {
    const reply = errorReply(401, ERROR_CODES.unauthorized, 'Unauthorized', request.nowMs);
    const reason = `ID scope "${idScope}" in the path is not this emulator's ID scope "${context.enrollments.idScope}"`;
    return done(finish(reply, registrationId, 'rejected', { reason }));
  }

  const authentication = authenticateRegistration({
    authorization: request.headers.authorization,
    registrationId,
    enrollments: context.enrollments,
    nowMs: request.nowMs,
    explainRejection: context.explainRejection,
  });
  if (!authentication.ok) {
    const reply = errorReply(401, ERROR_CODES.unauthorized, 'Unauthorized', request.nowMs);
    return done(finish(reply, registrationId, 'rejected', { reason: authentication.reason }));
  }

  return { done: false, registrationId, authentication };
}

function checkRegisterBody(request, registrationId) {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    const message = `Content-Type must be application/json; got "${contentType}"`;
    return { reply: errorReply(415, ERROR_CODES.unsupportedMediaType, message, request.nowMs), outcome: 'bad-request', reason: message };
  }

  let body;
  try {
    body = JSON.parse(request.bodyText);
  } catch {
    const message = 'Request body is not valid JSON; send {"registrationId": "..."}';
    return { reply: errorReply(400, ERROR_CODES.badRequest, message, request.nowMs), outcome: 'bad-request', reason: message };
  }

  if (body === null || typeof body !== 'object' || body.registrationId !== registrationId) {
    const bodyRegistrationId = body?.registrationId;
    const message = `Body "registrationId" ${JSON.stringify(bodyRegistrationId ?? null)} does not match "${registrationId}" in the path`;
    return { reply: errorReply(400, ERROR_CODES.badRequest, message, request.nowMs), outcome: 'bad-request', reason: message };
  }

  return undefined;
}

function buildFinalStatus(context, operation) {
  const createdDateTimeUtc = new Date(operation.createdAtMs).toISOString();
  const lastUpdatedDateTimeUtc = new Date(operation.createdAtMs + operation.assignmentDelayMs).toISOString();
  const common = { registrationId: operation.registrationId, createdDateTimeUtc };

  if (operation.outcome === 'failed') {
    const registrationState = {
      ...common,
      status: 'failed',
      errorCode: operation.failedErrorCode,
      errorMessage: FAILURE_MESSAGES[operation.failedErrorCode] ?? 'Device registration failed',
      lastUpdatedDateTimeUtc,
      etag: operation.etag,
    };
    return { operationId: operation.operationId, status: 'failed', registrationState };
  }

  if (operation.outcome === 'disabled') {
    const registrationState = { ...common, status: 'disabled', lastUpdatedDateTimeUtc, etag: operation.etag };
    return { operationId: operation.operationId, status: 'disabled', registrationState };
  }

  const registrationState = {
    ...common,
    assignedHub: context.hubHostName,
    deviceId: operation.deviceId,
    status: 'assigned',
    substatus: 'initialAssignment',
    lastUpdatedDateTimeUtc,
    etag: operation.etag,
  };
  return { operationId: operation.operationId, status: 'assigned', registrationState };
}

function retryAfterHeader(retryAfterSeconds) {
  return retryAfterSeconds === null ? {} : { 'Retry-After': String(retryAfterSeconds) };
}

function finish(reply, registrationId, outcome, extra = {}) {
  const record = { registrationId, outcome, ...extra };
  if (reply.trackingId !== undefined) {
    record.trackingId = reply.trackingId;
  }
  return { reply, record };
}

function safeDecode(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
