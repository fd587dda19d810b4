// Diagnosis of a rejected SAS token: why DPS returns 401002 (or IoT Hub 401003), in plain words.
//
// The checks mirror what the service verifies: the token's shape, `skn`, `se` against the clock, the decoded `sr`
// against the request, and the HMAC over the `sr` and `se` as sent. When the HMAC does not match, the signature
// search names the known mistake that reproduces it exactly. Messages never contain a key, a derived key or `sig`.

import { findBase64Problem } from "../../firmware/core/base64.ts";
import { checkExpiry, checkKeyName, checkResourceUri, checkSignatureEncoding } from "./diagnose-claims.mjs";
import { checkSignature, DEFAULT_EXPIRY_SEARCH_SECONDS } from "./diagnose-signature.mjs";
import { decodeFormValue, parseSasTokenFields } from "./sas-token-fields.mjs";

/** Length in bytes of every key derived from a group key (one HMAC-SHA256 output). */
const DERIVED_KEY_BYTES = 32;

/**
 * Diagnoses a DPS registration token against what the user believes about the device.
 *
 * @param {object} input
 * @param {string} input.token The Authorization header value, "SharedAccessSignature sr=...&sig=...&se=...&skn=...".
 * @param {string} input.idScope The DPS ID scope, e.g. "0ne000A1B2C".
 * @param {string} input.registrationId The registration ID of the request path, e.g. "sensor-01".
 * @param {string} [input.deviceKey] The device key (individual enrollment, or already derived), Base64.
 * @param {string} [input.groupKey] The enrollment group key, Base64. With it the expected key is the one derived
 *   for `registrationId`, which is what DPS checks for a group enrollment.
 * @param {string} [input.enrollmentGroupId] The enrollment group name. Giving it marks the device as a member of a group enrollment.
 * @param {number} input.nowEpochSeconds The current time in seconds since 1970.
 * @param {number} [input.expirySearchSeconds] How far on each side of `se` to look for an `se` edited after signing,
 *   in seconds; default 3600, i.e. about 7,200 HMACs (an estimated 20 ms, from 200,000 HMACs taking 0.5 s on
 *   Node 20 in the development container).
 * @returns {{ accepted: boolean, problems: Array<{ code: string, message: string, severity: "error" | "warning" }> }}
 *   `accepted` is false when any problem has severity "error", i.e. when the service would reject the token.
 *   Without a key the signature is not checked, and a warning with code "signature-not-checked" says so.
 * @throws {TypeError} When a required input is missing or a key is not valid Base64; the message names the input.
 * @example
 *   diagnoseDpsToken({ token, idScope: "0ne000A1B2C", registrationId: "sensor-01", groupKey,
 *     nowEpochSeconds: Date.now() / 1000 })
 */
export function diagnoseDpsToken(input) {
  requireText(input.idScope, "idScope", "the DPS ID scope, e.g. 0ne000A1B2C");
  requireText(input.registrationId, "registrationId", "the registration ID of the request");

  const target = {
    serviceName: "DPS",
    resourceUri: input.idScope + "/registrations/" + input.registrationId,
    expectedKeyName: "registration",
    keyOwner: input.registrationId,
    describeOtherResource: (decoded) => describeOtherRegistration(decoded, input),
    resourceNameInToken: (decoded) => {
      const match = /^[^/]*\/registrations\/(.*)$/.exec(decoded);
      return match === null ? undefined : match[1];
    },
  };
  return diagnoseToken(target, input);
}

/**
 * Diagnoses an IoT Hub device token (no `skn`, `sr` = "{hubHostName}/devices/{deviceId}").
 *
 * @param {object} input
 * @param {string} input.token The Authorization header value.
 * @param {string} input.hubHostName The hub the request goes to, e.g. "example-hub.azure-devices.net".
 * @param {string} input.deviceId The device ID that DPS assigned.
 * @param {string} [input.deviceKey] The device key, Base64: the same key that registered with DPS.
 * @param {string} [input.groupKey] The enrollment group key, Base64; the expected key is then derived for `deviceId`,
 *   which equals the registration ID in a group enrollment.
 * @param {string} [input.enrollmentGroupId] The enrollment group name.
 * @param {number} input.nowEpochSeconds The current time in seconds since 1970.
 * @param {number} [input.expirySearchSeconds] As for `diagnoseDpsToken`.
 * @returns {{ accepted: boolean, problems: Array<{ code: string, message: string, severity: "error" | "warning" }> }}
 * @throws {TypeError} When a required input is missing or a key is not valid Base64.
 */
export function diagnoseHubToken(input) {
  requireText(input.hubHostName, "hubHostName", "the assigned hub, e.g. example-hub.azure-devices.net");
  requireText(input.deviceId, "deviceId", "the device ID that DPS assigned");

  const target = {
    serviceName: "IoT Hub",
    resourceUri: input.hubHostName + "/devices/" + input.deviceId,
    expectedKeyName: undefined,
    keyOwner: input.deviceId,
    describeOtherResource: (decoded) => describeOtherDevice(decoded, input),
    resourceNameInToken: (decoded) => {
      const match = /^[^/]*\/devices\/(.*)$/.exec(decoded);
      return match === null ? undefined : match[1];
    },
  };
  return diagnoseToken(target, input);
}

function diagnoseToken(target, input) {
  requireText(input.token, "token", "the Authorization header value");
  if (typeof input.nowEpochSeconds !== "number" || !Number.isFinite(input.nowEpochSeconds)) {
    throw new TypeError("nowEpochSeconds must be the current time in seconds since 1970, e.g. Date.now() / 1000");
  }
  requireKey(input.deviceKey, "deviceKey");
  requireKey(input.groupKey, "groupKey");

  const parsed = parseSasTokenFields(input.token);
  const problems = [...parsed.problems];
  const parameters = parsed.parameters;

  problems.push(...checkKeyInputs(target, input));
  problems.push(...checkKeyName(parameters.skn, target));
  if (parameters.se) problems.push(...checkExpiry(parameters.se, input.nowEpochSeconds));
  if (parameters.sr) problems.push(...checkResourceUri(parameters.sr, target));

  if (parameters.sig) {
    const encoding = checkSignatureEncoding(parameters.sig);
    problems.push(...encoding.problems);

    const canCheck = parameters.sr && parameters.se && /^[0-9]+$/.test(parameters.se);
    if (input.deviceKey === undefined && input.groupKey === undefined) {
      problems.push({
        code: "signature-not-checked",
        severity: "warning",
        message: "The signature was not checked because no key was given; give the device key or the group key " +
          "to check it and to find which signing mistake reproduces it.",
      });
    } else if (canCheck) {
      problems.push(...checkTokenSignature(target, input, parameters, encoding));
    }
  }

  return { accepted: !problems.some((problem) => problem.severity === "error"), problems };
}

function checkTokenSignature(target, input, parameters, encoding) {
  const decodedResource = decodeFormValue(parameters.sr);
  const nameInToken = decodedResource === undefined ? undefined : target.resourceNameInToken(decodedResource);

  const result = checkSignature({
    resourceUriSent: parameters.sr,
    expirySent: parameters.se,
    receivedSignature: encoding.receivedSignature,
    intendedSignature: encoding.intendedSignature,
    resourceUri: target.resourceUri,
    resourceNameInToken: nameInToken !== target.keyOwner ? nameInToken : undefined,
    registrationId: target.keyOwner,
    deviceKey: input.deviceKey,
    groupKey: input.groupKey,
    enrollmentGroupId: input.enrollmentGroupId,
    expirySearchSeconds: input.expirySearchSeconds ?? DEFAULT_EXPIRY_SEARCH_SECONDS,
  });

  if (result.outcome === "valid-but-damaged") {
    return [{
      code: "signature-correct-before-encoding",
      severity: "warning",
      message: "Before its encoding was damaged, the signature was correct for your key, sr and se: fixing the " +
        "sig encoding is all that is needed.",
    }];
  }
  return result.problems;
}

function checkKeyInputs(target, input) {
  const problems = [];
  const isGroupEnrollment = input.groupKey !== undefined || input.enrollmentGroupId !== undefined;

  if (input.deviceKey !== undefined && input.deviceKey === input.groupKey) {
    problems.push({
      code: "device-key-is-group-key",
      severity: "error",
      message: "The device key you gave is the group key itself. A device in an enrollment group uses the key " +
        "derived from the group key for its registration ID: npm run keys -- derive --registration-id " +
        target.keyOwner + " --group-key-file FILE.",
    });
    return problems;
  }

  if (input.deviceKey !== undefined && Buffer.from(input.deviceKey, "base64").length !== DERIVED_KEY_BYTES) {
    const bytes = Buffer.from(input.deviceKey, "base64").length;
    const looksLikeGroupKey = "The device key you gave decodes to " + bytes + " bytes, but a key derived from a " +
      "group key is always " + DERIVED_KEY_BYTES + " bytes.";

    if (isGroupEnrollment) {
      problems.push({
        code: "device-key-is-group-key",
        severity: "error",
        message: looksLikeGroupKey + " This is almost always the group key configured as the device key. Derive " +
          "the device key: npm run keys -- derive --registration-id " + target.keyOwner + " --group-key-file FILE.",
      });
    } else {
      problems.push({
        code: "device-key-may-be-group-key",
        severity: "warning",
        message: looksLikeGroupKey + " That is normal for an individual enrollment; if the device is in an " +
          "enrollment group, it is the group key by mistake: give the group key too (or the group name) to check.",
      });
    }
  }
  return problems;
}

function describeOtherRegistration(decoded, input) {
  const match = /^([^/]*)\/registrations\/(.*)$/.exec(decoded);
  const expected = "\"" + input.idScope + "/registrations/" + input.registrationId + "\"";

  if (match === null) {
    const isHubToken = /\/devices\//.test(decoded);
    return [{
      code: isHubToken ? "sr-is-hub-token" : "sr-malformed",
      severity: "error",
      message: "sr decodes to \"" + decoded + "\", but DPS expects " + expected + "." + (isHubToken
        ? " This is an IoT Hub device token; DPS needs a token made for the registration (npm run keys -- token dps)."
        : " The DPS resource URI has no host name and no https:// prefix."),
    }];
  }

  const [, scopeInToken, registrationInToken] = match;
  const problems = [];
  if (scopeInToken !== input.idScope) {
    problems.push({
      code: "sr-wrong-scope",
      severity: "error",
      message: "sr names ID scope \"" + scopeInToken + "\", but the request is for ID scope \"" + input.idScope +
        "\"" + (scopeInToken.toLowerCase() === input.idScope.toLowerCase() ? " (they differ only in case)" : "") +
        ". Copy the ID scope from the DPS overview page into both the URL and the token.",
    });
  }

  if (registrationInToken === input.registrationId) return problems;

  if (input.enrollmentGroupId !== undefined && registrationInToken === input.enrollmentGroupId) {
    problems.push({
      code: "sr-enrollment-group-name",
      severity: "error",
      message: "sr names the enrollment group \"" + registrationInToken + "\" instead of the registration ID \"" +
        input.registrationId + "\". The token is for one device: use its registration ID in sr (and derive its key " +
        "from that ID).",
    });
  } else if (registrationInToken.toLowerCase() === input.registrationId.toLowerCase()) {
    problems.push({
      code: "sr-registration-case",
      severity: "error",
      message: "sr names registration \"" + registrationInToken + "\", but the request is for \"" +
        input.registrationId + "\"; they differ only in case. Use one spelling everywhere (lower-case is safest), " +
        "because a group-derived key depends on the exact case.",
    });
  } else {
    problems.push({
      code: "sr-wrong-registration",
      severity: "error",
      message: "sr names registration \"" + registrationInToken + "\", but the request is for \"" +
        input.registrationId + "\". Make the token for the registration ID in the URL.",
    });
  }
  return problems;
}

function describeOtherDevice(decoded, input) {
  const match = /^([^/]*)\/devices\/(.*)$/.exec(decoded);
  const expected = "\"" + input.hubHostName + "/devices/" + input.deviceId + "\"";

  if (match === null) {
    const isDpsToken = /\/registrations\//.test(decoded);
    return [{
      code: isDpsToken ? "sr-is-dps-token" : "sr-malformed",
      severity: "error",
      message: "sr decodes to \"" + decoded + "\", but the hub expects " + expected + "." + (isDpsToken
        ? " This is a DPS token; the hub needs a token for the device (npm run keys -- token hub)."
        : " The hub resource URI is the host name, /devices/ and the device ID, without https://."),
    }];
  }

  const problems = [];
  if (match[1].toLowerCase() !== input.hubHostName.toLowerCase()) {
    problems.push({
      code: "sr-wrong-hub",
      severity: "error",
      message: "sr names hub \"" + match[1] + "\", but the request goes to \"" + input.hubHostName + "\". Use the " +
        "assignedHub that DPS returned, in full.",
    });
  }
  if (match[2] !== input.deviceId) {
    problems.push({
      code: "sr-wrong-device",
      severity: "error",
      message: "sr names device \"" + match[2] + "\", but the request is for device \"" + input.deviceId + "\"" +
        (match[2].toLowerCase() === input.deviceId.toLowerCase() ? " (hub device IDs are case-sensitive)" : "") +
        ". Use the deviceId that DPS returned.",
    });
  }
  return problems;
}

function requireText(value, name, meaning) {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(name + " is missing: give " + meaning);
  }
}

function requireKey(value, name) {
  if (value === undefined) return;
  if (typeof value !== "string") throw new TypeError(name + " must be a Base64 string");

  const problem = findBase64Problem(value);
  if (problem !== undefined) {
    throw new TypeError(name + " is not valid Base64 because " + problem + ". Copy the key again from the enrollment");
  }
}
