// Finds which known signing mistake reproduces a SAS signature exactly.
//
// The search signs the token's `se` with every combination of a candidate key and a candidate `sr`, fewest mistakes
// first. Candidate keys are the right key, the group key, a key used as text instead of its Base64-decoded bytes,
// and keys derived for another registration ID. Candidate `sr` values are the one sent and the other usual encodings
// of the same resource. When nothing
// matches, it tries other `se` values near the token's, which finds a token whose `se` was edited after signing.
//
// HMACs are computed with Node's `crypto`, not with the firmware signer, so that a faulty firmware signer shows up
// as a mismatch instead of agreeing with itself.

import { createHmac } from "node:crypto";

/** Default distance, in seconds, that the edited-`se` search looks on each side of the token's `se`. */
export const DEFAULT_EXPIRY_SEARCH_SECONDS = 3600;

/**
 * Compares a token's signature with the expected key and, on a mismatch, names the mistake that reproduces it.
 *
 * @param {object} input
 * @param {string} input.resourceUriSent The `sr` value exactly as sent (the signed text).
 * @param {string} input.expirySent The `se` value as sent, decimal digits.
 * @param {string} input.receivedSignature The Base64 signature as the service decodes it.
 * @param {string | undefined} input.intendedSignature The Base64 signature before any encoding damage, or
 *   `undefined` when it is unreadable.
 * @param {string} input.resourceUri The resource the token must name, unencoded.
 * @param {string | undefined} input.resourceNameInToken The registration or device ID that the token's `sr` names,
 *   when it differs from `input.registrationId`.
 * @param {string} input.registrationId The registration ID (DPS) or device ID (hub) the key belongs to.
 * @param {string | undefined} input.deviceKey The device key the user believes the device holds, Base64.
 * @param {string | undefined} input.groupKey The enrollment group key, Base64.
 * @param {string | undefined} input.enrollmentGroupId The enrollment group name.
 * @param {number} input.expirySearchSeconds How far on each side of `se` to look for the `se` that was signed.
 * @returns {{ outcome: "valid" | "valid-but-damaged" | "mismatch" | "unreadable",
 *   problems: Array<{ code: string, message: string, severity: string }> }}
 */
export function checkSignature(input) {
  const expectedKey = input.groupKey !== undefined
    ? deriveKey(decodeKey(input.groupKey), input.registrationId)
    : input.deviceKey;
  const expectedKeyBytes = decodeKey(expectedKey);

  const signedText = input.resourceUriSent + "\n" + input.expirySent;
  const expectedSignature = sign(expectedKeyBytes, signedText);

  if (expectedSignature === input.receivedSignature) return { outcome: "valid", problems: [] };
  if (expectedSignature === input.intendedSignature) return { outcome: "valid-but-damaged", problems: [] };
  if (input.intendedSignature === undefined) return { outcome: "unreadable", problems: [] };

  const keyCandidates = listKeyCandidates(input, expectedKey);
  const resourceCandidates = listResourceCandidates(input);

  const combinations = [];
  for (const key of keyCandidates) {
    for (const resource of resourceCandidates) {
      const mistakes = key.mistakes.concat(resource.mistakes);
      if (mistakes.length > 0) combinations.push({ key, resource, mistakes });
    }
  }
  combinations.sort((a, b) => a.mistakes.length - b.mistakes.length);

  for (const combination of combinations) {
    const signature = sign(combination.key.bytes, combination.resource.text + "\n" + input.expirySent);
    if (signature === input.intendedSignature) {
      return { outcome: "mismatch", problems: describeMistakes(combination.mistakes) };
    }
  }

  const signedExpiry = findSignedExpiry(expectedKeyBytes, input);
  if (signedExpiry !== undefined) {
    return {
      outcome: "mismatch",
      problems: [{
        code: "se-edited-after-signing",
        severity: "error",
        message: "The signature is valid for se=" + signedExpiry + ", not for the token's se=" + input.expirySent +
          ": se was changed after the token was signed. se is part of the signed string, so make a new token " +
          "with the expiry you want instead of editing it.",
      }],
    };
  }

  return {
    outcome: "mismatch",
    problems: [{
      code: "signature-mismatch",
      severity: "error",
      message: "The signature does not match the key you gave for this sr and se, and no known mistake reproduces " +
        "it (group key used directly, key text used instead of its Base64-decoded bytes, another case of the " +
        "registration ID, the group name as registration ID, another sr encoding, se edited within " +
        input.expirySearchSeconds + " s). Either the device signed with another key (the secondary key, a " +
        "regenerated key, the key of another enrollment), or the token was edited after signing, or the signer " +
        "itself is faulty: compare it with the published test vectors." +
        (input.groupKey === undefined ? " The group-key mistakes can only be tested with the group key: add " +
          "--group-key-file if the device belongs to an enrollment group." : ""),
    }],
  };
}

function listKeyCandidates(input, expectedKey) {
  const registration = JSON.stringify(input.registrationId);
  const candidates = [{ bytes: decodeKey(expectedKey), mistakes: [] }];

  const deviceKeyDiffers = input.deviceKey !== undefined && input.deviceKey !== expectedKey &&
    input.deviceKey !== input.groupKey;
  const keyGiven = { code: "device-key-not-derived", text: "with the device key you gave, which is not the key " +
    "derived from the group key for " + registration, fix: "Put the key derived for " + registration + " on the " +
    "device (npm run keys -- derive)." };
  const keyAsText = { code: "key-not-base64-decoded", text: "with the text of the device key as the HMAC key " +
    "instead of its Base64-decoded bytes", fix: "Base64-decode the key and use those bytes as the HMAC key." };

  candidates.push({ bytes: Buffer.from(expectedKey, "utf8"), mistakes: [keyAsText] });
  if (deviceKeyDiffers) {
    candidates.push({ bytes: decodeKey(input.deviceKey), mistakes: [keyGiven] });
    candidates.push({ bytes: Buffer.from(input.deviceKey, "utf8"), mistakes: [keyGiven, keyAsText] });
  }
  if (input.groupKey === undefined) return candidates;

  const groupKeyBytes = decodeKey(input.groupKey);
  const groupKeyUsed = { code: "signed-with-group-key", text: "with the group key instead of the device key " +
    "derived from it", fix: "Derive the device key (npm run keys -- derive --registration-id " +
    input.registrationId + " --group-key-file FILE) and sign with that; the group key must not be on the device." };
  const groupKeyAsText = { code: "group-key-not-base64-decoded", text: "with a device key derived from the text of " +
    "the group key instead of its Base64-decoded bytes", fix: "Base64-decode the group key before the HMAC that " +
    "derives the device key." };

  candidates.push({ bytes: groupKeyBytes, mistakes: [groupKeyUsed] });
  candidates.push({ bytes: Buffer.from(input.groupKey, "utf8"), mistakes: [groupKeyUsed, keyAsText] });

  const keyFromGroupText = deriveKey(Buffer.from(input.groupKey, "utf8"), input.registrationId);
  candidates.push({ bytes: decodeKey(keyFromGroupText), mistakes: [groupKeyAsText] });
  candidates.push({ bytes: Buffer.from(keyFromGroupText, "utf8"), mistakes: [groupKeyAsText, keyAsText] });

  for (const otherId of listOtherRegistrationIds(input)) {
    candidates.push({ bytes: decodeKey(deriveKey(groupKeyBytes, otherId.value)), mistakes: [otherId.mistake] });
  }
  return candidates;
}

function listOtherRegistrationIds(input) {
  const registrationId = input.registrationId;
  const registration = JSON.stringify(registrationId);
  const others = [];
  const seen = new Set([registrationId]);

  const add = (value, mistake) => {
    if (value === undefined || value === "" || seen.has(value)) return;
    seen.add(value);
    others.push({ value, mistake });
  };
  const caseMistake = (value) => ({ code: "registration-id-case", text: "with a device key derived from " +
    "registration ID " + JSON.stringify(value) + ", which differs from " + registration + " only in case",
  fix: "The derivation covers the exact bytes of the ID: derive from " + registration + " exactly, and keep " +
    "registration IDs lower-case." });

  const caseVariants = [
    registrationId.toLowerCase(),
    registrationId.toUpperCase(),
    registrationId.charAt(0).toUpperCase() + registrationId.slice(1).toLowerCase(),
  ];
  if (input.resourceNameInToken !== undefined &&
      input.resourceNameInToken.toLowerCase() === registrationId.toLowerCase()) {
    caseVariants.unshift(input.resourceNameInToken);
  }
  for (const variant of caseVariants) add(variant, caseMistake(variant));

  if (input.enrollmentGroupId !== undefined) {
    add(input.enrollmentGroupId, { code: "enrollment-group-name-as-registration-id", text: "with a device key " +
      "derived from the enrollment group name " + JSON.stringify(input.enrollmentGroupId) + " instead of the " +
      "registration ID " + registration, fix: "Derive from the device's own registration ID; the group name is " +
      "not part of the derivation." });
  }
  add(input.resourceNameInToken, { code: "derived-for-other-registration", text: "with a device key derived " +
    "for " + JSON.stringify(input.resourceNameInToken) + " instead of " + registration, fix: "Derive the key for " +
    registration + "." });
  return others;
}

function listResourceCandidates(input) {
  const candidates = [{ text: input.resourceUriSent, mistakes: [] }];
  const seen = new Set([input.resourceUriSent]);

  const encodings = [
    { name: "with upper-case escapes such as %2F", encode: (uri) => encodeURIComponent(uri) },
    { name: "with lower-case escapes such as %2f", encode: (uri) => lowerCaseEscapes(encodeURIComponent(uri)) },
    { name: "without percent-encoding", encode: (uri) => uri },
    { name: "percent-encoded twice", encode: (uri) => encodeURIComponent(encodeURIComponent(uri)) },
  ];

  for (const encoding of encodings) {
    const text = encoding.encode(input.resourceUri);
    if (seen.has(text)) continue;
    seen.add(text);

    candidates.push({
      text,
      mistakes: [{
        code: "sr-encoding-mismatch",
        text: "over sr \"" + text + "\" (" + encoding.name + "), while the token sends sr \"" +
          input.resourceUriSent + "\"",
        fix: "The service verifies the signature over sr exactly as sent: build sr once and use that same string " +
          "in the token and in the string to sign.",
      }],
    });
  }
  return candidates;
}

function describeMistakes(mistakes) {
  const combined = mistakes.length === 1
    ? " This reproduces the signature exactly."
    : " Together with the other " + (mistakes.length - 1) + " finding(s) marked so, this reproduces the signature exactly.";

  return mistakes.map((mistake) => ({
    code: mistake.code,
    severity: "error",
    message: "The token was signed " + mistake.text + "." + combined + " " + mistake.fix,
  }));
}

function findSignedExpiry(keyBytes, input) {
  const tokenExpiry = Number(input.expirySent);

  for (let distance = 1; distance <= input.expirySearchSeconds; distance++) {
    for (const candidate of [tokenExpiry - distance, tokenExpiry + distance]) {
      if (candidate < 0) continue;
      if (sign(keyBytes, input.resourceUriSent + "\n" + candidate) === input.intendedSignature) return candidate;
    }
  }
  return undefined;
}

function lowerCaseEscapes(text) {
  return text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

function decodeKey(keyBase64) {
  return Buffer.from(keyBase64, "base64");
}

function deriveKey(groupKeyBytes, registrationId) {
  return createHmac("sha256", groupKeyBytes).update(registrationId, "utf8").digest("base64");
}

function sign(keyBytes, text) {
  return createHmac("sha256", keyBytes).update(text, "utf8").digest("base64");
}
