// Enrollment list of the local DPS emulator: validation of the JSON file and key derivation for enrollment groups.
//
// File format:
//   {
//     "idScope": "0ne000A1B2C",
//     "individual": [ { "registrationId": "...", "primaryKey": "<Base64>", "deviceId": "...", "enabled": true } ],
//     "groups": [ { "enrollmentGroupId": "...", "primaryKey": "<Base64>", "enabled": true } ]
//   }
// `deviceId` and `enabled` are optional (defaults: the registration ID, true). Either list may be empty or missing.

import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Minimum decoded length in bytes of a user-supplied DPS symmetric key. */
export const MIN_KEY_BYTES = 16;

/** Maximum decoded length in bytes of a DPS symmetric key; keys that DPS generates have this length. */
export const MAX_KEY_BYTES = 64;

/** Maximum registration ID length in characters, as documented for DPS. */
export const MAX_REGISTRATION_ID_LENGTH = 128;

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// DPS allows alphanumerics and `- . _ :`, and the last character must be alphanumeric or `-`.
const REGISTRATION_ID_PATTERN = /^[A-Za-z0-9\-._:]*[A-Za-z0-9-]$/;

const ID_SCOPE_PATTERN = /^0ne[0-9A-Fa-f]{8}$/;

/**
 * Derives the device key of a registration in a symmetric-key enrollment group, as DPS does.
 *
 * @param {string} groupKeyBase64 Group primary key, standard Base64.
 * @param {string} registrationId Registration ID; its exact UTF-8 bytes are signed, so case matters.
 * @returns {string} Device key, standard Base64 of HMAC-SHA256(base64decode(groupKey), registrationId).
 */
export function deriveGroupDeviceKey(groupKeyBase64, registrationId) {
  const groupKeyBytes = Buffer.from(groupKeyBase64, 'base64');
  return createHmac('sha256', groupKeyBytes).update(registrationId, 'utf8').digest('base64');
}

/**
 * Checks that a string is a registration ID that DPS accepts.
 *
 * @param {string} registrationId Candidate registration ID.
 * @returns {string | undefined} A reason when the ID is invalid, otherwise undefined.
 */
export function describeInvalidRegistrationId(registrationId) {
  if (registrationId.length === 0) {
    return 'is empty';
  }

  if (registrationId.length > MAX_REGISTRATION_ID_LENGTH) {
    return `has ${registrationId.length} characters, more than the maximum of ${MAX_REGISTRATION_ID_LENGTH}`;
  }

  if (!REGISTRATION_ID_PATTERN.test(registrationId)) {
    return 'may contain only letters, digits and "- . _ :", and must end with a letter, digit or "-"';
  }

  return undefined;
}

/**
 * Validates parsed enrollments JSON and returns a normalized copy.
 *
 * @param {unknown} document Parsed JSON of an enrollments file.
 * @param {string} [sourceName] File name or other label used in error messages.
 * @returns {{ idScope: string, individual: Array<{ registrationId: string, primaryKey: string, deviceId: string, enabled: boolean }>, groups: Array<{ enrollmentGroupId: string, primaryKey: string, enabled: boolean }> }}
 *   Enrollments with defaults filled in.
 * @throws {TypeError} When a field is missing or invalid; the message names the field and the entry.
 */
export function parseEnrollments(document, sourceName = 'enrollments') {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new TypeError(`Invalid ${sourceName}: expected a JSON object with "idScope", "individual" and "groups"`);
  }

  const idScope = document.idScope;
  if (typeof idScope !== 'string' || !ID_SCOPE_PATTERN.test(idScope)) {
    throw new TypeError(
      `Invalid ${sourceName}: "idScope" must be "0ne" followed by 8 hexadecimal digits, such as "0ne000A1B2C"; got ${JSON.stringify(idScope)}`,
    );
  }

  const individual = readList(document, 'individual', sourceName).map((entry, index) =>
    parseIndividualEnrollment(entry, `${sourceName}: individual[${index}]`),
  );
  const groups = readList(document, 'groups', sourceName).map((entry, index) =>
    parseGroupEnrollment(entry, `${sourceName}: groups[${index}]`),
  );

  rejectDuplicates(individual.map((enrollment) => enrollment.registrationId), 'individual', 'registrationId', sourceName);
  rejectDuplicates(groups.map((group) => group.enrollmentGroupId), 'groups', 'enrollmentGroupId', sourceName);

  return { idScope, individual, groups };
}

/**
 * Reads and validates an enrollments JSON file.
 *
 * @param {string} filePath Path of the JSON file.
 * @returns {Promise<ReturnType<typeof parseEnrollments>>} Normalized enrollments.
 * @throws {Error} When the file cannot be read, is not JSON, or fails validation; the message names the file.
 */
export async function loadEnrollmentsFile(filePath) {
  let text;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read enrollments file "${filePath}": ${error.message}`);
  }

  let document;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`Enrollments file "${filePath}" is not valid JSON: ${error.message}`);
  }

  return parseEnrollments(document, filePath);
}

/**
 * Finds the individual enrollment of a registration ID.
 *
 * @param {ReturnType<typeof parseEnrollments>} enrollments Normalized enrollments.
 * @param {string} registrationId Registration ID from the request path, compared exactly.
 * @returns {ReturnType<typeof parseEnrollments>['individual'][number] | undefined} The enrollment, if any.
 */
export function findIndividualEnrollment(enrollments, registrationId) {
  // NOTE: DPS documents registration IDs as case-insensitive, but the emulator compares them exactly,
  // because group keys are derived from the exact bytes and a case mismatch is a common client fault.
  return enrollments.individual.find((enrollment) => enrollment.registrationId === registrationId);
}

function readList(document, fieldName, sourceName) {
  const list = document[fieldName];
  if (list === undefined) {
    return [];
  }

  if (!Array.isArray(list)) {
    throw new TypeError(`Invalid ${sourceName}: "${fieldName}" must be an array; got ${typeof list}`);
  }

  return list;
}

function parseIndividualEnrollment(entry, label) {
  requireObject(entry, label);

  const registrationId = requireString(entry, 'registrationId', label);
  const invalidReason = describeInvalidRegistrationId(registrationId);
  if (invalidReason !== undefined) {
    throw new TypeError(`Invalid ${label}: "registrationId" ${JSON.stringify(registrationId)} ${invalidReason}`);
  }

  const primaryKey = requireKey(entry, label);

  let deviceId = registrationId;
  if (entry.deviceId !== undefined) {
    deviceId = requireString(entry, 'deviceId', label);
  }

  const enabled = readEnabled(entry, label);

  return { registrationId, primaryKey, deviceId, enabled };
}

function parseGroupEnrollment(entry, label) {
  requireObject(entry, label);

  const enrollmentGroupId = requireString(entry, 'enrollmentGroupId', label);
  const primaryKey = requireKey(entry, label);
  const enabled = readEnabled(entry, label);

  return { enrollmentGroupId, primaryKey, enabled };
}

function requireObject(entry, label) {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new TypeError(`Invalid ${label}: expected an object`);
  }
}

function requireString(entry, fieldName, label) {
  const value = entry[fieldName];
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`Invalid ${label}: "${fieldName}" must be a non-empty string; got ${JSON.stringify(value)}`);
  }

  return value;
}

// The key itself never appears in a message, only its length.
function requireKey(entry, label) {
  const primaryKey = entry.primaryKey;
  if (typeof primaryKey !== 'string' || primaryKey.length === 0) {
    throw new TypeError(`Invalid ${label}: "primaryKey" is missing; give the Base64 key from the enrollment`);
  }

  if (!BASE64_PATTERN.test(primaryKey)) {
    throw new TypeError(
      `Invalid ${label}: "primaryKey" is not standard Base64 (${primaryKey.length} characters); copy the key exactly as the portal shows it`,
    );
  }

  const keyByteCount = Buffer.from(primaryKey, 'base64').length;
  if (keyByteCount < MIN_KEY_BYTES || keyByteCount > MAX_KEY_BYTES) {
    throw new TypeError(
      `Invalid ${label}: "primaryKey" decodes to ${keyByteCount} bytes; DPS keys are ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`,
    );
  }

  return primaryKey;
}

function readEnabled(entry, label) {
  if (entry.enabled === undefined) {
    return true;
  }

  if (typeof entry.enabled !== 'boolean') {
    throw new TypeError(`Invalid ${label}: "enabled" must be true or false; got ${JSON.stringify(entry.enabled)}`);
  }

  return entry.enabled;
}

function rejectDuplicates(values, listName, fieldName, sourceName) {
  const seen = new Set();
  for (const value of values) {
    if (seen.has(value)) {
      throw new TypeError(`Invalid ${sourceName}: "${listName}" has two entries with ${fieldName} ${JSON.stringify(value)}`);
    }
    seen.add(value);
  }
}
