// The subcommands of the `keys` CLI: derive, token, diagnose and check-config.
//
// Each command takes its own arguments and an output object, prints its result, and returns the exit code.
// Wrong use throws `UsageError`. Derivation and signing use the firmware's own code (`firmware/core/sas.ts`), so
// the host makes exactly the keys and tokens the board makes.

import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import {
  computeExpiryEpochSeconds,
  createDpsSasToken,
  createHubSasToken,
  decodeSymmetricKey,
  DERIVED_KEY_BYTES,
  deriveDeviceKey,
} from "../../firmware/core/sas.ts";
import { findRegistrationIdProblem } from "../../firmware/core/identifiers.ts";
import { DEFAULT_DPS_TOKEN_TTL_SECONDS, DEFAULT_HUB_TOKEN_TTL_SECONDS } from "../../firmware/core/constants.ts";
import { checkDeviceConfigFile, CONFIG_VALIDATOR_PATH } from "./device-config-check.mjs";
import { formatDuration, formatInstant } from "./diagnose-claims.mjs";
import { diagnoseDpsToken, diagnoseHubToken } from "./diagnose.mjs";
import { CHECK_CONFIG_HELP, DERIVE_HELP, DIAGNOSE_HELP, TOKEN_HELP } from "./keys-help.mjs";
import { readSecretOption, secretOptionDefinitions, UsageError } from "./keys-secret-input.mjs";
import { sha256BinaryString } from "./node-sha256.mjs";
import { maskSasToken, maskSecret } from "./secret-text.mjs";

/** Default `diagnose --expiry-search-seconds`: two days on each side of `se`, about 350,000 HMACs (about 1 s on
// Node 20 in the development container). */
const CLI_EXPIRY_SEARCH_SECONDS = 2 * 86400;

/**
 * Runs `derive`: prints the device key derived from a group key, masked unless `--show-secrets`.
 *
 * @param {string[]} argv Arguments after "derive".
 * @param {{ out: (line: string) => void, err: (line: string) => void }} io Writers for standard output and error.
 * @returns {number} Exit code 0.
 * @throws {UsageError} On missing or invalid options, or an invalid group key.
 */
export function runDerive(argv, io) {
  const values = parseCommandArguments(argv, {
    "registration-id": { type: "string" },
    ...secretOptionDefinitions("group-key"),
    ...outputOptionDefinitions(),
  }, 0);
  if (values.help) return printHelp(io, DERIVE_HELP);

  const registrationId = requireRegistrationId(values["registration-id"], io);
  const groupKey = requireKey(values, "group-key", "the group key", io);

  const groupKeyBytes = decodeKeyOrThrow(groupKey, "The group key");
  if (groupKeyBytes.length === DERIVED_KEY_BYTES) {
    io.err("warning: the group key decodes to " + DERIVED_KEY_BYTES + " bytes, like a derived device key; DPS " +
      "generates 64-byte group keys. Check that this is the group's key and not a device key.");
  }

  const deviceKey = deriveDeviceKey(sha256BinaryString, groupKey, registrationId);
  printSecretResult(io, values, deviceKey, maskSecret(deviceKey), "derived device key");
  return 0;
}

/**
 * Runs `token dps` or `token hub`: prints a SAS token, its signature masked unless `--show-secrets`.
 *
 * @param {string[]} argv Arguments after "token", starting with "dps" or "hub".
 * @param {{ out: (line: string) => void, err: (line: string) => void }} io Writers for standard output and error.
 * @returns {number} Exit code 0.
 * @throws {UsageError} On missing or invalid options or keys.
 */
export function runToken(argv, io) {
  const kind = argv[0];
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  if (kind !== "dps" && kind !== "hub" && !wantsHelp) {
    throw new UsageError("token needs the kind of token first: \"token dps\" or \"token hub\" (see token --help)");
  }
  const values = parseCommandArguments(kind === "dps" || kind === "hub" ? argv.slice(1) : argv, {
    "id-scope": { type: "string" },
    "registration-id": { type: "string" },
    "hub-host-name": { type: "string" },
    "device-id": { type: "string" },
    "ttl-seconds": { type: "string" },
    now: { type: "string" },
    ...secretOptionDefinitions("key"),
    ...secretOptionDefinitions("group-key"),
    ...outputOptionDefinitions(),
  }, 0);
  if (values.help) return printHelp(io, TOKEN_HELP);

  const ttlDefault = kind === "dps" ? DEFAULT_DPS_TOKEN_TTL_SECONDS : DEFAULT_HUB_TOKEN_TTL_SECONDS;
  const ttlSeconds = parseWholeNumber(values["ttl-seconds"], "--ttl-seconds", ttlDefault, 1);
  const nowEpochSeconds = parseWholeNumber(values.now, "--now", Math.floor(Date.now() / 1000), 0);
  const expiryEpochSeconds = computeExpiryEpochSeconds(nowEpochSeconds, ttlSeconds);

  let token;
  if (kind === "dps") {
    const idScope = requireText(values["id-scope"], "--id-scope", "the DPS ID scope, e.g. 0ne000A1B2C");
    const registrationId = requireRegistrationId(values["registration-id"], io);
    const deviceKey = readDeviceKey(values, registrationId, io);
    token = createDpsSasToken(sha256BinaryString, { idScope, registrationId, deviceKey, expiryEpochSeconds });
  } else {
    const hubHostName = requireText(values["hub-host-name"], "--hub-host-name",
      "the assigned hub, e.g. example-hub.azure-devices.net");
    const deviceId = requireText(values["device-id"], "--device-id", "the device ID that DPS returned");
    const deviceKey = readDeviceKey(values, deviceId, io);
    token = createHubSasToken(sha256BinaryString, { hubHostName, deviceId, deviceKey, expiryEpochSeconds });
  }

  printSecretResult(io, values, token, maskSasToken(token), "token");
  io.err("The token expires at " + formatInstant(expiryEpochSeconds) + " (se=" + expiryEpochSeconds + ", " +
    formatDuration(ttlSeconds) + " after " + formatInstant(nowEpochSeconds) + ").");
  return 0;
}

/**
 * Runs `diagnose [dps|hub]`: explains why the service would reject a token.
 *
 * @param {string[]} argv Arguments after "diagnose", optionally starting with "dps" or "hub".
 * @param {{ out: (line: string) => void, err: (line: string) => void }} io Writers for standard output and error.
 * @returns {number} 0 when the token would be accepted, 1 when it would be rejected.
 * @throws {UsageError} On missing or invalid options or keys.
 */
export function runDiagnose(argv, io) {
  let kind = "dps";
  let rest = argv;
  if (argv[0] === "dps" || argv[0] === "hub") {
    kind = argv[0];
    rest = argv.slice(1);
  }

  const values = parseCommandArguments(rest, {
    "id-scope": { type: "string" },
    "registration-id": { type: "string" },
    "hub-host-name": { type: "string" },
    "device-id": { type: "string" },
    "enrollment-group-id": { type: "string" },
    "expiry-search-seconds": { type: "string" },
    now: { type: "string" },
    json: { type: "boolean" },
    ...secretOptionDefinitions("token"),
    ...secretOptionDefinitions("key"),
    ...secretOptionDefinitions("group-key"),
    help: { type: "boolean", short: "h" },
  }, 0);
  if (values.help) return printHelp(io, DIAGNOSE_HELP);

  const state = {};
  const tokenText = readSecretOption(values, "token", { description: "the token", warn: io.err, state });
  if (tokenText === undefined) {
    throw new UsageError("diagnose needs the token: --token-file FILE, --token-env VARIABLE or --token-file - " +
      "(standard input)");
  }

  const input = {
    token: normalizeTokenText(tokenText),
    deviceKey: readSecretOption(values, "key", { description: "the device key", warn: io.err, state }),
    groupKey: readSecretOption(values, "group-key", { description: "the group key", warn: io.err, state }),
    enrollmentGroupId: values["enrollment-group-id"],
    nowEpochSeconds: parseWholeNumber(values.now, "--now", Date.now() / 1000, 0),
    expirySearchSeconds: parseWholeNumber(values["expiry-search-seconds"], "--expiry-search-seconds",
      CLI_EXPIRY_SEARCH_SECONDS, 0),
  };
  if (input.deviceKey !== undefined) decodeKeyOrThrow(input.deviceKey, "The device key");
  if (input.groupKey !== undefined) decodeKeyOrThrow(input.groupKey, "The group key");

  let result;
  let resource;
  if (kind === "dps") {
    input.idScope = requireText(values["id-scope"], "--id-scope", "the DPS ID scope of the request");
    input.registrationId = requireText(values["registration-id"], "--registration-id",
      "the registration ID of the request");
    resource = input.idScope + "/registrations/" + input.registrationId;
    result = diagnoseDpsToken(input);
  } else {
    input.hubHostName = requireText(values["hub-host-name"], "--hub-host-name", "the hub the request goes to");
    input.deviceId = requireText(values["device-id"], "--device-id", "the device ID of the request");
    resource = input.hubHostName + "/devices/" + input.deviceId;
    result = diagnoseHubToken(input);
  }

  if (values.json) {
    io.out(JSON.stringify(result, null, 2));
  } else {
    printDiagnosis(io, result, kind, resource, input.nowEpochSeconds);
  }
  return result.accepted ? 0 : 1;
}

/**
 * Runs `check-config FILE`: prints each problem of a device configuration file with its field.
 *
 * @param {string[]} argv Arguments after "check-config".
 * @param {{ out: (line: string) => void, err: (line: string) => void }} io Writers for standard output and error.
 * @returns {Promise<number>} 0 when the file can be flashed, 1 when it has problems.
 * @throws {UsageError} When no file is given or it cannot be read.
 */
export async function runCheckConfig(argv, io) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) return printHelp(io, CHECK_CONFIG_HELP);
  if (positionals.length !== 1) throw new UsageError("check-config needs exactly one FILE (see check-config --help)");

  const configPath = path.resolve(positionals[0]);
  if (!fs.existsSync(configPath)) throw new UsageError("Configuration file " + configPath + " does not exist");

  const result = await checkDeviceConfigFile(configPath);
  const warnings = result.warnings;

  if (values.json) {
    io.out(JSON.stringify({ problems: result.problems, warnings }, null, 2));
  } else {
    if (!result.validatorFound) {
      io.err("warning: " + CONFIG_VALIDATOR_PATH + " is missing, so only the JSON syntax was checked.");
    }
    for (const problem of result.problems) io.out("problem: " + problem.field + ": " + problem.message);
    for (const warning of warnings) io.out("warning: " + warning);
    io.out(result.problems.length === 0
      ? configPath + ": no problems; the file can be flashed."
      : configPath + ": " + result.problems.length + " problem(s); fix them before flashing.");
  }
  return result.problems.length === 0 ? 0 : 1;
}

function printDiagnosis(io, result, kind, resource, nowEpochSeconds) {
  const serviceName = kind === "dps" ? "DPS" : "IoT Hub";
  const errors = result.problems.filter((problem) => problem.severity === "error");
  const warnings = result.problems.filter((problem) => problem.severity !== "error");

  io.out(serviceName + " token for " + resource + ", checked at " + formatInstant(nowEpochSeconds) + ":");
  const unchecked = result.problems.some((problem) => problem.code === "signature-not-checked");
  io.out(result.accepted
    ? (unchecked
      ? "  No problem found in sr, se, skn and the encoding of sig, but the signature was not checked because no key " +
        "was given: add --key-file or --group-key-file to check it."
      : "  " + serviceName + " would accept this token.")
    : "  " + serviceName + " would reject this token (" + (kind === "dps" ? "401, errorCode 401002" :
      "401, errorCode 401003") + ") because of " + errors.length + " problem(s):");

  errors.forEach((problem, index) => io.out("  " + (index + 1) + ". " + problem.message + " [" + problem.code + "]"));
  if (warnings.length > 0) io.out("  Also note:");
  for (const warning of warnings) io.out("  - " + warning.message + " [" + warning.code + "]");
}

// Removes what users often copy along with a token: an "Authorization:" header name and surrounding quotes.
function normalizeTokenText(text) {
  let token = text.trim().replace(/^authorization:\s*/i, "");
  if (token.length >= 2 && (token[0] === "\"" || token[0] === "'") && token[token.length - 1] === token[0]) {
    token = token.slice(1, -1);
  }
  return token.trim();
}

function readDeviceKey(values, registrationId, io) {
  const state = {};
  const deviceKey = readSecretOption(values, "key", { description: "the device key", warn: io.err, state });
  const groupKey = readSecretOption(values, "group-key", { description: "the group key", warn: io.err, state });

  if (deviceKey !== undefined && groupKey !== undefined) {
    throw new UsageError("Give either the device key (--key-file) or the group key (--group-key-file), not both");
  }
  if (deviceKey === undefined && groupKey === undefined) {
    throw new UsageError("A key is needed: --key-file FILE (device key) or --group-key-file FILE (group key), or " +
      "the -env forms");
  }
  if (groupKey !== undefined) {
    decodeKeyOrThrow(groupKey, "The group key");
    return deriveDeviceKey(sha256BinaryString, groupKey, registrationId);
  }

  decodeKeyOrThrow(deviceKey, "The device key");
  return deviceKey;
}

function printSecretResult(io, values, secret, maskedSecret, description) {
  if (values["out-file"] !== undefined) {
    try {
      fs.writeFileSync(values["out-file"], secret + "\n", { mode: 0o600 });
    } catch (error) {
      throw new UsageError("Cannot write --out-file " + values["out-file"] + ": " + (error.code ?? error.message));
    }
    io.out(maskedSecret);
    io.err("The " + description + " was written to " + values["out-file"] + " and is shown masked above.");
    return;
  }

  if (values["show-secrets"]) {
    io.out(secret);
    return;
  }

  io.out(maskedSecret);
  io.err("The " + description + " is masked; add --show-secrets to print it in full, or --out-file FILE to save it.");
}

function outputOptionDefinitions() {
  return {
    "show-secrets": { type: "boolean" },
    "out-file": { type: "string" },
    help: { type: "boolean", short: "h" },
  };
}

function parseCommandArguments(argv, options, positionalCount) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error.message.replace(/\. To specify.*$/s, "") + " (see --help)");
  }
  if (parsed.positionals.length > positionalCount) {
    throw new UsageError("Unexpected argument \"" + parsed.positionals[positionalCount] + "\" (see --help)");
  }
  return parsed.values;
}

function printHelp(io, text) {
  io.out(text.trimEnd());
  return 0;
}

function requireText(value, option, meaning) {
  if (value === undefined || value.trim() === "") throw new UsageError(option + " is missing: give " + meaning);
  return value.trim();
}

function requireRegistrationId(value, io) {
  const registrationId = requireText(value, "--registration-id", "the device's registration ID");

  const problem = findRegistrationIdProblem(registrationId);
  if (problem !== undefined) throw new UsageError("--registration-id breaks the DPS rules: " + problem);
  if (registrationId !== registrationId.toLowerCase()) {
    io.err("warning: the registration ID has upper-case letters. DPS compares registration IDs without case, but " +
      "the derived key covers the exact characters: use the same spelling everywhere, lower-case if you can.");
  }
  return registrationId;
}

function requireKey(values, name, description, io) {
  const key = readSecretOption(values, name, { description, warn: io.err, state: {} });
  if (key === undefined) {
    throw new UsageError(description + " is missing: give --" + name + "-file FILE, --" + name + "-env VARIABLE " +
      "or --" + name + "-file - (standard input)");
  }
  return key;
}

function decodeKeyOrThrow(keyBase64, description) {
  try {
    return decodeSymmetricKey(keyBase64, description);
  } catch (error) {
    throw new UsageError(error.message);
  }
}

function parseWholeNumber(text, option, fallback, minimum) {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < minimum) {
    throw new UsageError(option + " must be a whole number" + (minimum > 0 ? " of at least " + minimum : "") +
      ", not \"" + text + "\"");
  }
  return Number(text);
}
