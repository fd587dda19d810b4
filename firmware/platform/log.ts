// Console logging with levels. Lines are short because the console blocks once its 256-byte buffer is full.
//
// Callers never pass secrets. As a second line of defence, `redactSecrets` removes anything that looks like a SAS
// token or signature before a line is printed.

import { LOG_LEVELS } from "../core/config";

let currentLevel = 2;

/**
 * Sets the lowest level that is printed.
 *
 * @param level "error", "warn", "info" or "debug".
 * @returns `true` when the level was known and set.
 */
export function setLogLevel(level: string): boolean {
  const index = LOG_LEVELS.indexOf(level);
  if (index < 0) return false;
  currentLevel = index;
  return true;
}

/** Returns the current log level name. */
export function getLogLevel(): string {
  return LOG_LEVELS[currentLevel];
}

/**
 * Replaces SAS tokens and `sig=` values in a line with "<redacted>".
 *
 * @param line Text about to be printed.
 * @returns The line without token material.
 */
export function redactSecrets(line: string): string {
  let output = line;

  let start = output.indexOf("SharedAccessSignature ");
  while (start >= 0) {
    let end = output.indexOf(" ", start + 22);
    if (end < 0) end = output.length;
    output = output.substring(0, start) + "<redacted>" + output.substring(end);
    start = output.indexOf("SharedAccessSignature ");
  }

  start = output.indexOf("sig=");
  while (start >= 0) {
    let end = start + 4;
    while (end < output.length && " &\"'".indexOf(output.charAt(end)) < 0) end++;
    output = output.substring(0, start) + "sig=<redacted>" + output.substring(end);
    start = output.indexOf("sig=", start + 14);
  }
  return output;
}

function write(levelIndex: number, area: string, message: string): void {
  if (levelIndex > currentLevel) return;
  console.log("[" + LOG_LEVELS[levelIndex] + "] " + area + ": " + redactSecrets(message));
}

/** Logs a failure that needs the user's attention. */
export function logError(area: string, message: string): void {
  write(0, area, message);
}

/** Logs something that works but should be changed. */
export function logWarn(area: string, message: string): void {
  write(1, area, message);
}

/** Logs a normal step: connections, requests, outcomes. */
export function logInfo(area: string, message: string): void {
  write(2, area, message);
}

/** Logs details for debugging, e.g. memory around requests. */
export function logDebug(area: string, message: string): void {
  write(3, area, message);
}
