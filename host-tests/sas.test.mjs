import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import common from "azure-iot-common";
import {
  createDpsSasToken, createHubSasToken, createStringToSign, decodeSymmetricKey, deriveDeviceKey, signStringToSign,
  computeExpiryEpochSeconds,
} from "../firmware/core/sas.ts";
import { nodeSha256 } from "./support/node-sha256.mjs";

const { SharedAccessSignature } = common;

/** Splits a SAS token into its fields, keeping the values exactly as sent. */
function parseToken(token) {
  assert.ok(token.startsWith("SharedAccessSignature "), token);
  const fields = {};
  for (const part of token.slice("SharedAccessSignature ".length).split("&")) {
    const index = part.indexOf("=");
    fields[part.slice(0, index)] = part.slice(index + 1);
  }
  return fields;
}

// Values from the DPS symmetric key documentation and our own vectors computed with Node crypto and openssl.
const DOCS_GROUP_KEY = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
const DOCS_REGISTRATION_ID = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
const DOCS_DERIVED_KEY = "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=";

// Common inputs of the field-failure cases.
const FIELD = {
  idScope: "0ne000A1B2C",
  registrationId: "sensor-01",
  groupKey: "Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==",
  deviceKey: "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=",
  expiry: 1767225600,
  dpsToken: "SharedAccessSignature sr=0ne000A1B2C%2Fregistrations%2Fsensor-01&sig=%2FEqc0gTG%2Fs03NkJQqfGk35WWj3ZCqOL1DICiRw6Cg9w%3D&se=1767225600&skn=registration",
  hubToken: "SharedAccessSignature sr=example-hub.azure-devices.net%2Fdevices%2Fsensor-01&sig=I2rbzTr6q678FQkVZK0BDzqfMRqF4It4xrrXKwiuYBM%3D&se=1767225600",
};

describe("deriveDeviceKey", () => {
  it("matches the DPS documentation vector", () => {
    assert.equal(deriveDeviceKey(nodeSha256, DOCS_GROUP_KEY, DOCS_REGISTRATION_ID), DOCS_DERIVED_KEY);
  });

  it("matches the field-failure key D", () => {
    assert.equal(deriveDeviceKey(nodeSha256, FIELD.groupKey, FIELD.registrationId), FIELD.deviceKey);
  });

  it("changes with the registration ID case", () => {
    assert.notEqual(deriveDeviceKey(nodeSha256, FIELD.groupKey, "SENSOR-01"), FIELD.deviceKey);
  });

  it("rejects an invalid group key", () => {
    assert.throws(() => deriveDeviceKey(nodeSha256, "not base64!", "sensor-01"), /groupKey is not valid Base64/);
  });
});

describe("createDpsSasToken", () => {
  it("matches the individual enrollment vector", () => {
    const token = createDpsSasToken(nodeSha256, {
      idScope: "0ne00000A0A", registrationId: "my-device-01",
      deviceKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", expiryEpochSeconds: 1735689600,
    });

    assert.equal(token, "SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2Fmy-device-01&sig=sMu0MBOagRPn%2B%2FaY89kQhpwT0j7tcKYYTEfHfAr8COQ%3D&se=1735689600&skn=registration");
  });

  it("matches the group-derived vector", () => {
    const token = createDpsSasToken(nodeSha256, {
      idScope: "0ne00000A0A", registrationId: DOCS_REGISTRATION_ID, deviceKey: DOCS_DERIVED_KEY,
      expiryEpochSeconds: 1735689600,
    });

    assert.equal(decodeURIComponent(parseToken(token).sig), "HOZbcAGuliOc299uGKZXZuzxCmNVavbtyFpBcgiZcTU=");
  });

  it("matches the field-failure DPS token", () => {
    const token = createDpsSasToken(nodeSha256, {
      idScope: FIELD.idScope, registrationId: FIELD.registrationId, deviceKey: FIELD.deviceKey,
      expiryEpochSeconds: FIELD.expiry,
    });

    assert.equal(token, FIELD.dpsToken);
  });

  it("rejects a key of the wrong length", () => {
    assert.throws(() => createDpsSasToken(nodeSha256, {
      idScope: FIELD.idScope, registrationId: FIELD.registrationId, deviceKey: "AAAAAAAAAAA=", expiryEpochSeconds: 1,
    }), /decodes to 8 bytes, but DPS keys are 16 to 64 bytes/);
  });
});

describe("createHubSasToken", () => {
  it("matches the documentation hub vector", () => {
    const token = createHubSasToken(nodeSha256, {
      hubHostName: "MyExampleHub.azure-devices.net", deviceId: "my-symkey-device",
      deviceKey: "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==",
      expiryEpochSeconds: 1663119026,
    });
    const fields = parseToken(token);

    assert.equal(fields.sr, "MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device");
    assert.equal(fields.sig, "f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D");
    assert.equal(fields.skn, undefined);
  });

  it("matches the group-derived hub vector", () => {
    const token = createHubSasToken(nodeSha256, {
      hubHostName: "myhub.azure-devices.net", deviceId: DOCS_REGISTRATION_ID, deviceKey: DOCS_DERIVED_KEY,
      expiryEpochSeconds: 1735689600,
    });

    assert.equal(decodeURIComponent(parseToken(token).sig), "7L9ZaGwMJlOdmIEzucwmRKpQfZ5c3RTTg922qeWw0zM=");
  });

  it("matches the field-failure hub token", () => {
    const token = createHubSasToken(nodeSha256, {
      hubHostName: "example-hub.azure-devices.net", deviceId: FIELD.registrationId, deviceKey: FIELD.deviceKey,
      expiryEpochSeconds: FIELD.expiry,
    });

    assert.equal(token, FIELD.hubToken);
  });
});

describe("signStringToSign", () => {
  const keyBytes = Buffer.from(FIELD.deviceKey, "base64").toString("latin1");
  const cases = [
    // sr as sent                                          expected Base64 signature
    ["0ne00000A0A%2fregistrations%2f" + DOCS_REGISTRATION_ID, "bpC8W9K3Ywj1ahPJVqTcH4RyMrasidd1RHzHghw9CHk=", DOCS_DERIVED_KEY, 1735689600],
    ["0ne00000A0A/registrations/" + DOCS_REGISTRATION_ID, "vKMjbw3q1BFOSbfOhXwjvWmpBW6AoGeKnJdYQAmyfgc=", DOCS_DERIVED_KEY, 1735689600],
    ["0ne000A1B2C%252Fregistrations%252Fsensor-01", "ckw+WskSfzbF3cvmsF7NcAsQNiYZj1jltvym03cJ3pI=", FIELD.deviceKey, FIELD.expiry],
    ["0ne000A1B2C%2fregistrations%2fsensor-01", "FDfdbMVK3hZIgZkxme9OtAozfNHJvUciM3DwlfiMwFQ=", FIELD.deviceKey, FIELD.expiry],
    ["0ne000A1B2C/registrations/sensor-01", "vAX+LbECm5HLw01HQTpz3+QJ0WKyTCbpGAtNRofqhJY=", FIELD.deviceKey, FIELD.expiry],
  ];

  for (const [sr, signature, key, expiry] of cases) {
    it(`signs sr ${sr.slice(0, 32)}... as sent`, () => {
      const bytes = Buffer.from(key, "base64").toString("latin1");
      assert.equal(signStringToSign(nodeSha256, bytes, createStringToSign(sr, expiry)), signature);
    });
  }

  it("reproduces F1, the group key used directly", () => {
    const groupBytes = Buffer.from(FIELD.groupKey, "base64").toString("latin1");
    const stringToSign = createStringToSign("0ne000A1B2C%2Fregistrations%2Fsensor-01", FIELD.expiry);

    assert.equal(signStringToSign(nodeSha256, groupBytes, stringToSign), "sEH1Q8VoBGXKHT/srytqJqUQv5FwTWkJW9G2ttcLRp4=");
  });

  it("reproduces F3, the key text not decoded", () => {
    const stringToSign = createStringToSign("0ne000A1B2C%2Fregistrations%2Fsensor-01", FIELD.expiry);

    assert.equal(signStringToSign(nodeSha256, FIELD.deviceKey, stringToSign), "RiCB5X6sCEaS8ddgmDMXzeBgRh7N/tY/DVULpEPpRQM=");
    assert.notEqual(signStringToSign(nodeSha256, keyBytes, stringToSign), "RiCB5X6sCEaS8ddgmDMXzeBgRh7N/tY/DVULpEPpRQM=");
  });
});

describe("tokens against azure-iot-common", () => {
  it("equal SharedAccessSignature.create on 300 random keys", () => {
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(16 + (i % 49)).toString("base64");
      const registrationId = "dev-" + randomBytes(6).toString("hex") + (i % 2 === 0 ? ".x_y:z" : "");
      const expiry = 1700000000 + i * 7919;

      const ours = parseToken(createDpsSasToken(nodeSha256, {
        idScope: "0ne000A1B2C", registrationId, deviceKey: key, expiryEpochSeconds: expiry,
      }));
      // create() signs the resource URI as given, so it gets the same encoded sr string that ours sends.
      const official = SharedAccessSignature.create(encodeURIComponent(`0ne000A1B2C/registrations/${registrationId}`),
        "registration", key, expiry);

      assert.equal(ours.sr, official.sr);
      assert.equal(ours.sig, official.sig);
      assert.equal(ours.se, String(official.se));
      assert.equal(ours.skn, official.skn);

      const hub = parseToken(createHubSasToken(nodeSha256, {
        hubHostName: "h-" + i + ".azure-devices.net", deviceId: registrationId, deviceKey: key, expiryEpochSeconds: expiry,
      }));
      const officialHub = SharedAccessSignature.create(encodeURIComponent(`h-${i}.azure-devices.net/devices/${registrationId}`),
        undefined, key, expiry);
      assert.equal(hub.sr, officialHub.sr);
      assert.equal(hub.sig, officialHub.sig);
      assert.equal(hub.skn, undefined);
    }
  });
});

describe("decodeSymmetricKey", () => {
  const cases = [
    // key text                      message part expected
    ["", /is not valid Base64 because it is empty/],
    ["abc", /not a multiple of 4/],
    ["rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU-", /Base64url, not Base64/],
    ["rWjbEHpPct34E437MDAI OYxxl1cuGnheaY0tSloyAU=", /a '\+' may have been turned into a space/],
    ["AAAAAAAAAAAAAAAAAAAA", /decodes to 15 bytes/],
    [Buffer.alloc(65).toString("base64"), /decodes to 65 bytes/],
    ["AA=A", /padding before position 4/],
  ];

  for (const [key, expected] of cases) {
    it(`rejects ${JSON.stringify(key).slice(0, 24)}`, () => {
      assert.throws(() => decodeSymmetricKey(key, "dps.deviceKey"), (error) => {
        assert.equal(error.code, "KEY_INVALID");
        assert.equal(error.field, "dps.deviceKey");
        assert.match(error.message, /^dps\.deviceKey /);
        assert.match(error.message, expected);
        return true;
      });
    });
  }

  it("accepts 16 and 64 byte keys", () => {
    assert.equal(decodeSymmetricKey(Buffer.alloc(16, 1).toString("base64"), "k").length, 16);
    assert.equal(decodeSymmetricKey(Buffer.alloc(64, 255).toString("base64"), "k").length, 64);
  });
});

describe("computeExpiryEpochSeconds", () => {
  it("adds the TTL to the whole seconds", () => {
    assert.equal(computeExpiryEpochSeconds(1767225599.9, 900), 1767226499);
  });

  it("rejects a TTL that is not a positive whole number", () => {
    assert.throws(() => computeExpiryEpochSeconds(1, 0), /Invalid token lifetime/);
    assert.throws(() => computeExpiryEpochSeconds(1, 1.5), /Invalid token lifetime/);
  });
});
