// Checks the finished bundle against what Espruino 2v29 can parse and run.
//
// Usage: node scripts/profile-check.mjs dist/firmware.js
// Prints each violation as FILE:LINE:COLUMN rule: message plus an excerpt, and exits 1 when there are any.
// Prints a one-line summary and exits 0 when the file is clean. Exits 2 when the file cannot be read.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

import { checkProfile, formatViolation } from "./profile/check.mjs";

export { checkProfile, formatViolation };

const USAGE = "Usage: node scripts/profile-check.mjs FILE.js\nChecks a bundled JavaScript file against the Espruino 2v29 language profile.";

/**
 * Runs the command line: checks one file and prints the result.
 *
 * @param {string[]} args the arguments after the script name; exactly one file path is expected.
 * @returns {number} the exit code: 0 when clean, 1 when there are violations, 2 on a usage or read error.
 */
export function runProfileCheck(args) {
  if (args.length !== 1 || args[0] === "--help" || args[0] === "-h") {
    console.error(USAGE);
    return 2;
  }

  const fileName = args[0];
  let sourceText;
  try {
    sourceText = readFileSync(fileName, "utf8");
  } catch (error) {
    console.error(`profile-check: failed to read ${fileName}: ${error.message}. Run the build first or pass the path of the bundle.`);
    return 2;
  }

  const violations = checkProfile(sourceText, { fileName });
  for (const violation of violations) console.log(formatViolation(fileName, violation));

  if (violations.length > 0) {
    const rules = new Set(violations.map((violation) => violation.rule));
    console.log(`${fileName}: ${violations.length} Espruino profile violation(s) in ${rules.size} rule(s)`);
    return 1;
  }

  console.log(`${fileName}: clean for the Espruino 2v29 profile (${sourceText.length} characters checked)`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = runProfileCheck(process.argv.slice(2));
}
