// Authentication of a device registration request against the enrollment list.
//
// An individual enrollment with the path's registration ID wins. Otherwise the registration belongs to the first
// enabled group whose derived key verifies the token; a disabled group that verifies it makes the registration
// disabled. This follows DPS, where disabling an individual enrollment blocks the device even if a group would accept it.

import { deriveGroupDeviceKey, findIndividualEnrollment } from './enrollments.mjs';
import {
  REJECTION_PROBLEMS,
  checkTokenClaims,
  explainRejectionBriefly,
  parseSasToken,
  signatureMatches,
} from './sas-check.mjs';

/**
 * Authenticates the Authorization header of a request for one registration.
 *
 * @param {object} input What to check.
 * @param {string | undefined} input.authorization Authorization header value as received.
 * @param {string} input.registrationId Registration ID from the request path, percent-decoded.
 * @param {ReturnType<import('./enrollments.mjs').parseEnrollments>} input.enrollments Enrollment list; its `idScope`
 *   is the scope the token must name.
 * @param {number} input.nowMs Emulator clock, ms since 1970.
 * @param {(rejection: object) => string} [input.explainRejection] Turns a rejection into plain words; receives
 *   `{ problem, detail, token, expected, enrollment, candidates }` and must return text without any secret.
 *   Defaults to `explainRejectionBriefly`.
 * @returns {{ ok: true, deviceId: string, enabled: boolean, enrollmentGroupId?: string }
 *   | { ok: false, problem: string, reason: string }} The matching enrollment's device ID and state, or why the
 *   token was rejected.
 */
export function authenticateRegistration(input) {
  const { authorization, registrationId, enrollments, nowMs } = input;
  const explainRejection = input.explainRejection ?? explainRejectionBriefly;
  const expected = {
    idScope: enrollments.idScope,
    registrationId,
    resourceUri: `${enrollments.idScope}/registrations/${registrationId}`,
    nowMs,
  };

  const reject = (rejection) => ({
    ok: false,
    problem: rejection.problem,
    reason: explainSafely(explainRejection, { ...rejection, expected }),
  });

  const parsed = parseSasToken(authorization);
  if (!parsed.ok) {
    return reject({ problem: parsed.problem, detail: parsed.detail });
  }

  const token = parsed.token;
  const individual = findIndividualEnrollment(enrollments, registrationId);

  const claims = checkTokenClaims(token, expected);
  if (!claims.ok) {
    return reject({ problem: claims.problem, token, enrollment: individual });
  }

  if (individual !== undefined) {
    if (!signatureMatches(token, individual.primaryKey)) {
      return reject({ problem: REJECTION_PROBLEMS.signatureMismatch, token, enrollment: individual });
    }
    return { ok: true, deviceId: individual.deviceId, enabled: individual.enabled };
  }

  if (enrollments.groups.length === 0) {
    return reject({ problem: REJECTION_PROBLEMS.unknownRegistration, token });
  }

  const groupsEnabledFirst = [
    ...enrollments.groups.filter((group) => group.enabled),
    ...enrollments.groups.filter((group) => !group.enabled),
  ];
  const group = groupsEnabledFirst.find((candidate) =>
    signatureMatches(token, deriveGroupDeviceKey(candidate.primaryKey, registrationId)),
  );
  if (group === undefined) {
    return reject({ problem: REJECTION_PROBLEMS.signatureMismatch, token, candidates: enrollments.groups });
  }

  // Devices of a group get their registration ID as device ID.
  return { ok: true, deviceId: registrationId, enabled: group.enabled, enrollmentGroupId: group.enrollmentGroupId };
}

// A custom explainer that throws must not turn a 401 into a 500, so its failure becomes part of the short reason.
function explainSafely(explainRejection, rejection) {
  try {
    return String(explainRejection(rejection));
  } catch (error) {
    return `${explainRejectionBriefly(rejection)} (explainRejection failed: ${error.message})`;
  }
}
