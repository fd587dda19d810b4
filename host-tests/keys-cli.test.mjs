// The keys CLI run as a child process (tsx scripts/keys.mjs). Derive and token are checked against the published
// vectors, and diagnose against the field failures F1 to F6 and F10 with their exit codes. Every test that prints
// without --show-secrets also checks that no output contains a key or a signature.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TSX_PATH = path.join(REPOSITORY_ROOT, "node_modules", ".bin", "tsx");

const GROUP_KEY = "Ik9o3fzifzPDvBr3OqJLELBwYubbqcJk9wb9EZFIEYhzVBSC85+e8Lhh6HB0Q3C7tjTbHpQQfOFB0hAqGMv2Fg==";
const DEVICE_KEY = "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=";
const DOCS_GROUP_KEY = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
const DOCS_REGISTRATION_ID = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
const DOCS_DERIVED_KEY = "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=";
const EXPIRY = 1767225600;
const NOW = String(EXPIRY - 600);
const SIGNATURE = "/Eqc0gTG/s03NkJQqfGk35WWj3ZCqOL1DICiRw6Cg9w=";
const DPS_TOKEN = "SharedAccessSignature sr=0ne000A1B2C%2Fregistrations%2Fsensor-01&sig=%2FEqc0gTG%2Fs03NkJQqfGk35WW" +
  "j3ZCqOL1DICiRw6Cg9w%3D&se=1767225600&skn=registration";
const HUB_TOKEN = "SharedAccessSignature sr=example-hub.azure-devices.net%2Fdevices%2Fsensor-01&sig=I2rbzTr6q678FQk" +
  "VZK0BDzqfMRqF4It4xrrXKwiuYBM%3D&se=1767225600";
const DPS_ARGUMENTS = ["--id-scope", "0ne000A1B2C", "--registration-id", "sensor-01"];

/** Every secret of the fixtures, as it could appear in output: keys, signatures, encoded signatures. */
const SECRETS = [GROUP_KEY, DEVICE_KEY, DOCS_GROUP_KEY, DOCS_DERIVED_KEY, SIGNATURE, encodeURIComponent(SIGNATURE),
  "I2rbzTr6q678FQkVZK0BDzqfMRqF4It4xrrXKwiuYBM", "sEH1Q8VoBGXKHT", "RiCB5X6sCEaS8ddgmDMXzeBgRh7N"];

let workDirectory;
const files = {};

// Runs the CLI and resolves with its exit code and output; `input` is written to standard input.
function runKeys(cliArguments, { input, env } = {}) {
  return new Promise((resolve) => {
    const child = execFile(TSX_PATH, ["scripts/keys.mjs", ...cliArguments],
      { cwd: REPOSITORY_ROOT, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ exitCode: error ? error.code : 0, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

function writeFixture(name, text) {
  const filePath = path.join(workDirectory, name);
  fs.writeFileSync(filePath, text);
  files[name] = filePath;
  return filePath;
}

function signBase64(keyBase64, text) {
  return createHmac("sha256", Buffer.from(keyBase64, "base64")).update(text).digest("base64");
}

function diagnoseArguments(token, keyArguments) {
  const tokenPath = writeFixture("token-" + Object.keys(files).length + ".txt", token + "\n");
  return ["diagnose", "--token-file", tokenPath, ...DPS_ARGUMENTS, "--now", NOW, ...keyArguments];
}

function assertNoSecrets(result) {
  for (const secret of SECRETS) {
    assert.ok(!result.stdout.includes(secret), "standard output contains a secret");
    assert.ok(!result.stderr.includes(secret), "standard error contains a secret");
  }
}

before(() => {
  workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "keys-cli-"));
  writeFixture("group.key", GROUP_KEY + "\n");
  writeFixture("device.key", DEVICE_KEY + "\n");
  writeFixture("docs-group.key", DOCS_GROUP_KEY);
});

after(() => {
  fs.rmSync(workDirectory, { recursive: true, force: true });
});

describe("keys derive", () => {
  it("matches the official docs vector", async () => {
    const result = await runKeys(["derive", "--registration-id", DOCS_REGISTRATION_ID, "--group-key-file",
      files["docs-group.key"], "--show-secrets"]);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, DOCS_DERIVED_KEY + "\n");
  });

  it("matches key D from standard input", async () => {
    const result = await runKeys(["derive", "--registration-id", "sensor-01", "--group-key-file", "-",
      "--show-secrets"], { input: GROUP_KEY + "\n" });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, DEVICE_KEY + "\n");
  });

  it("masks the key by default", async () => {
    const result = await runKeys(["derive", "--registration-id", "sensor-01", "--group-key-env", "TEST_GROUP_KEY"],
      { env: { TEST_GROUP_KEY: GROUP_KEY } });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, "rWjb...U=\n");
    assert.match(result.stderr, /add --show-secrets/);
    assertNoSecrets(result);
  });

  it("writes the key with --out-file", async () => {
    const outPath = path.join(workDirectory, "derived.key");
    const result = await runKeys(["derive", "--registration-id", "sensor-01", "--group-key-file", files["group.key"],
      "--out-file", outPath]);
    assert.equal(result.exitCode, 0);
    assert.equal(fs.readFileSync(outPath, "utf8"), DEVICE_KEY + "\n");
    assert.equal(fs.statSync(outPath).mode & 0o777, 0o600);
    assertNoSecrets(result);
  });

  it("warns about a key on the command line", async () => {
    const result = await runKeys(["derive", "--registration-id", "sensor-01", "--group-key", GROUP_KEY]);
    assert.equal(result.exitCode, 0);
    assert.match(result.stderr, /--group-key puts the group key into your shell history/);
    assertNoSecrets(result);
  });

  it("rejects an invalid group key by name", async () => {
    const result = await runKeys(["derive", "--registration-id", "sensor-01", "--group-key-env", "TEST_GROUP_KEY"],
      { env: { TEST_GROUP_KEY: GROUP_KEY.replace("+", " ") } });
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /The group key is not valid Base64 because it contains a space at position 51/);
  });

  it("rejects a missing registration ID", async () => {
    const result = await runKeys(["derive", "--group-key-file", files["group.key"]]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /--registration-id is missing/);
  });
});

describe("keys token", () => {
  it("makes the documented DPS token", async () => {
    const result = await runKeys(["token", "dps", ...DPS_ARGUMENTS, "--group-key-file", files["group.key"],
      "--now", String(EXPIRY - 900), "--show-secrets"]);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, DPS_TOKEN + "\n");
  });

  it("makes the documented hub token", async () => {
    const result = await runKeys(["token", "hub", "--hub-host-name", "example-hub.azure-devices.net", "--device-id",
      "sensor-01", "--key-file", files["device.key"], "--now", String(EXPIRY - 3600), "--show-secrets"]);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, HUB_TOKEN + "\n");
  });

  it("masks the signature by default", async () => {
    const result = await runKeys(["token", "dps", ...DPS_ARGUMENTS, "--key-file", files["device.key"],
      "--now", String(EXPIRY - 100), "--ttl-seconds", "100"]);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, DPS_TOKEN.replace(encodeURIComponent(SIGNATURE), "%2FE...3D") + "\n");
    assertNoSecrets(result);
  });

  it("rejects a TTL that is not a number", async () => {
    const result = await runKeys(["token", "dps", ...DPS_ARGUMENTS, "--key-file", files["device.key"],
      "--ttl-seconds", "15m"]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /--ttl-seconds must be a whole number of at least 1, not "15m"/);
  });
});

describe("keys diagnose", () => {
  // case, token, key arguments, expected exit code, expected text in standard output
  const cases = [
    ["correct token", DPS_TOKEN, ["--group-key-file", "group.key"], 0, /DPS would accept this token/],
    ["F1 group key", DPS_TOKEN.replace(encodeURIComponent(SIGNATURE),
      encodeURIComponent("sEH1Q8VoBGXKHT/srytqJqUQv5FwTWkJW9G2ttcLRp4=")), ["--group-key-file", "group.key"], 1,
    /signed with the group key instead of the device key derived from it\..*\[signed-with-group-key\]/s],
    ["F2 faulty signer", DPS_TOKEN.replace(encodeURIComponent(SIGNATURE), encodeURIComponent(signBase64(DEVICE_KEY,
      "0ne000A1B2C/registrations/sensor-01\n" + EXPIRY + "\n"))), ["--key-file", "device.key"], 1,
    /no known mistake reproduces it.*\[signature-mismatch\]/s],
    ["F3 key text", DPS_TOKEN.replace(encodeURIComponent(SIGNATURE),
      encodeURIComponent("RiCB5X6sCEaS8ddgmDMXzeBgRh7N/tY/DVULpEPpRQM=")), ["--key-file", "device.key"], 1,
    /text of the device key as the HMAC key.*\[key-not-base64-decoded\]/s],
    ["F4 sr encoded twice", "SharedAccessSignature sr=0ne000A1B2C%252Fregistrations%252Fsensor-01&sig=" +
      encodeURIComponent("ckw+WskSfzbF3cvmsF7NcAsQNiYZj1jltvym03cJ3pI=") + "&se=1767225600&skn=registration",
    ["--key-file", "device.key"], 1, /percent-encoded twice.*\[sr-double-encoded\]/s],
    ["F5 raw sig", "SharedAccessSignature sr=0ne000A1B2C%252Fregistrations%252Fsensor-01&sig=" +
      "ckw+WskSfzbF3cvmsF7NcAsQNiYZj1jltvym03cJ3pI=&se=1767225600&skn=registration", ["--key-file", "device.key"], 1,
    /raw '\+', which the service decodes as a space.*\[sig-not-percent-encoded\]/s],
    ["F6 clock near 1970", "SharedAccessSignature sr=0ne000A1B2C%2Fregistrations%2Fsensor-01&sig=" +
      encodeURIComponent(signBase64(DEVICE_KEY, "0ne000A1B2C%2Fregistrations%2Fsensor-01\n3600")) +
      "&se=3600&skn=registration", ["--key-file", "device.key"], 1, /before its clock was set.*\[se-clock-not-set\]/s],
    ["F10 group key as device key", DPS_TOKEN, ["--key-file", "group.key", "--enrollment-group-id", "sensors"], 1,
      /group key configured as the device key.*\[device-key-is-group-key\]/s],
  ];

  for (const [name, token, keyArguments, exitCode, expectedText] of cases) {
    it(name + " exits " + exitCode, async () => {
      const resolvedKeyArguments = keyArguments.map((argument) => files[argument] ?? argument);
      const result = await runKeys(diagnoseArguments(token, resolvedKeyArguments));

      assert.equal(result.exitCode, exitCode, result.stdout + result.stderr);
      assert.match(result.stdout, expectedText);
      assertNoSecrets(result);
    });
  }

  it("prints JSON with --json", async () => {
    const result = await runKeys([...diagnoseArguments(DPS_TOKEN, ["--key-file", files["group.key"],
      "--enrollment-group-id", "sensors"]), "--json"]);
    const parsed = JSON.parse(result.stdout);

    assert.equal(result.exitCode, 1);
    assert.equal(parsed.accepted, false);
    assert.deepEqual(parsed.problems.map((problem) => problem.code), ["device-key-is-group-key", "signature-mismatch"]);
  });

  it("reads a pasted Authorization header", async () => {
    const result = await runKeys(["diagnose", "--token-file", "-", ...DPS_ARGUMENTS, "--now", NOW, "--key-env",
      "TEST_DEVICE_KEY"], { input: "Authorization: " + DPS_TOKEN + "\n", env: { TEST_DEVICE_KEY: DEVICE_KEY } });
    assert.equal(result.exitCode, 0);
  });

  it("checks a hub token", async () => {
    const result = await runKeys(["diagnose", "hub", "--token-env", "TEST_TOKEN", "--hub-host-name",
      "example-hub.azure-devices.net", "--device-id", "sensor-01", "--group-key-file", files["group.key"], "--now",
      NOW], { env: { TEST_TOKEN: HUB_TOKEN } });
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout, /IoT Hub would accept this token/);
  });

  it("exits 2 without a token", async () => {
    const result = await runKeys(["diagnose", ...DPS_ARGUMENTS]);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /diagnose needs the token/);
  });
});

describe("keys check-config", () => {
  const config = {
    wifi: { ssid: "lab" },
    dps: { idScope: "0ne000A1B2C", registrationId: "sensor-01", enrollment: "group", deviceKey: DEVICE_KEY },
  };

  it("accepts a valid file", async () => {
    const result = await runKeys(["check-config", writeFixture("good.json", JSON.stringify(config))]);
    assert.equal(result.exitCode, 0, result.stdout);
    assert.match(result.stdout, /no problems/);
  });

  it("F10 names the group key field", async () => {
    const wrong = { ...config, dps: { ...config.dps, deviceKey: GROUP_KEY } };
    const result = await runKeys(["check-config", writeFixture("f10.json", JSON.stringify(wrong))]);

    assert.equal(result.exitCode, 1);
    assert.match(result.stdout, /problem: dps\.deviceKey: decodes to 64 bytes/);
    assertNoSecrets(result);
  });

  it("reports a JSON syntax error by line", async () => {
    const result = await runKeys(["check-config", writeFixture("broken.json", "{\n  \"wifi\": {,\n}")]);
    assert.equal(result.exitCode, 1);
    assert.match(result.stdout, /problem: \(file\): is not valid JSON: syntax error at line 2/);
  });
});

describe("keys help", () => {
  it("documents every command", async () => {
    const result = await runKeys(["--help"]);
    assert.equal(result.exitCode, 0);
    for (const command of ["derive", "token dps", "token hub", "diagnose", "check-config"]) {
      assert.ok(result.stdout.includes(command), "help does not mention " + command);
    }
  });

  it("explains masking in derive help", async () => {
    const result = await runKeys(["derive", "--help"]);
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout, /Why masked by default/);
  });
});
