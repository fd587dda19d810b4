// Flash storage of the configuration file and the cached assignment.

import { ASSIGNMENT_FILE_NAME, CONFIG_FILE_NAME } from "../core/constants";
import { CachedAssignment } from "../core/assignment";
import { logInfo } from "./log";

const Storage = require("Storage");

/** The configuration file's parsed JSON, or why it could not be read. */
export interface ConfigFileContents {
  value: any;
  /** A sentence saying why the file could not be read, or `undefined` when `value` is set. */
  problem: string | undefined;
}

/** Reads and parses the configuration file from Storage. */
export function readConfigFile(): ConfigFileContents {
  const text = Storage.read(CONFIG_FILE_NAME);
  if (text === undefined) {
    return {
      value: undefined,
      problem: "Storage file \"" + CONFIG_FILE_NAME + "\" is missing: write it with `npm run flash -- --port <port>` " +
        "or at the REPL with require(\"Storage\").writeJSON(\"" + CONFIG_FILE_NAME + "\", {...})",
    };
  }

  const value = Storage.readJSON(CONFIG_FILE_NAME, true);
  if (value === undefined) {
    return { value: undefined, problem: "Storage file \"" + CONFIG_FILE_NAME + "\" is not valid JSON: write it again" };
  }
  return { value: value, problem: undefined };
}

/** Reads the cached assignment, or returns `undefined` when there is none or it is unreadable. */
export function readCachedAssignment(): any {
  if (Storage.read(ASSIGNMENT_FILE_NAME) === undefined) return undefined;
  return Storage.readJSON(ASSIGNMENT_FILE_NAME, true);
}

/**
 * Stores the assignment so that the next boot goes straight to the hub.
 *
 * @param assignment Hub, device ID, registration ID, ID scope and key fingerprint; no secret.
 */
export function writeCachedAssignment(assignment: CachedAssignment): void {
  Storage.writeJSON(ASSIGNMENT_FILE_NAME, assignment);
}

/**
 * Erases the cached assignment, so that the next start provisions through DPS.
 *
 * @param reason Logged, e.g. "requested at the REPL".
 */
export function forgetCachedAssignment(reason: string): void {
  if (Storage.read(ASSIGNMENT_FILE_NAME) === undefined) return;
  Storage.erase(ASSIGNMENT_FILE_NAME);
  logInfo("storage", "forgot the cached assignment: " + reason);
}
