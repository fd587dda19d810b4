// Adapter from the DPS emulator's token rejections to `diagnoseDpsToken`, for its `explainRejection` option.

import { diagnoseDpsToken } from "./diagnose.mjs";

/**
 * Explains why the emulator rejected a registration token, naming the signing mistake when one reproduces it.
 *
 * Pass it to the emulator as `explainRejection`. It rebuilds the token from the parsed parts the emulator received
 * and diagnoses it with the key of the individual enrollment, or else of each candidate enrollment group.
 *
 * @param {object} rejection What the emulator passes to `explainRejection`.
 * @param {string} rejection.problem The emulator's short rejection code, e.g. "signature-mismatch".
 * @param {string} [rejection.detail] The emulator's own explanation of a malformed token.
 * @param {{ sr: string, signatureSent: string, se: string, skn?: string, parameterOrder: string[] }} [rejection.token]
 *   The parsed token, values exactly as sent; absent when the token could not be parsed.
 * @param {{ idScope: string, registrationId: string, nowMs: number }} rejection.expected The request's scope and
 *   registration ID, and the emulator clock in ms since 1970.
 * @param {{ primaryKey: string }} [rejection.enrollment] The individual enrollment of the registration ID.
 * @param {Array<{ primaryKey: string, enrollmentGroupId: string }>} [rejection.candidates] The enrollment groups.
 * @returns {string} The problems found, in plain words joined by spaces, or the emulator's detail when there is no
 *   parsed token. The text contains no key and no signature.
 */
export function explainDpsRejection(rejection) {
  if (rejection.token === undefined) return rejection.detail ?? "the token is malformed";

  const token = rebuildToken(rejection.token);
  const base = {
    token,
    idScope: rejection.expected.idScope,
    registrationId: rejection.expected.registrationId,
    nowEpochSeconds: rejection.expected.nowMs / 1000,
  };

  let result;
  if (rejection.enrollment !== undefined) {
    result = diagnoseDpsToken({ ...base, deviceKey: rejection.enrollment.primaryKey });
  } else {
    const perGroup = (rejection.candidates ?? []).map((group) => diagnoseDpsToken({
      ...base, groupKey: group.primaryKey, enrollmentGroupId: group.enrollmentGroupId,
    }));
    // Prefer the group whose key reproduces the signature through a known mistake.
    result = perGroup.find((candidate) => !candidate.problems.some((problem) => problem.code === "signature-mismatch"))
      ?? perGroup[0] ?? diagnoseDpsToken(base);
  }

  const errors = result.problems.filter((problem) => problem.severity === "error");
  const shown = errors.length > 0 ? errors : result.problems;
  return shown.map((problem) => problem.message + " [" + problem.code + "]").join(" ");
}

function rebuildToken(parsedToken) {
  const valuesAsSent = { sr: parsedToken.sr, sig: parsedToken.signatureSent, se: parsedToken.se, skn: parsedToken.skn };
  const order = parsedToken.parameterOrder ?? ["sr", "sig", "se", "skn"];

  const parameters = order
    .filter((name) => valuesAsSent[name] !== undefined)
    .map((name) => name + "=" + valuesAsSent[name]);
  return "SharedAccessSignature " + parameters.join("&");
}
