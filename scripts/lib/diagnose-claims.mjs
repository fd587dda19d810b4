// Checks of the SAS token parameters that do not need the key: `skn`, `se`, `sr` and the encoding of `sig`.
//
// Each check returns problems as `{ code, message, severity }`. An "error" means the service rejects the token; a
// "warning" means the token works now but is fragile or unusual. Messages never quote `sig` or a key.

import { decodeFormValue } from "./sas-token-fields.mjs";

/** 2000-01-01T00:00:00Z in seconds since 1970. An `se` before it was made by a clock that was never set. */
export const YEAR_2000_EPOCH_SECONDS = 946684800;

/** Seconds between 1970-01-01 and 2000-01-01, the epoch of many real-time clocks. */
const RTC_EPOCH_OFFSET_SECONDS = YEAR_2000_EPOCH_SECONDS;

/** An `se` further ahead than this is reported as implausible (one year, in seconds). */
export const MAX_PLAUSIBLE_LIFETIME_SECONDS = 365 * 24 * 3600;

/** 9999-12-31T23:59:59Z in seconds since 1970: the last instant a .NET `DateTime` can represent. */
const MAX_REPRESENTABLE_EPOCH_SECONDS = 253402300799;

/**
 * Checks `skn` against the key name the service expects.
 *
 * @param {string | undefined} keyNameSent The `skn` value as sent, or `undefined` when absent.
 * @param {{ serviceName: string, expectedKeyName: string | undefined }} target `expectedKeyName` is "registration"
 *   for DPS and `undefined` for an IoT Hub device token, which carries no `skn`.
 * @returns {Array<{ code: string, message: string, severity: string }>}
 */
export function checkKeyName(keyNameSent, target) {
  const keyName = keyNameSent === undefined ? undefined : decodeFormValue(keyNameSent);

  if (target.expectedKeyName === undefined) {
    if (keyName === undefined) return [];
    return [{
      code: "skn-unexpected",
      severity: "error",
      message: "The token has skn=\"" + keyName + "\", but an IoT Hub device token has no skn: with skn the hub " +
        "looks for a shared access policy of that name instead of the device's key. Leave skn out.",
    }];
  }

  // NOTE: whether DPS rejects a token without skn is not documented (one official C sample omits it); the DPS docs
  // show skn=registration, so a missing skn is reported as an error.
  if (keyName === undefined) {
    return [{
      code: "skn-missing",
      severity: "error",
      message: "The token has no skn; " + target.serviceName + " device tokens carry skn=" + target.expectedKeyName +
        ". Add &skn=" + target.expectedKeyName + " (it is not part of the signed string, so the signature stays valid).",
    }];
  }
  if (keyName !== target.expectedKeyName) {
    return [{
      code: "skn-wrong",
      severity: "error",
      message: "The token has skn=\"" + keyName + "\", but " + target.serviceName + " device tokens carry skn=" +
        target.expectedKeyName + " (not a policy name, an enrollment name or a device ID). Set skn=" +
        target.expectedKeyName + ".",
    }];
  }
  return [];
}

/**
 * Checks `se` against the current time: unreadable, already past (with the likely clock fault), or implausibly far
 * ahead.
 *
 * @param {string} expirySent The `se` value as sent.
 * @param {number} nowEpochSeconds The current time in seconds since 1970.
 * @returns {Array<{ code: string, message: string, severity: string }>}
 */
export function checkExpiry(expirySent, nowEpochSeconds) {
  if (!/^[0-9]+$/.test(expirySent)) {
    return [{
      code: "se-invalid",
      severity: "error",
      message: "se must be whole seconds since 1970 in decimal digits, but it is \"" + expirySent.slice(0, 30) +
        "\". Use Math.floor(Date.now() / 1000) + ttlSeconds.",
    }];
  }

  const expiryEpochSeconds = Number(expirySent);
  const secondsLeft = expiryEpochSeconds - nowEpochSeconds;
  const clock = " (now: " + formatInstant(nowEpochSeconds) + ")";

  if (expiryEpochSeconds > MAX_REPRESENTABLE_EPOCH_SECONDS) {
    // NOTE: inferred, not observed: an se past year 9999 cannot be stored in the .NET DateTime the services use.
    return [{
      code: "se-invalid",
      severity: "error",
      message: "se is " + expirySent + ", which is after the year 9999. It looks like milliseconds: se counts " +
        "seconds, so divide by 1000.",
    }];
  }

  if (secondsLeft <= 0) return [describePastExpiry(expiryEpochSeconds, nowEpochSeconds, clock)];

  if (secondsLeft > MAX_PLAUSIBLE_LIFETIME_SECONDS) {
    return [{
      code: "se-far-future",
      severity: "warning",
      message: "se is " + expirySent + " (" + formatInstant(expiryEpochSeconds) + "), " +
        formatDuration(secondsLeft) + " from now" + clock + ". Either the clock that made the token runs ahead, " +
        "or its lifetime is far too long: a leaked token stays usable until then. Use 900 to 3600 seconds.",
    }];
  }
  return [];
}

function describePastExpiry(expiryEpochSeconds, nowEpochSeconds, clock) {
  const expiry = "se is " + expiryEpochSeconds + " (" + formatInstant(expiryEpochSeconds) + ")";

  if (expiryEpochSeconds < YEAR_2000_EPOCH_SECONDS) {
    const rtcGuess = expiryEpochSeconds + RTC_EPOCH_OFFSET_SECONDS;
    if (rtcGuess > nowEpochSeconds - 86400 && rtcGuess - nowEpochSeconds < MAX_PLAUSIBLE_LIFETIME_SECONDS) {
      return {
        code: "se-clock-epoch-2000",
        severity: "error",
        message: expiry + ", so the token had expired before it was made" + clock + ". Read as seconds since " +
          "2000-01-01 it would be " + formatInstant(rtcGuess) + ": the clock counts from 2000 (a real-time-clock " +
          "epoch). Add " + RTC_EPOCH_OFFSET_SECONDS + " seconds to get Unix time before signing.",
      };
    }
    return {
      code: "se-clock-not-set",
      severity: "error",
      message: expiry + ", decades in the past" + clock + ": the device made the token before its clock was set " +
        "(it counts from 1970 at boot). Set the clock before signing (from SNTP, or from the Date header of an " +
        "HTTPS response as this firmware does), and set it again " +
        "after a 401 before retrying.",
    };
  }

  return {
    code: "se-expired",
    severity: "error",
    message: expiry + ", " + formatDuration(nowEpochSeconds - expiryEpochSeconds) + " ago" + clock + ", so the " +
      "token has expired. Make a new token. If the device made it moments ago, its clock is behind by at least " +
      "that much: set the clock (from SNTP, or from the Date header of an HTTPS response) before signing.",
  };
}

/**
 * Checks the percent-decoded `sr` against the resource the request is for.
 *
 * @param {string} resourceUriSent The `sr` value as sent.
 * @param {object} target
 * @param {string} target.serviceName "DPS" or "IoT Hub", for messages.
 * @param {string} target.resourceUri The expected resource, e.g. "0ne000A1B2C/registrations/sensor-01".
 * @param {(decodedResourceUri: string) => Array<object>} target.describeOtherResource Explains an `sr` that decodes to
 *   another resource, with the target's own terms (scope and registration, or hub and device).
 * @returns {Array<{ code: string, message: string, severity: string }>}
 */
export function checkResourceUri(resourceUriSent, target) {
  const decoded = decodeFormValue(resourceUriSent);

  if (decoded === undefined) {
    return [{
      code: "sr-invalid-encoding",
      severity: "error",
      message: "sr \"" + resourceUriSent + "\" has a '%' that is not followed by two hex digits. Build it with " +
        "encodeURIComponent(\"" + target.resourceUri + "\").",
    }];
  }
  if (decoded === target.resourceUri) return [];

  if (decodeFormValue(decoded) === target.resourceUri) {
    return [{
      code: "sr-double-encoded",
      severity: "error",
      message: "sr \"" + resourceUriSent + "\" is percent-encoded twice ('%25' is an encoded '%'), so the service " +
        "reads it as \"" + decoded + "\" instead of \"" + target.resourceUri + "\". Encode the resource URI once, " +
        "and sign that same value.",
    }];
  }
  return target.describeOtherResource(decoded, resourceUriSent);
}

/**
 * Checks how `sig` was percent-encoded, without looking at its value in messages.
 *
 * @param {string} signatureSent The `sig` value as sent.
 * @returns {{ problems: Array<object>, intendedSignature: string | undefined, receivedSignature: string | undefined }}
 *   `receivedSignature` is what the service decodes. `intendedSignature` is the Base64 the signer most likely
 *   produced before the encoding damaged it (a space turned back into `+`); both are `undefined` when unreadable.
 */
export function checkSignatureEncoding(signatureSent) {
  const problems = [];
  const receivedSignature = decodeFormValue(signatureSent);
  let intendedSignature = safeDecodeUriComponent(signatureSent.replace(/ /g, "+"));

  if (/%25/i.test(signatureSent) && intendedSignature !== undefined) {
    const onceMore = safeDecodeUriComponent(intendedSignature);
    if (onceMore !== undefined && isSignatureShaped(onceMore)) {
      intendedSignature = onceMore;
      problems.push({
        code: "sig-double-encoded",
        severity: "error",
        message: "sig is percent-encoded twice ('%25' is an encoded '%'). Percent-encode the Base64 signature once.",
      });
    }
  }

  if (signatureSent.includes("+")) {
    problems.push({
      code: "sig-not-percent-encoded",
      severity: "error",
      message: "sig contains a raw '+', which the service decodes as a space, so the signature cannot match. " +
        "Percent-encode the Base64 signature (encodeURIComponent: '+' to %2B, '/' to %2F, '=' to %3D).",
    });
  } else if (signatureSent.includes(" ")) {
    problems.push({
      code: "sig-damaged-space",
      severity: "error",
      message: "sig contains a space where the Base64 signature had a '+': somewhere on the way the '+' was " +
        "decoded as a space (an unencoded sig, or a tool that form-decoded the token). Percent-encode sig, and " +
        "pass the token on without decoding it.",
    });
  } else if (/[/=]/.test(signatureSent)) {
    problems.push({
      code: "sig-not-percent-encoded",
      severity: "warning",
      message: "sig contains a raw '/' or '=': it is not percent-encoded. This token may work, but about half of " +
        "all signatures contain a '+', which arrives as a space. Percent-encode sig with encodeURIComponent.",
    });
  }

  if (intendedSignature === undefined || !isSignatureShaped(intendedSignature)) {
    problems.push({
      code: "sig-damaged",
      severity: "error",
      message: "sig does not decode to the Base64 of a 32-byte HMAC-SHA256 (44 characters ending in '='): it was " +
        "cut short or altered when the token was copied or built.",
    });
    intendedSignature = undefined;
  }
  return { problems, intendedSignature, receivedSignature };
}

/**
 * Formats seconds since 1970 as an ISO 8601 UTC time without milliseconds.
 *
 * @param {number} epochSeconds Seconds since 1970; values outside the JavaScript date range are shown as numbers.
 * @returns {string} e.g. "2026-01-01T00:00:00Z".
 */
export function formatInstant(epochSeconds) {
  const date = new Date(Math.floor(epochSeconds) * 1000);
  if (Number.isNaN(date.getTime())) return epochSeconds + " s since 1970";
  return date.toISOString().replace(".000Z", "Z");
}

/**
 * Formats a duration for people, with its two largest units.
 *
 * @param {number} seconds A non-negative duration in seconds.
 * @returns {string} e.g. "2 h 5 min", "45 s", "56 years".
 */
export function formatDuration(seconds) {
  const whole = Math.floor(seconds);
  if (whole < 60) return whole + " s";
  if (whole < 3600) return Math.floor(whole / 60) + " min " + (whole % 60) + " s";
  if (whole < 86400) return Math.floor(whole / 3600) + " h " + Math.floor((whole % 3600) / 60) + " min";
  if (whole < 2 * MAX_PLAUSIBLE_LIFETIME_SECONDS) return Math.floor(whole / 86400) + " days";
  return Math.floor(whole / MAX_PLAUSIBLE_LIFETIME_SECONDS) + " years";
}

function safeDecodeUriComponent(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function isSignatureShaped(text) {
  return /^[A-Za-z0-9+/]{43}=$/.test(text);
}
