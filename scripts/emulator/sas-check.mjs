// SAS token checks of the local DPS emulator, done the way the service does them.
//
// Token: `SharedAccessSignature sr=<resource URI>&sig=<percent-encoded Base64>&se=<epoch seconds>&skn=registration`,
// parameters in any order. The HMAC-SHA256 covers `<sr exactly as sent>` + LF + `<se>`, so an upper-case `%2F`,
// a lower-case `%2f` and a raw `/` in `sr` all verify when the client signed what it sent. The percent-decoded
// `sr` must then name `{idScope}/registrations/{registrationId}`.
//
// HMACs are computed with Node's `crypto` here so that the emulator stays an oracle independent of the firmware signer.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Scheme word that starts the Authorization header value. */
export const SAS_SCHEME = 'SharedAccessSignature';

/** Key name that device registration tokens carry in `skn`. */
export const REGISTRATION_KEY_NAME = 'registration';

/** Reasons a token is rejected; `explainRejection` receives one of these as `problem`. */
export const REJECTION_PROBLEMS = Object.freeze({
  missingHeader: 'missing-header',
  malformed: 'malformed',
  wrongKeyName: 'wrong-key-name',
  wrongResource: 'wrong-resource',
  expired: 'expired',
  signatureMismatch: 'signature-mismatch',
  unknownRegistration: 'unknown-registration',
});

/**
 * Parses the value of an Authorization header into SAS token fields.
 *
 * @param {string | undefined} headerValue Authorization header value as received.
 * @returns {{ ok: true, token: { sr: string, sig: string, signatureSent: string, se: string, skn: string | undefined, parameterOrder: string[] } }
 *   | { ok: false, problem: string, detail: string }}
 *   `sr` is exactly as sent, `sig` is percent-decoded once (a raw `+` becomes a space) and `signatureSent` is as sent.
 *   On failure, `detail` describes the problem in words that contain no secret.
 */
export function parseSasToken(headerValue) {
  if (headerValue === undefined || headerValue.length === 0) {
    return { ok: false, problem: REJECTION_PROBLEMS.missingHeader, detail: 'the Authorization header is missing' };
  }

  const prefix = `${SAS_SCHEME} `;
  if (!headerValue.startsWith(prefix)) {
    return {
      ok: false,
      problem: REJECTION_PROBLEMS.malformed,
      detail: `the Authorization header does not start with "${prefix}"`,
    };
  }

  const fields = new Map();
  const parameterOrder = [];
  for (const parameter of headerValue.slice(prefix.length).split('&')) {
    const equalsIndex = parameter.indexOf('=');
    if (equalsIndex <= 0) {
      return { ok: false, problem: REJECTION_PROBLEMS.malformed, detail: 'the token has a parameter without "name=value"' };
    }

    const name = parameter.slice(0, equalsIndex);
    if (fields.has(name)) {
      return { ok: false, problem: REJECTION_PROBLEMS.malformed, detail: `the token has parameter "${name}" twice` };
    }

    fields.set(name, parameter.slice(equalsIndex + 1));
    parameterOrder.push(name);
  }

  for (const requiredName of ['sr', 'sig', 'se']) {
    if (!fields.get(requiredName)) {
      return { ok: false, problem: REJECTION_PROBLEMS.malformed, detail: `the token has no "${requiredName}" parameter` };
    }
  }

  const se = fields.get('se');
  if (!/^[0-9]+$/.test(se)) {
    return {
      ok: false,
      problem: REJECTION_PROBLEMS.malformed,
      detail: `"se" must be whole seconds since 1970 in decimal digits; got ${JSON.stringify(se)}`,
    };
  }

  const signatureSent = fields.get('sig');
  const sig = decodeQueryValue(signatureSent);
  if (sig === undefined) {
    return { ok: false, problem: REJECTION_PROBLEMS.malformed, detail: '"sig" has an invalid percent-encoding' };
  }

  return {
    ok: true,
    token: { sr: fields.get('sr'), sig, signatureSent, se, skn: fields.get('skn'), parameterOrder },
  };
}

/**
 * Computes a DPS token signature the way the service verifies it.
 *
 * @param {string} keyBase64 Device key (individual) or derived device key (group), standard Base64.
 * @param {string} resourceUriAsSent The `sr` value exactly as it appears in the token.
 * @param {string} expiryEpochSeconds The `se` value, decimal seconds since 1970.
 * @returns {string} Standard Base64 of HMAC-SHA256(base64decode(key), sr + LF + se).
 */
export function computeSasSignature(keyBase64, resourceUriAsSent, expiryEpochSeconds) {
  const keyBytes = Buffer.from(keyBase64, 'base64');
  return createHmac('sha256', keyBytes).update(`${resourceUriAsSent}\n${expiryEpochSeconds}`, 'utf8').digest('base64');
}

/**
 * Tells whether a parsed token's signature was made with a key.
 *
 * @param {{ sr: string, se: string, sig: string }} token Parsed token from `parseSasToken`.
 * @param {string} keyBase64 Candidate key, standard Base64.
 * @returns {boolean} True when the decoded `sig` equals the HMAC over the `sr` and `se` as sent.
 */
export function signatureMatches(token, keyBase64) {
  const expected = Buffer.from(computeSasSignature(keyBase64, token.sr, token.se), 'utf8');
  const received = Buffer.from(token.sig, 'utf8');
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/**
 * Checks the parts of a token that do not depend on the key: key name, resource URI and expiry.
 *
 * @param {{ sr: string, se: string, skn: string | undefined }} token Parsed token from `parseSasToken`.
 * @param {{ idScope: string, registrationId: string, nowMs: number }} expected ID scope and registration ID of the
 *   request path, and the emulator clock in ms since 1970.
 * @returns {{ ok: true } | { ok: false, problem: string }} The first problem found.
 */
export function checkTokenClaims(token, expected) {
  // NOTE: whether DPS requires `skn` is not documented; the emulator requires `skn=registration` as the docs show it.
  if (token.skn !== REGISTRATION_KEY_NAME) {
    return { ok: false, problem: REJECTION_PROBLEMS.wrongKeyName };
  }

  const decodedResourceUri = decodeQueryValue(token.sr);
  if (decodedResourceUri !== `${expected.idScope}/registrations/${expected.registrationId}`) {
    return { ok: false, problem: REJECTION_PROBLEMS.wrongResource };
  }

  if (Number(token.se) * 1000 <= expected.nowMs) {
    return { ok: false, problem: REJECTION_PROBLEMS.expired };
  }

  return { ok: true };
}

/**
 * Explains a token rejection in a few plain words, without any secret.
 *
 * @param {{ problem: string, detail?: string, token?: { sr: string, se: string, skn: string | undefined },
 *   expected: { idScope: string, registrationId: string, nowMs: number }, enrollment?: object }} rejection
 *   What failed, the parsed token when there is one, and the values the emulator expected.
 * @returns {string} A short reason such as "signature does not match" or "token expired at <ISO time>".
 */
export function explainRejectionBriefly(rejection) {
  const { problem, token, expected } = rejection;
  const resourceUri = `${expected.idScope}/registrations/${expected.registrationId}`;

  switch (problem) {
    case REJECTION_PROBLEMS.missingHeader:
    case REJECTION_PROBLEMS.malformed:
      return rejection.detail ?? 'the token is malformed';
    case REJECTION_PROBLEMS.wrongKeyName:
      return `skn is ${JSON.stringify(token.skn ?? null)}, expected "${REGISTRATION_KEY_NAME}"`;
    case REJECTION_PROBLEMS.wrongResource:
      return describeWrongResource(token.sr, expected, resourceUri);
    case REJECTION_PROBLEMS.expired:
      return `token expired at ${new Date(Number(token.se) * 1000).toISOString()} (emulator clock ${new Date(expected.nowMs).toISOString()})`;
    case REJECTION_PROBLEMS.signatureMismatch:
      return 'signature does not match';
    case REJECTION_PROBLEMS.unknownRegistration:
      return `no enrollment accepts registration ID "${expected.registrationId}"`;
    default:
      return `token rejected (${problem})`;
  }
}

function describeWrongResource(resourceUriAsSent, expected, resourceUri) {
  const decoded = decodeQueryValue(resourceUriAsSent);
  if (decoded === undefined) {
    return 'sr has an invalid percent-encoding';
  }

  const match = /^([^/]*)\/registrations\/(.*)$/.exec(decoded);
  if (match === null) {
    return `sr decodes to ${JSON.stringify(decoded)}, expected "${resourceUri}"`;
  }

  if (match[1] !== expected.idScope) {
    return `sr names another ID scope (${JSON.stringify(match[1])}, expected "${expected.idScope}")`;
  }

  return `sr names another registration (${JSON.stringify(match[2])}, expected "${expected.registrationId}")`;
}

// Decodes one value of a query-like string once: `+` becomes a space, then `%XX` escapes are decoded.
function decodeQueryValue(value) {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
