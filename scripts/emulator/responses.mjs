// Response shapes shared by the emulator's routes: JSON replies and the Azure error body.
//
// Route handlers return plain reply objects; `server.mjs` writes them, adding `Date` (from the emulator clock),
// `Content-Type` and `Content-Length`.

import { randomUUID } from 'node:crypto';

/**
 * Builds a JSON reply.
 *
 * @param {number} status HTTP status code.
 * @param {object} body Object to send as JSON.
 * @param {Record<string, string>} [headers] Extra response headers.
 * @returns {{ status: number, headers: Record<string, string>, body: object }} The reply.
 */
export function jsonReply(status, body, headers = {}) {
  return { status, headers, body };
}

/**
 * Builds an error reply with the body DPS uses (`ProvisioningServiceErrorDetails`) and the `x-ms-error-code` header.
 *
 * @param {number} status HTTP status code.
 * @param {number} errorCode Six-digit Azure error code, HTTP status × 1000 + n, such as 401002.
 * @param {string} message Message for the client, such as "Unauthorized"; it must contain no secret.
 * @param {number} nowMs Emulator clock in ms since 1970, for `timestampUtc`.
 * @param {Record<string, string>} [headers] Extra response headers, such as `Retry-After`.
 * @returns {{ status: number, headers: Record<string, string>, body: object, trackingId: string }} The reply and the
 *   tracking ID it carries.
 */
export function errorReply(status, errorCode, message, nowMs, headers = {}) {
  const trackingId = randomUUID();
  const body = { errorCode, trackingId, message, timestampUtc: new Date(nowMs).toISOString() };
  return { status, headers: { ...headers, 'x-ms-error-code': String(errorCode) }, body, trackingId };
}
