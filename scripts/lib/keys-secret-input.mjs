// Reading keys and tokens for the `keys` CLI from a file, an environment variable, standard input or (with a
// warning) the command line, so that they need not appear in shell history.

import fs from "node:fs";

/** Error for wrong command-line use; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {}

/**
 * Option definitions for one secret, for `util.parseArgs`.
 *
 * @param {string} name Option stem, e.g. "key", "group-key" or "token".
 * @returns {object} `--NAME`, `--NAME-file` and `--NAME-env`, all strings.
 */
export function secretOptionDefinitions(name) {
  return {
    [name]: { type: "string" },
    [name + "-file"]: { type: "string" },
    [name + "-env"]: { type: "string" },
  };
}

/**
 * Reads one secret from the source the user chose.
 *
 * `--NAME-file -` reads standard input. Surrounding whitespace, including the final line break, is removed.
 *
 * @param {Record<string, string | undefined>} values Parsed option values.
 * @param {string} name Option stem, e.g. "key".
 * @param {object} context
 * @param {string} context.description What the secret is, for messages, e.g. "the device key".
 * @param {(line: string) => void} context.warn Prints a warning line on standard error.
 * @param {{ stdinUsedBy?: string }} context.state Shared between calls, so that only one secret reads stdin.
 * @returns {string | undefined} The secret, or `undefined` when none of the options was given.
 * @throws {UsageError} When two sources are given, a file cannot be read, a variable is unset, or the value is empty.
 */
export function readSecretOption(values, name, context) {
  const sources = [name, name + "-file", name + "-env"].filter((option) => values[option] !== undefined);
  if (sources.length === 0) return undefined;
  if (sources.length > 1) {
    throw new UsageError("Give " + context.description + " once: --" + sources.join(" and --") + " were both given");
  }

  let text;
  if (values[name] !== undefined) {
    context.warn("warning: --" + name + " puts " + context.description + " into your shell history and the process " +
      "list; use --" + name + "-file FILE or --" + name + "-env VARIABLE instead");
    text = values[name];
  } else if (values[name + "-file"] !== undefined) {
    text = readSecretFile(values[name + "-file"], name, context);
  } else {
    const variable = values[name + "-env"];
    text = process.env[variable];
    if (text === undefined) {
      throw new UsageError("Environment variable " + variable + " (from --" + name + "-env) is not set; export it " +
        "with " + context.description + " first");
    }
  }

  const trimmed = text.trim();
  if (trimmed.length === 0) throw new UsageError(context.description + " from --" + sources[0] + " is empty");
  return trimmed;
}

function readSecretFile(filePath, name, context) {
  if (filePath === "-") {
    if (context.state.stdinUsedBy !== undefined) {
      throw new UsageError("Only one input can come from standard input, and --" + context.state.stdinUsedBy +
        "-file already reads it; put " + context.description + " in a file or a variable");
    }
    context.state.stdinUsedBy = name;
    if (process.stdin.isTTY) context.warn("Reading " + context.description + " from standard input; end with Ctrl-D.");
    return fs.readFileSync(0, "utf8");
  }

  try {
    return fs.readFileSync(filePath, "utf8");
  } catch (error) {
    const reason = error.code === "ENOENT" ? "file not found" : error.code === "EACCES" ? "permission denied" :
      (error.code ?? error.message);
    throw new UsageError("Cannot read --" + name + "-file " + filePath + ": " + reason + "; check the path");
  }
}
