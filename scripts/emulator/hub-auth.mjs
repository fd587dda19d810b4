// Device token checks of the emulator's IoT Hub, done the way the service does them.
//
// Token: `SharedAccessSignature sr=<URL-encoded "{hub}/devices/{deviceId}">&sig=<percent-encoded Base64>&se=<epoch s>`
// with no `skn` (a key name would mean a shared access policy, not a device). The HMAC covers `sr` exactly as sent,
// LF, `se`, with the key that registered the device through DPS.
//
// Clock skew: IoT Hub rejects devices whose clock is more than 5 minutes off with 401003. The emulator cannot see the
// device clock, only `se`. So it rejects a token that has expired, which means a clock behind by more than the token
// lifetime. It also rejects a token whose expiry lies more than `maxTokenLifetimeSeconds` + 5 minutes ahead, which
// means a clock ahead by more than 5 minutes for a device that signs tokens of at most that lifetime.

import { parseSasToken, signatureMatches } from './sas-check.mjs';

/** Allowed difference between the device clock and the hub clock, in seconds (IoT Hub error 401003). */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/**
 * Checks the Authorization header of a hub request.
 *
 * @param {object} input What to check.
 * @param {string | undefined} input.authorization Authorization header value as received.
 * @param {string} input.hubHostName The emulator's hub host name; `sr` must name it (case-insensitive).
 * @param {string} input.deviceId Device ID from the request path, percent-decoded.
 * @param {string[]} input.candidateKeys Keys that may have signed the token (Base64): the device's enrollment key or
 *   the keys derived for it from the enabled enrollment groups.
 * @param {number} input.nowMs Emulator clock in ms since 1970.
 * @param {number} input.maxTokenLifetimeSeconds Longest token lifetime a device is expected to use, in seconds.
 * @returns {{ ok: true } | { ok: false, reason: string }} The reason never contains the token or a key.
 */
export function authenticateHubRequest(input) {
  const parsed = parseSasToken(input.authorization);
  if (!parsed.ok) {
    return { ok: false, reason: parsed.detail };
  }

  const token = parsed.token;
  if (token.skn !== undefined) {
    return { ok: false, reason: `the token has skn=${JSON.stringify(token.skn)}, but a device token has no key name` };
  }

  let resourceUri;
  try {
    resourceUri = decodeURIComponent(token.sr.replace(/\+/g, ' '));
  } catch {
    return { ok: false, reason: 'sr has an invalid percent-encoding' };
  }

  const expectedUri = `${input.hubHostName}/devices/${input.deviceId}`;
  const slash = resourceUri.indexOf('/');
  const hostPart = slash < 0 ? resourceUri : resourceUri.slice(0, slash);
  if (hostPart.toLowerCase() !== input.hubHostName.toLowerCase()) {
    return { ok: false, reason: `sr names the host ${JSON.stringify(hostPart)}, expected "${input.hubHostName}"` };
  }
  if (resourceUri.slice(hostPart.length) !== expectedUri.slice(input.hubHostName.length)) {
    return { ok: false, reason: `sr decodes to ${JSON.stringify(resourceUri)}, expected "${expectedUri}"` };
  }

  const expiryMs = Number(token.se) * 1000;
  if (expiryMs <= input.nowMs) {
    return {
      ok: false,
      reason: `token expired at ${new Date(expiryMs).toISOString()} (hub clock ${new Date(input.nowMs).toISOString()}); the device clock may be behind`,
    };
  }
  const latestExpiryMs = input.nowMs + (input.maxTokenLifetimeSeconds + MAX_CLOCK_SKEW_SECONDS) * 1000;
  if (expiryMs > latestExpiryMs) {
    return {
      ok: false,
      reason: `token expiry ${new Date(expiryMs).toISOString()} is more than ${input.maxTokenLifetimeSeconds} s + ${MAX_CLOCK_SKEW_SECONDS} s ahead of the hub clock; the device clock is ahead by more than 5 minutes`,
    };
  }

  if (!input.candidateKeys.some((key) => signatureMatches(token, key))) {
    return { ok: false, reason: 'signature does not match the key that registered the device' };
  }
  return { ok: true };
}
