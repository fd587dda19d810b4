// diagnoseDpsToken and diagnoseHubToken against the field failures F1 to F6 and F10, with their exact published
// values. Correct tokens come from the official Node SDK (azure-iot-common SharedAccessSignature.create), which
// signs the `sr` text it is given.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";

import { diagnoseDpsToken, diagnoseHubToken } from "../scripts/lib/diagnose.mjs";

const require = createRequire(import.meta.url);
const { SharedAccessSignature } = require("azure-iot-common");

const ID_SCOPE = "0ne000A1B2C";
const REGISTRATION_ID = "sensor-01";
const GROUP_KEY = "Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==";
const DEVICE_KEY = "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=";
const EXPIRY = 1767225600;
const NOW = EXPIRY - 600;
const ENCODED_SR = "0ne000A1B2C%2Fregistrations%2Fsensor-01";
const CORRECT_TOKEN = "SharedAccessSignature sr=0ne000A1B2C%2Fregistrations%2Fsensor-01&sig=%2FEqc0gTG%2Fs03NkJQqf" +
  "Gk35WWj3ZCqOL1DICiRw6Cg9w%3D&se=1767225600&skn=registration";
const HUB_TOKEN = "SharedAccessSignature sr=example-hub.azure-devices.net%2Fdevices%2Fsensor-01&sig=I2rbzTr6q678FQk" +
  "VZK0BDzqfMRqF4It4xrrXKwiuYBM%3D&se=1767225600";

// Builds a token with explicit parts; `signature` is Base64 and is percent-encoded unless `rawSignature` is set.
// A `skn` of null leaves the parameter out.
function buildToken({ sr = ENCODED_SR, signature, se = EXPIRY, rawSignature = false, skn = "registration" }) {
  const sig = rawSignature ? signature : encodeURIComponent(signature);
  return "SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=" + se + (skn === null ? "" : "&skn=" + skn);
}

// Signs with the official SDK, keeping the parameter order and encoding it produces.
function sdkToken(sr, keyBase64, se) {
  return SharedAccessSignature.create(sr, "registration", keyBase64, se).toString();
}

function diagnose(token, extra) {
  return diagnoseDpsToken({ token, idScope: ID_SCOPE, registrationId: REGISTRATION_ID, nowEpochSeconds: NOW, ...extra });
}

function codes(result) {
  return result.problems.filter((problem) => problem.severity === "error").map((problem) => problem.code);
}

function assertNoSecret(result, secrets) {
  const text = JSON.stringify(result);
  for (const secret of secrets) assert.ok(!text.includes(secret), "the result contains a secret");
}

describe("diagnoseDpsToken", () => {
  it("accepts the documented token with the group key", () => {
    const result = diagnose(CORRECT_TOKEN, { groupKey: GROUP_KEY });
    assert.equal(result.accepted, true);
    assert.deepEqual(result.problems, []);
  });

  it("accepts the documented token with the device key", () => {
    const result = diagnose(CORRECT_TOKEN, { deviceKey: DEVICE_KEY, enrollmentGroupId: "sensors" });
    assert.equal(result.accepted, true);
    assert.deepEqual(result.problems, []);
  });

  it("accepts an SDK token with a raw sr", () => {
    const token = sdkToken("0ne000A1B2C/registrations/sensor-01", DEVICE_KEY, EXPIRY);
    assert.ok(token.includes("sig=vAX%2BLbECm5HLw01HQTpz3%2BQJ0WKyTCbpGAtNRofqhJY%3D"));
    assert.equal(diagnose(token, { groupKey: GROUP_KEY }).accepted, true);
  });

  it("accepts the lower-case %2f sr of F4", () => {
    const token = buildToken({ sr: "0ne000A1B2C%2fregistrations%2fsensor-01",
      signature: "FDfdbMVK3hZIgZkxme9OtAozfNHJvUciM3DwlfiMwFQ=" });
    assert.equal(diagnose(token, { deviceKey: DEVICE_KEY }).accepted, true);
  });

  it("F1 names the group key used directly", () => {
    const token = buildToken({ signature: "sEH1Q8VoBGXKHT/srytqJqUQv5FwTWkJW9G2ttcLRp4=" });
    const result = diagnose(token, { groupKey: GROUP_KEY });

    assert.equal(result.accepted, false);
    assert.deepEqual(codes(result), ["signed-with-group-key"]);
    assert.match(result.problems[0].message, /group key instead of the device key derived from it/);
    assertNoSecret(result, [GROUP_KEY, DEVICE_KEY, "sEH1Q8VoBGXKHT"]);
  });

  it("F2 reports a faulty signer as an unexplained mismatch", () => {
    // A signer bug: the string to sign gets a trailing line feed.
    const signature = hmacBase64(Buffer.from(DEVICE_KEY, "base64"), ENCODED_SR + "\n" + EXPIRY + "\n");
    const token = buildToken({ signature });
    const result = diagnose(token, { groupKey: GROUP_KEY });

    assert.equal(result.accepted, false);
    assert.deepEqual(codes(result), ["signature-mismatch"]);
    assert.match(result.problems[0].message, /signer itself is faulty/);
  });

  it("F3 names the device key used as text", () => {
    const token = buildToken({ signature: "RiCB5X6sCEaS8ddgmDMXzeBgRh7N/tY/DVULpEPpRQM=" });

    for (const keys of [{ deviceKey: DEVICE_KEY }, { groupKey: GROUP_KEY }]) {
      const result = diagnose(token, keys);
      assert.equal(result.accepted, false);
      assert.deepEqual(codes(result), ["key-not-base64-decoded"]);
      assert.match(result.problems[0].message, /text of the device key/);
    }
  });

  it("F3 names the group key used as text in derivation", () => {
    const keyFromText = "p/fuNncl8zOnGWAanuFgbr9MuF+huCaF3I2aK7AwRKE=";
    const result = diagnose(sdkToken(ENCODED_SR, keyFromText, EXPIRY), { groupKey: GROUP_KEY });

    assert.equal(result.accepted, false);
    assert.deepEqual(codes(result), ["group-key-not-base64-decoded"]);
    assertNoSecret(result, [keyFromText]);
  });

  it("F4 names an sr encoded twice", () => {
    const token = buildToken({ sr: "0ne000A1B2C%252Fregistrations%252Fsensor-01",
      signature: "ckw+WskSfzbF3cvmsF7NcAsQNiYZj1jltvym03cJ3pI=" });
    const result = diagnose(token, { deviceKey: DEVICE_KEY });

    assert.equal(result.accepted, false);
    assert.deepEqual(codes(result), ["sr-double-encoded"]);
    assert.match(result.problems[0].message, /percent-encoded twice/);
  });

  it("F4 names an sr signed in another encoding", () => {
    const token = buildToken({ signature: "vAX+LbECm5HLw01HQTpz3+QJ0WKyTCbpGAtNRofqhJY=" });
    const result = diagnose(token, { deviceKey: DEVICE_KEY });

    assert.deepEqual(codes(result), ["sr-encoding-mismatch"]);
    assert.match(result.problems[0].message, /without percent-encoding/);
  });

  it("F5 names a raw plus in sig", () => {
    const token = sdkToken(ENCODED_SR, DEVICE_KEY, expiryWithPlusInSignature()).replace(/%2B/g, "+");
    assert.ok(token.includes("+"), "the fixture signature must contain a '+'");
    const result = diagnose(token, { deviceKey: DEVICE_KEY });

    assert.equal(result.accepted, false);
    assert.deepEqual(codes(result), ["sig-not-percent-encoded"]);
    assert.ok(result.problems.some((problem) => problem.code === "signature-correct-before-encoding"));
  });

  it("F5 names a plus turned into a space", () => {
    const token = sdkToken(ENCODED_SR, DEVICE_KEY, expiryWithPlusInSignature()).replace(/%2B/g, " ");
    assert.deepEqual(codes(diagnose(token, { deviceKey: DEVICE_KEY })), ["sig-damaged-space"]);
  });

  it("F6 names a clock near 1970", () => {
    const token = sdkToken(ENCODED_SR, DEVICE_KEY, 3600);
    const result = diagnose(token, { deviceKey: DEVICE_KEY });

    assert.equal(result.accepted, false);
    assert.deepEqual(codes(result), ["se-clock-not-set"]);
    assert.match(result.problems[0].message, /before its clock was set/);
  });

  it("F6 names an expired token", () => {
    const result = diagnoseDpsToken({ token: CORRECT_TOKEN, idScope: ID_SCOPE, registrationId: REGISTRATION_ID,
      deviceKey: DEVICE_KEY, nowEpochSeconds: EXPIRY + 120 });
    assert.deepEqual(codes(result), ["se-expired"]);
    assert.match(result.problems[0].message, /2 min 0 s ago/);
  });

  it("warns about se more than a year ahead", () => {
    const se = NOW + 400 * 86400;
    const result = diagnose(sdkToken(ENCODED_SR, DEVICE_KEY, se), { deviceKey: DEVICE_KEY });

    assert.equal(result.accepted, true);
    assert.deepEqual(result.problems.map((problem) => problem.code), ["se-far-future"]);
  });

  it("rejects se in milliseconds", () => {
    const result = diagnose(sdkToken(ENCODED_SR, DEVICE_KEY, EXPIRY * 1000), { deviceKey: DEVICE_KEY });
    assert.deepEqual(codes(result), ["se-invalid"]);
    assert.match(result.problems[0].message, /milliseconds/);
  });

  it("F10 names the group key configured as device key", () => {
    const token = buildToken({ signature: "sEH1Q8VoBGXKHT/srytqJqUQv5FwTWkJW9G2ttcLRp4=" });

    const withGroupName = diagnose(token, { deviceKey: GROUP_KEY, enrollmentGroupId: "sensors" });
    assert.equal(withGroupName.accepted, false);
    assert.deepEqual(codes(withGroupName), ["device-key-is-group-key"]);
    assert.match(withGroupName.problems[0].message, /npm run keys -- derive --registration-id sensor-01/);

    const withGroupKey = diagnose(token, { deviceKey: GROUP_KEY, groupKey: GROUP_KEY });
    assert.deepEqual(codes(withGroupKey), ["device-key-is-group-key", "signed-with-group-key"]);

    const individual = diagnose(token, { deviceKey: GROUP_KEY });
    assert.deepEqual(individual.problems.map((problem) => problem.code), ["device-key-may-be-group-key"]);
  });

  it("names a registration ID in another case", () => {
    const derivedForCapital = deriveWithNodeCrypto(GROUP_KEY, "Sensor-01");
    const result = diagnose(sdkToken(ENCODED_SR, derivedForCapital, EXPIRY), { groupKey: GROUP_KEY });

    assert.deepEqual(codes(result), ["registration-id-case"]);
    assert.match(result.problems[0].message, /"Sensor-01", which differs from "sensor-01" only in case/);
  });

  it("names the group name used as registration ID", () => {
    const derivedForGroup = deriveWithNodeCrypto(GROUP_KEY, "sensors");
    const sr = "0ne000A1B2C%2Fregistrations%2Fsensors";
    const result = diagnose(sdkToken(sr, derivedForGroup, EXPIRY), { groupKey: GROUP_KEY, enrollmentGroupId: "sensors" });

    assert.deepEqual(codes(result), ["sr-enrollment-group-name", "enrollment-group-name-as-registration-id"]);
  });

  it("names sr for another scope and registration", () => {
    const token = sdkToken("0ne000FFFFF%2Fregistrations%2Fsensor-02", DEVICE_KEY, EXPIRY);
    const result = diagnose(token, { deviceKey: DEVICE_KEY });
    assert.deepEqual(codes(result).slice(0, 2), ["sr-wrong-scope", "sr-wrong-registration"]);
  });

  it("names an se edited after signing", () => {
    const token = CORRECT_TOKEN.replace("se=1767225600", "se=1767229200");
    const result = diagnose(token, { deviceKey: DEVICE_KEY, expirySearchSeconds: 7200 });

    assert.deepEqual(codes(result), ["se-edited-after-signing"]);
    assert.match(result.problems[0].message, /valid for se=1767225600/);
  });

  it("names a missing or wrong skn", () => {
    const noKeyName = buildToken({ signature: "/Eqc0gTG/s03NkJQqfGk35WWj3ZCqOL1DICiRw6Cg9w=", skn: null });
    assert.deepEqual(codes(diagnose(noKeyName, { deviceKey: DEVICE_KEY })), ["skn-missing"]);

    const policyName = CORRECT_TOKEN.replace("skn=registration", "skn=iothubowner");
    assert.deepEqual(codes(diagnose(policyName, { deviceKey: DEVICE_KEY })), ["skn-wrong"]);
  });

  it("checks no signature without a key", () => {
    const result = diagnose(CORRECT_TOKEN, {});
    assert.equal(result.accepted, true);
    assert.deepEqual(result.problems.map((problem) => problem.code), ["signature-not-checked"]);
  });

  it("throws on an invalid key without echoing it", () => {
    assert.throws(() => diagnose(CORRECT_TOKEN, { deviceKey: "rWjb-HpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=" }),
      (error) => error instanceof TypeError && /deviceKey is not valid Base64/.test(error.message) &&
        !error.message.includes("rWjb"));
  });
});

describe("diagnoseHubToken", () => {
  const hubInput = { hubHostName: "example-hub.azure-devices.net", deviceId: "sensor-01", nowEpochSeconds: NOW };

  it("accepts the documented hub token", () => {
    const result = diagnoseHubToken({ ...hubInput, token: HUB_TOKEN, groupKey: GROUP_KEY });
    assert.equal(result.accepted, true);
    assert.deepEqual(result.problems, []);
  });

  it("names a DPS token sent to the hub", () => {
    const result = diagnoseHubToken({ ...hubInput, token: CORRECT_TOKEN, deviceKey: DEVICE_KEY });
    assert.equal(result.accepted, false);
    assert.ok(codes(result).includes("sr-is-dps-token"));
    assert.ok(codes(result).includes("skn-unexpected"));
  });
});

// Derives a device key with Node's crypto directly, independent of both the firmware and the code under test.
function deriveWithNodeCrypto(groupKeyBase64, registrationId) {
  return hmacBase64(Buffer.from(groupKeyBase64, "base64"), registrationId);
}

function hmacBase64(keyBytes, text) {
  return createHmac("sha256", keyBytes).update(text).digest("base64");
}

// The first se at or after EXPIRY whose documented-style signature with DEVICE_KEY contains a '+'.
function expiryWithPlusInSignature() {
  for (let se = EXPIRY; ; se++) {
    if (hmacBase64(Buffer.from(DEVICE_KEY, "base64"), ENCODED_SR + "\n" + se).includes("+")) return se;
  }
}

describe("explainDpsRejection", () => {
  // Uses the emulator's own parser, so the rejection has exactly the shape the emulator passes.
  async function rejectionFor(token, extra) {
    const { parseSasToken } = await import("../scripts/emulator/sas-check.mjs");
    const parsed = parseSasToken(token);
    assert.equal(parsed.ok, true);
    return {
      problem: "signature-mismatch",
      token: parsed.token,
      expected: { idScope: ID_SCOPE, registrationId: REGISTRATION_ID, nowMs: NOW * 1000 },
      ...extra,
    };
  }

  it("names the group key for a group", async () => {
    const { explainDpsRejection } = await import("../scripts/lib/diagnose-rejection.mjs");
    const token = buildToken({ signature: "sEH1Q8VoBGXKHT/srytqJqUQv5FwTWkJW9G2ttcLRp4=" });
    const rejection = await rejectionFor(token, {
      candidates: [{ enrollmentGroupId: "sensors", primaryKey: GROUP_KEY, enabled: true }],
    });

    const text = explainDpsRejection(rejection);
    assert.match(text, /signed with the group key instead of the device key derived from it/);
    assert.ok(!text.includes(GROUP_KEY));
    assert.ok(!text.includes("sEH1Q8VoBGXKHT"));
  });

  it("names key text for an individual enrollment", async () => {
    const { explainDpsRejection } = await import("../scripts/lib/diagnose-rejection.mjs");
    const token = buildToken({ signature: "RiCB5X6sCEaS8ddgmDMXzeBgRh7N/tY/DVULpEPpRQM=" });
    const rejection = await rejectionFor(token, { enrollment: { registrationId: REGISTRATION_ID, primaryKey: DEVICE_KEY } });

    assert.match(explainDpsRejection(rejection), /\[key-not-base64-decoded\]/);
  });
});
