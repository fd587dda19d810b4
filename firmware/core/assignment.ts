// The cached DPS assignment: what the device keeps in flash so that it does not register again at every boot.

import { encodeBase64 } from "./base64";
import { Sha256 } from "./hmac";

/** The cached result of a successful registration. */
export interface CachedAssignment {
  /** The assigned IoT Hub host name. */
  assignedHub: string;
  deviceId: string;
  registrationId: string;
  idScope: string;
  /** `computeKeyFingerprint` of the key that registered; a changed key invalidates the cache. */
  keyFingerprint: string;
}

/**
 * Computes a short, non-secret fingerprint of a device key.
 *
 * The fingerprint is 12 bytes of SHA-256 over a fixed label and the key. It identifies the key without revealing
 * it (the key has at least 128 random bits), so it may sit in flash and in logs.
 *
 * @param sha256 SHA-256 over binary strings.
 * @param deviceKey The device key in Base64.
 * @returns 16 Base64 characters.
 */
export function computeKeyFingerprint(sha256: Sha256, deviceKey: string): string {
  return encodeBase64(sha256("dps-key-fingerprint\n" + deviceKey).substring(0, 12));
}

/**
 * Checks a cached assignment against the current configuration.
 *
 * @param cached The parsed cache file, or `undefined` when there is none.
 * @param idScope, registrationId, keyFingerprint The current configuration.
 * @returns `undefined` when the cache can be used, otherwise the reason it cannot, in plain words.
 */
export function findStaleAssignmentReason(cached: any, idScope: string, registrationId: string,
  keyFingerprint: string): string | undefined {
  if (cached === undefined || cached === null) return "no assignment is cached";
  if (typeof cached !== "object" || typeof cached.assignedHub !== "string" || typeof cached.deviceId !== "string") {
    return "the cached assignment is unreadable";
  }
  if (cached.idScope !== idScope) return "dps.idScope changed since the assignment was cached";
  if (cached.registrationId !== registrationId) return "dps.registrationId changed since the assignment was cached";
  if (cached.keyFingerprint !== keyFingerprint) return "the device key changed since the assignment was cached";
  return undefined;
}
