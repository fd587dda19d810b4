import assert from "node:assert/strict";
import { validateDeviceConfig } from "../firmware/core/config.ts";

// Made-up keys. INDIVIDUAL_KEY is the 32 bytes 0x00..0x1f. GROUP_KEY is a 64-byte group key and DERIVED_KEY is
// base64(HMAC-SHA256(GROUP_KEY, "sensor-01")).
const INDIVIDUAL_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const GROUP_KEY = "Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==";
const DERIVED_KEY = "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=";

/** Creates a valid individual-enrollment configuration with only the required fields. */
function createIndividualConfig() {
  return {
    wifi: { ssid: "lab-network", password: "not-a-real-password" },
    dps: { idScope: "0ne000A1B2C", registrationId: "sensor-01", enrollment: "individual", deviceKey: INDIVIDUAL_KEY },
  };
}

/** Creates a valid group-enrollment configuration that contains the derived device key. */
function createGroupConfig() {
  return {
    wifi: { ssid: "lab-network", password: "not-a-real-password" },
    dps: { idScope: "0ne000A1B2C", registrationId: "sensor-01", enrollment: "group", deviceKey: DERIVED_KEY },
  };
}

/** Validates the individual configuration after `change` has edited it. */
function validateChanged(change, create = createIndividualConfig) {
  const config = create();
  change(config);
  return validateDeviceConfig(config);
}

function fieldsOf(problems) {
  return problems.map((problem) => problem.field);
}

describe("validateDeviceConfig defaults", () => {
  const result = validateDeviceConfig(createIndividualConfig());
  const group = validateDeviceConfig(createGroupConfig());

  it("accepts the individual configuration", () => {
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.warnings, []);
    assert.notEqual(result.config, undefined);
  });

  it("fills in DPS defaults", () => {
    assert.equal(result.config.dps.host, "global.azure-devices-provisioning.net");
    assert.equal(result.config.dps.apiVersion, "2021-10-01");
    assert.equal(result.config.dps.tokenTtlSeconds, 900);
    assert.equal(result.config.dps.maxProvisioningSeconds, 300);
    assert.equal(result.config.dps.port, undefined);
    assert.equal(result.config.dps.payload, undefined);
    assert.equal(result.config.dps.groupKey, undefined);
  });

  it("fills in hub defaults", () => {
    assert.equal(result.config.hub.tokenTtlSeconds, 3600);
    assert.equal(result.config.hub.apiVersion, "2021-04-12");
    assert.equal(result.config.hub.port, undefined);
  });

  it("fills in trust suffixes", () => {
    assert.deepEqual(result.config.trust.hubSuffixes, [".azure-devices.net"]);
    assert.deepEqual(result.config.trust.dpsSuffixes, [".azure-devices-provisioning.net"]);
  });

  it("fills in device defaults", () => {
    assert.equal(result.config.device.telnet, false);
    assert.equal(result.config.device.logLevel, "info");
  });

  it("keeps the given values", () => {
    assert.equal(result.config.dps.idScope, "0ne000A1B2C");
    assert.equal(result.config.dps.registrationId, "sensor-01");
    assert.equal(result.config.dps.enrollment, "individual");
    assert.equal(result.config.dps.deviceKey, INDIVIDUAL_KEY);
    assert.equal(result.config.wifi.ssid, "lab-network");
  });

  it("accepts the group configuration", () => {
    assert.deepEqual(group.problems, []);
    assert.deepEqual(group.warnings, []);
    assert.equal(group.config.dps.enrollment, "group");
    assert.equal(group.config.dps.deviceKey, DERIVED_KEY);
    assert.equal(group.config.dps.tokenTtlSeconds, 900);
    assert.equal(group.config.hub.tokenTtlSeconds, 3600);
  });

  it("accepts TTLs at the caps", () => {
    const capped = validateChanged((config) => {
      config.dps.tokenTtlSeconds = 900;
      config.hub = { tokenTtlSeconds: 3600 };
    });

    assert.deepEqual(capped.problems, []);
    assert.equal(capped.config.dps.tokenTtlSeconds, 900);
    assert.equal(capped.config.hub.tokenTtlSeconds, 3600);
  });

  it("puts modelId into the payload", () => {
    const withModel = validateChanged((config) => {
      config.dps.modelId = "dtmi:com:example:Thermostat;1";
    });

    assert.deepEqual(withModel.problems, []);
    assert.deepEqual(withModel.config.dps.payload, { modelId: "dtmi:com:example:Thermostat;1" });
  });

  it("merges modelId with the payload", () => {
    const merged = validateChanged((config) => {
      config.dps.payload = { site: "lab" };
      config.dps.modelId = "dtmi:com:example:Thermostat;1";
    });

    assert.deepEqual(merged.config.dps.payload, { site: "lab", modelId: "dtmi:com:example:Thermostat;1" });
  });

  it("accepts a host from custom trust", () => {
    const custom = validateChanged((config) => {
      config.dps.host = "localhost";
      config.dps.port = 8443;
      config.trust = { dpsSuffixes: ["localhost"] };
    });

    assert.deepEqual(custom.problems, []);
    assert.equal(custom.config.dps.host, "localhost");
    assert.equal(custom.config.dps.port, 8443);
  });
});

describe("validateDeviceConfig problems", () => {
  // name, change to the valid individual configuration, expected field, expected message pattern
  const cases = [
    ["wifi section missing", (c) => delete c.wifi, "wifi", /is missing: add a "wifi" object/],
    ["dps section missing", (c) => delete c.dps, "dps", /is missing: add a "dps" object/],
    ["dps section an array", (c) => { c.dps = []; }, "dps", /is missing/],
    ["hub section a string", (c) => { c.hub = "hub"; }, "hub", /must be an object/],
    ["idScope missing", (c) => delete c.dps.idScope, "dps.idScope", /is missing/],
    ["idScope empty", (c) => { c.dps.idScope = ""; }, "dps.idScope", /letters and digits.*empty/],
    ["idScope with hyphen", (c) => { c.dps.idScope = "0ne-00A1B2C"; }, "dps.idScope", /character 4/],
    ["idScope with dot", (c) => { c.dps.idScope = "0ne.00A1B2C"; }, "dps.idScope", /character 4/],
    ["registrationId missing", (c) => delete c.dps.registrationId, "dps.registrationId", /is missing/],
    ["registrationId a number", (c) => { c.dps.registrationId = 7; }, "dps.registrationId", /must be a string, not number/],
    ["registrationId empty", (c) => { c.dps.registrationId = ""; }, "dps.registrationId", /it is empty/],
    ["registrationId 129 characters", (c) => { c.dps.registrationId = "a".repeat(129); }, "dps.registrationId",
      /129 characters; DPS allows at most 128/],
    ["registrationId with space", (c) => { c.dps.registrationId = "sensor 01"; }, "dps.registrationId",
      /character 7 \(' '\) is not allowed/],
    ["registrationId with slash", (c) => { c.dps.registrationId = "a/b"; }, "dps.registrationId",
      /character 2 \('\/'\) is not allowed/],
    ["registrationId not ASCII", (c) => { c.dps.registrationId = "caf\u00e9"; }, "dps.registrationId",
      /character 4 \('\\xe9'\) is not allowed/],
    ["registrationId ending with dot", (c) => { c.dps.registrationId = "sensor."; }, "dps.registrationId",
      /ends with '\.'/],
    ["registrationId ending with underscore", (c) => { c.dps.registrationId = "sensor_"; }, "dps.registrationId",
      /ends with '_'/],
    ["registrationId ending with colon", (c) => { c.dps.registrationId = "sensor:"; }, "dps.registrationId",
      /ends with ':'/],
    ["enrollment missing", (c) => delete c.dps.enrollment, "dps.enrollment", /is missing/],
    ["enrollment unknown", (c) => { c.dps.enrollment = "groups"; }, "dps.enrollment", /"individual" or "group", not "groups"/],
    ["deviceKey missing", (c) => delete c.dps.deviceKey, "dps.deviceKey", /is missing/],
    ["deviceKey not Base64", (c) => { c.dps.deviceKey = "not*base64*key!"; }, "dps.deviceKey", /not valid Base64/],
    ["deviceKey length not multiple of 4", (c) => { c.dps.deviceKey = INDIVIDUAL_KEY.slice(0, -1); }, "dps.deviceKey",
      /not a multiple of 4/],
    ["deviceKey too short", (c) => { c.dps.deviceKey = "AAECAwQFBgc="; }, "dps.deviceKey", /decodes to 8 bytes.*16 to 64/],
    ["deviceKey in Base64url", (c) => { c.dps.deviceKey = GROUP_KEY.replace("+", "-"); }, "dps.deviceKey", /Base64url/],
    ["deviceKey with space", (c) => { c.dps.deviceKey = GROUP_KEY.replace("+", " "); }, "dps.deviceKey",
      /'\+' may have been turned into a space/],
    ["group key on device", (c) => {
      delete c.dps.deviceKey;
      c.dps.enrollment = "group";
      c.dps.groupKey = GROUP_KEY;
    }, "dps.groupKey", /must not be stored on a device.*allowGroupKeyOnDevice/],
    ["group key on individual enrollment", (c) => {
      delete c.dps.deviceKey;
      c.dps.groupKey = GROUP_KEY;
      c.dps.allowGroupKeyOnDevice = true;
    }, "dps.groupKey", /only for dps.enrollment "group"/],
    ["both keys set", (c) => {
      c.dps.enrollment = "group";
      c.dps.groupKey = GROUP_KEY;
      c.dps.allowGroupKeyOnDevice = true;
    }, "dps.deviceKey", /both set/],
    ["DPS host outside trust", (c) => { c.dps.host = "dps.example.com"; }, "dps.host",
      /"dps.example.com" does not match trust.dpsSuffixes/],
    ["DPS host with scheme", (c) => { c.dps.host = "https://global.azure-devices-provisioning.net"; }, "dps.host",
      /not a valid host name.*without scheme, port or path/],
    ["DPS host lookalike", (c) => { c.dps.host = "evil-azure-devices-provisioning.net"; }, "dps.host",
      /does not match trust.dpsSuffixes/],
    ["DPS token TTL above cap", (c) => { c.dps.tokenTtlSeconds = 901; }, "dps.tokenTtlSeconds", /from 60 to 900, not 901/],
    ["DPS token TTL below minimum", (c) => { c.dps.tokenTtlSeconds = 59; }, "dps.tokenTtlSeconds", /from 60 to 900/],
    ["DPS token TTL fractional", (c) => { c.dps.tokenTtlSeconds = 600.5; }, "dps.tokenTtlSeconds", /whole number/],
    ["DPS token TTL a string", (c) => { c.dps.tokenTtlSeconds = "600"; }, "dps.tokenTtlSeconds", /not "600"/],
    ["hub token TTL above cap", (c) => { c.hub = { tokenTtlSeconds: 3601 }; }, "hub.tokenTtlSeconds",
      /from 60 to 3600, not 3601/],
    ["maxProvisioningSeconds too small", (c) => { c.dps.maxProvisioningSeconds = 5; }, "dps.maxProvisioningSeconds",
      /from 10 to 86400/],
    ["DPS port zero", (c) => { c.dps.port = 0; }, "dps.port", /from 1 to 65535, not 0/],
    ["DPS port too large", (c) => { c.dps.port = 65536; }, "dps.port", /from 1 to 65535/],
    ["DPS port a string", (c) => { c.dps.port = "443"; }, "dps.port", /not "443"/],
    ["hub port fractional", (c) => { c.hub = { port: 443.5 }; }, "hub.port", /whole number/],
    ["log level unknown", (c) => { c.device = { logLevel: "verbose" }; }, "device.logLevel",
      /one of error, warn, info, debug/],
    ["telnet not boolean", (c) => { c.device = { telnet: "yes" }; }, "device.telnet", /true or false/],
    ["modelId without dtmi", (c) => { c.dps.modelId = "com:example:Thermostat;1"; }, "dps.modelId", /starting with "dtmi:"/],
    ["payload a string", (c) => { c.dps.payload = "modelId"; }, "dps.payload", /JSON object/],
    ["payload an array", (c) => { c.dps.payload = [1]; }, "dps.payload", /JSON object/],
    ["payload null", (c) => { c.dps.payload = null; }, "dps.payload", /JSON object/],
    ["DPS trust list empty", (c) => { c.trust = { dpsSuffixes: [] }; }, "trust.dpsSuffixes", /non-empty list/],
    ["hub trust entry a number", (c) => { c.trust = { hubSuffixes: [".azure-devices.net", 5] }; }, "trust.hubSuffixes",
      /entry 2/],
    ["SSID too long", (c) => { c.wifi.ssid = "s".repeat(33); }, "wifi.ssid", /33 characters; WiFi allows at most 32/],
    ["WiFi password too long", (c) => { c.wifi.password = "p".repeat(65); }, "wifi.password", /at most 64/],
  ];

  for (const [name, change, field, pattern] of cases) {
    it(`reports ${name}`, () => {
      const result = validateChanged(change);
      const problem = result.problems.find((candidate) => candidate.field === field);

      assert.equal(result.config, undefined);
      assert.ok(problem !== undefined, `no problem for ${field}; got ${JSON.stringify(result.problems)}`);
      assert.match(problem.message, pattern);
    });
  }

  it("rejects a file that is no object", () => {
    for (const value of [null, [], "text", 42, undefined]) {
      const result = validateDeviceConfig(value);
      assert.deepEqual(fieldsOf(result.problems), ["(file)"], `for ${JSON.stringify(value)}`);
      assert.equal(result.config, undefined, `for ${JSON.stringify(value)}`);
    }
  });

  it("collects several problems at once", () => {
    const result = validateChanged((config) => {
      config.dps.registrationId = "sensor.";
      config.dps.tokenTtlSeconds = 3600;
      config.hub = { tokenTtlSeconds: 7200 };
      config.device = { logLevel: "trace" };
    });

    assert.deepEqual(fieldsOf(result.problems).sort(),
      ["device.logLevel", "dps.registrationId", "dps.tokenTtlSeconds", "hub.tokenTtlSeconds"]);
  });

  it("reports a mistyped enrollment once", () => {
    const result = validateChanged((config) => {
      config.dps.enrollment = 5;
    });

    assert.deepEqual(fieldsOf(result.problems), ["dps.enrollment"]);
  });

  it("reports a mistyped deviceKey once", () => {
    const result = validateChanged((config) => {
      config.dps.deviceKey = 12345;
    });

    assert.deepEqual(fieldsOf(result.problems), ["dps.deviceKey"]);
    assert.match(result.problems[0].message, /must be a string, not number/);
  });
});

describe("validateDeviceConfig group keys", () => {
  it("names the pasted group key", () => {
    const result = validateChanged((config) => {
      config.dps.deviceKey = GROUP_KEY;
    }, createGroupConfig);
    const messages = result.problems.map((problem) => problem.message).join("\n");

    assert.deepEqual(fieldsOf(result.problems), ["dps.deviceKey"]);
    assert.match(messages, /decodes to 64 bytes/);
    assert.match(messages, /always 32 bytes/);
    assert.match(messages, /group key pasted by mistake/);
    assert.match(messages, /npm run keys -- derive --registration-id <id> --group-key-file <file>/);
  });

  it("accepts a 64-byte individual key", () => {
    const result = validateChanged((config) => {
      config.dps.deviceKey = GROUP_KEY;
    });

    assert.deepEqual(result.problems, []);
  });

  it("warns about an allowed group key", () => {
    const result = validateChanged((config) => {
      delete config.dps.deviceKey;
      config.dps.groupKey = GROUP_KEY;
      config.dps.allowGroupKeyOnDevice = true;
    }, createGroupConfig);

    assert.deepEqual(result.problems, []);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /dps.groupKey is stored on this device/);
    assert.equal(result.config.dps.groupKey, GROUP_KEY);
    assert.equal(result.config.dps.deviceKey, undefined);
  });

  it("ignores a non-boolean allow flag", () => {
    const result = validateChanged((config) => {
      delete config.dps.deviceKey;
      config.dps.groupKey = GROUP_KEY;
      config.dps.allowGroupKeyOnDevice = "true";
    }, createGroupConfig);

    assert.ok(fieldsOf(result.problems).includes("dps.groupKey"));
  });
});

describe("validateDeviceConfig key secrecy", () => {
  // Each change puts a secret into a key field in a shape that the validator rejects or warns about.
  const cases = [
    ["pasted group key", (c) => { c.dps.enrollment = "group"; c.dps.deviceKey = GROUP_KEY; }, GROUP_KEY],
    ["Base64url key", (c) => { c.dps.deviceKey = GROUP_KEY.replace("+", "-"); }, GROUP_KEY.replace("+", "-")],
    ["key with space", (c) => { c.dps.deviceKey = GROUP_KEY.replace("+", " "); }, GROUP_KEY.replace("+", " ")],
    ["truncated key", (c) => { c.dps.deviceKey = GROUP_KEY.slice(0, 42); }, GROUP_KEY.slice(0, 42)],
    ["stray character", (c) => { c.dps.deviceKey = DERIVED_KEY.replace("r", "!"); }, DERIVED_KEY.replace("r", "!")],
    ["group key refused", (c) => {
      c.dps.enrollment = "group";
      delete c.dps.deviceKey;
      c.dps.groupKey = GROUP_KEY;
    }, GROUP_KEY],
    ["group key allowed", (c) => {
      c.dps.enrollment = "group";
      delete c.dps.deviceKey;
      c.dps.groupKey = GROUP_KEY;
      c.dps.allowGroupKeyOnDevice = true;
    }, GROUP_KEY],
    ["group key and device key", (c) => {
      c.dps.enrollment = "group";
      c.dps.deviceKey = DERIVED_KEY;
      c.dps.groupKey = GROUP_KEY;
      c.dps.allowGroupKeyOnDevice = true;
    }, DERIVED_KEY],
  ];

  for (const [name, change, secret] of cases) {
    it(`hides the key: ${name}`, () => {
      const result = validateChanged(change);
      const text = JSON.stringify({ problems: result.problems, warnings: result.warnings });

      assert.ok(result.problems.length + result.warnings.length > 0, "the case produced no message to check");
      assert.ok(!text.includes(secret), `a message contains the key: ${text}`);
      assert.ok(!text.includes(secret.slice(0, 12)), `a message contains the start of the key: ${text}`);
    });
  }
});

describe("validateDeviceConfig warnings", () => {
  it("warns about a misspelled field", () => {
    const result = validateChanged((config) => {
      config.wifi.pasword = config.wifi.password;
      config.hubb = {};
    });

    assert.equal(result.problems.length, 0);
    assert.ok(result.warnings.some((w) => w.startsWith("wifi.pasword is not a known field")), result.warnings.join("\n"));
    assert.ok(result.warnings.some((w) => w.startsWith("hubb is not a known field")), result.warnings.join("\n"));
  });

  it("warns when Telnet is enabled", () => {
    const result = validateChanged((config) => {
      config.device = { telnet: true };
    });

    assert.ok(result.warnings.some((w) => /device\.telnet is true.*no password/.test(w)));
  });

  it("rejects an empty SSID", () => {
    const result = validateChanged((config) => {
      config.wifi.ssid = "";
    });

    assert.deepEqual(fieldsOf(result.problems), ["wifi.ssid"]);
  });
});
