// Checks a device configuration file before it is written to the board.
//
// The rules live in `firmware/core/config.ts` (`validateDeviceConfig`), the same code the board runs. This file
// reads the JSON, calls that validator, and never puts the file's contents into a message, because it contains a key.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { REPOSITORY_ROOT } from "./espruino-cli.mjs";

/** Absolute path of the firmware module that exports `validateDeviceConfig`. */
export const CONFIG_VALIDATOR_PATH = path.join(REPOSITORY_ROOT, "firmware", "core", "config.ts");

/**
 * Reads a device configuration file and lists every problem that would stop the firmware from using it.
 *
 * The file must be UTF-8 JSON without a byte order mark, because Espruino's `JSON.parse` rejects the mark.
 *
 * @param {string} configPath Absolute path of the JSON file.
 * @param {object} [options]
 * @param {string} [options.validatorPath] Module that exports `validateDeviceConfig`; defaults to
 *   `CONFIG_VALIDATOR_PATH`. Runs through tsx, so a `.ts` path works.
 * @returns {Promise<{ problems: Array<{ field: string, message: string }>, warnings: string[], validatorFound: boolean }>}
 *   `problems` is empty when the file can be flashed. `warnings` lists settings that work but should change.
 *   `validatorFound` is false when the validator module does not exist, in which case only the JSON syntax and
 *   the top-level object were checked.
 * @throws {Error} When the file cannot be read, or the validator module exists but does not export
 *   `validateDeviceConfig` or returns something other than `{ problems: [...] }`.
 */
export async function checkDeviceConfigFile(configPath, options = {}) {
  const validatorPath = options.validatorPath ?? CONFIG_VALIDATOR_PATH;
  const text = fs.readFileSync(configPath, "utf8");

  if (text.charCodeAt(0) === 0xfeff) {
    return {
      problems: [{ field: "(file)", message: "starts with a UTF-8 byte order mark, which the board cannot parse: save it as UTF-8 without BOM" }],
      warnings: [],
      validatorFound: fs.existsSync(validatorPath),
    };
  }

  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      problems: [{ field: "(file)", message: describeJsonSyntaxError(error, text) }],
      warnings: [],
      validatorFound: fs.existsSync(validatorPath),
    };
  }

  if (!fs.existsSync(validatorPath)) {
    // NOTE: until firmware/core/config.ts exists, only the top-level shape is checked here.
    const problems =
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? []
        : [{ field: "(file)", message: "must contain one JSON object" }];
    return { problems, warnings: [], validatorFound: false };
  }

  const validatorModule = await import(pathToFileURL(validatorPath).href);
  if (typeof validatorModule.validateDeviceConfig !== "function") {
    throw new Error(`${validatorPath} does not export a function validateDeviceConfig(value)`);
  }

  const result = validatorModule.validateDeviceConfig(value);
  if (result === null || typeof result !== "object" || !Array.isArray(result.problems)) {
    throw new Error(`validateDeviceConfig in ${validatorPath} returned no problems array`);
  }
  const warnings = Array.isArray(result.warnings) ? result.warnings : [];
  return { problems: result.problems, warnings, validatorFound: true };
}

/**
 * Describes a JSON syntax error by line and column only. Node's own message quotes the text around the error,
 * which could be part of a key.
 */
function describeJsonSyntaxError(error, text) {
  const positionMatch = /position (\d+)/.exec(String(error && error.message));
  if (positionMatch === null) {
    return "is not valid JSON";
  }

  const offset = Number(positionMatch[1]);
  const before = text.slice(0, offset);
  const lineNumber = before.split("\n").length;
  const columnNumber = offset - before.lastIndexOf("\n");
  return `is not valid JSON: syntax error at line ${lineNumber}, column ${columnNumber}`;
}
