// Checks of the identifiers that end up in URLs, `sr` values and HMAC inputs.
//
// Written with character tests instead of regular expressions, because Espruino's regex engine silently never
// matches `?` and `{n,m}` quantifiers.

import { MAX_HOST_NAME_LENGTH, MAX_REGISTRATION_ID_LENGTH } from "./constants";

function isAlphanumeric(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9");
}

/**
 * Describes why a registration ID breaks the DPS rules, or returns `undefined` when it is valid.
 *
 * DPS allows 1 to 128 characters of ASCII letters, digits and `-` `.` `_` `:`, and the last one must be a letter,
 * a digit or `-`. The ID also becomes the IoT Hub device ID of a group enrollment.
 *
 * @param registrationId Candidate registration ID.
 * @returns A sentence naming the problem and the character position.
 */
export function findRegistrationIdProblem(registrationId: string): string | undefined {
  if (typeof registrationId !== "string" || registrationId.length === 0) return "it is empty";
  if (registrationId.length > MAX_REGISTRATION_ID_LENGTH) {
    return "it has " + registrationId.length + " characters; DPS allows at most " + MAX_REGISTRATION_ID_LENGTH;
  }

  for (let i = 0; i < registrationId.length; i++) {
    const c = registrationId.charAt(i);
    if (!isAlphanumeric(c) && "-._:".indexOf(c) < 0) {
      return "character " + (i + 1) + " ('" + (c.charCodeAt(0) < 32 || c.charCodeAt(0) > 126 ? "\\x" +
        c.charCodeAt(0).toString(16) : c) + "') is not allowed; use letters, digits, '-', '.', '_' or ':'";
    }
  }

  const last = registrationId.charAt(registrationId.length - 1);
  if (!isAlphanumeric(last) && last !== "-") return "it ends with '" + last + "'; it must end with a letter, a digit or '-'";
  return undefined;
}

/**
 * Describes why a DPS ID scope is malformed, or returns `undefined` when it is valid.
 *
 * @param idScope Candidate ID scope, e.g. "0ne000A1B2C": ASCII letters and digits only.
 * @returns A sentence naming the problem and the character position.
 */
export function findIdScopeProblem(idScope: string): string | undefined {
  if (typeof idScope !== "string" || idScope.length === 0) return "it is empty";

  for (let i = 0; i < idScope.length; i++) {
    if (!isAlphanumeric(idScope.charAt(i))) return "character " + (i + 1) + " is not a letter or a digit";
  }
  return undefined;
}

/**
 * Describes why a host name cannot be used, or returns `undefined` when it is valid.
 *
 * Each dot-separated label must have 1 to 63 letters, digits or `-`, and must not start or end with `-`
 * (RFC 1123). Empty labels are rejected because a name such as "..azure-devices.net" would otherwise pass the
 * suffix check of `isHostTrusted`.
 *
 * @param hostName Candidate DNS name or dotted IPv4 address, without a port and without a trailing dot.
 * @returns A sentence naming the problem.
 */
export function findHostNameProblem(hostName: string): string | undefined {
  if (typeof hostName !== "string" || hostName.length === 0) return "it is empty";
  if (hostName.length > MAX_HOST_NAME_LENGTH) {
    return "it has " + hostName.length + " characters; Espruino accepts at most " + MAX_HOST_NAME_LENGTH;
  }

  let labelStart = 0;
  for (let i = 0; i <= hostName.length; i++) {
    const c = i < hostName.length ? hostName.charAt(i) : ".";

    if (c === ".") {
      const labelLength = i - labelStart;
      if (labelLength === 0) return "it starts or ends with '.' or has two dots in a row; remove the extra '.'";
      if (labelLength > 63) return "the label at character " + (labelStart + 1) + " has " + labelLength +
        " characters; DNS allows at most 63";
      if (hostName.charAt(labelStart) === "-" || hostName.charAt(i - 1) === "-") {
        return "the label at character " + (labelStart + 1) + " starts or ends with '-', which DNS does not allow";
      }
      labelStart = i + 1;
    } else if (!isAlphanumeric(c) && c !== "-") {
      return "character " + (i + 1) + " is not allowed in a host name; give the name only, without scheme, port or path";
    }
  }
  return undefined;
}

/**
 * Checks whether a host name is one of the trusted names or ends with a trusted suffix.
 *
 * A suffix that starts with "." matches any name below it (".azure-devices.net" matches "a.azure-devices.net" but
 * not "evil-azure-devices.net"). A suffix without a leading dot matches that exact name only, which is how a test
 * trusts the emulator's "localhost". The comparison ignores case, as DNS does.
 *
 * @param hostName The host name to check.
 * @param trustedSuffixes Suffixes or exact names.
 * @returns `true` when the host is trusted.
 */
export function isHostTrusted(hostName: string, trustedSuffixes: string[]): boolean {
  const host = hostName.toLowerCase();

  for (let i = 0; i < trustedSuffixes.length; i++) {
    const suffix = trustedSuffixes[i].toLowerCase();

    if (suffix.charAt(0) === ".") {
      if (host.length > suffix.length && host.endsWith(suffix)) return true;
    } else if (host === suffix) {
      return true;
    }
  }
  return false;
}
