// Shared access signature (SAS) tokens for DPS and IoT Hub, and the per-device key of a group enrollment.
//
// Token format: `SharedAccessSignature sr={encoded URI}&sig={encoded Base64 HMAC}&se={expiry}[&skn={key name}]`.
// The string to sign is the encoded URI, a line feed, and the expiry in decimal seconds since 1970. The services
// verify the HMAC over the `sr` exactly as it arrives, so one encoder (`encodeResourceUri`) makes the value that is
// both signed and sent.

import { decodeBase64, encodeBase64, findBase64Problem } from "./base64";
import { createError, ErrorCode } from "./errors";
import { hmacSha256, Sha256 } from "./hmac";

/** The `skn` value DPS expects on device registration tokens. IoT Hub device tokens carry no `skn`. */
export const DPS_KEY_NAME = "registration";

/** Shortest symmetric key DPS accepts, in bytes after Base64 decoding. */
export const MIN_KEY_BYTES = 16;

/** Longest symmetric key DPS accepts, in bytes after Base64 decoding. DPS generates keys of this length. */
export const MAX_KEY_BYTES = 64;

/** Length of every derived device key, in bytes: one HMAC-SHA256 output. */
export const DERIVED_KEY_BYTES = 32;

/**
 * Decodes a symmetric key from Base64 and checks its length.
 *
 * @param keyBase64 The key as shown in the Azure portal: padded Base64 of 16 to 64 bytes.
 * @param field The configuration field the key came from, named in the error (e.g. "dps.deviceKey").
 * @returns The key bytes as a binary string.
 * @throws DeviceError `KEY_INVALID` naming the field and the problem; the key itself is never included.
 */
export function decodeSymmetricKey(keyBase64: string, field: string): string {
  if (typeof keyBase64 !== "string") {
    throw createError(ErrorCode.keyInvalid, field + " is missing: set it to the Base64 key from the enrollment", {
      field: field,
    });
  }

  const problem = findBase64Problem(keyBase64);
  if (problem !== undefined) {
    throw createError(
      ErrorCode.keyInvalid,
      field + " is not valid Base64 because " + problem + ". Copy the key again from the enrollment",
      { field: field }
    );
  }

  const keyBytes = decodeBase64(keyBase64);
  if (keyBytes.length < MIN_KEY_BYTES || keyBytes.length > MAX_KEY_BYTES) {
    throw createError(
      ErrorCode.keyInvalid,
      field + " decodes to " + keyBytes.length + " bytes, but DPS keys are " + MIN_KEY_BYTES + " to " +
        MAX_KEY_BYTES + " bytes. Copy the whole key from the enrollment",
      { field: field }
    );
  }
  return keyBytes;
}

/**
 * Percent-encodes a resource URI for the `sr` field and the string to sign.
 *
 * Uses `encodeURIComponent`, which writes upper-case hex (`%2F`) on Node and on Espruino. Callers keep the URI
 * ASCII (the configuration validator enforces this), because Espruino encodes bytes above 0x7F one by one.
 *
 * @param resourceUri e.g. "0ne000A1B2C/registrations/sensor-01".
 * @returns e.g. "0ne000A1B2C%2Fregistrations%2Fsensor-01".
 */
export function encodeResourceUri(resourceUri: string): string {
  return encodeURIComponent(resourceUri);
}

/**
 * Builds the DPS resource URI of a registration, before encoding.
 *
 * @param idScope The DPS ID scope, e.g. "0ne000A1B2C".
 * @param registrationId The registration ID.
 * @returns "{idScope}/registrations/{registrationId}".
 */
export function createDpsResourceUri(idScope: string, registrationId: string): string {
  return idScope + "/registrations/" + registrationId;
}

/**
 * Builds the IoT Hub resource URI of a device, before encoding.
 *
 * @param hubHostName The assigned hub, e.g. "example-hub.azure-devices.net".
 * @param deviceId The device ID that DPS returned.
 * @returns "{hubHostName}/devices/{deviceId}".
 */
export function createHubResourceUri(hubHostName: string, deviceId: string): string {
  return hubHostName + "/devices/" + deviceId;
}

/**
 * Builds the string that the HMAC signs.
 *
 * @param encodedResourceUri The `sr` value exactly as it will be sent.
 * @param expiryEpochSeconds Expiry in whole seconds since 1970-01-01T00:00:00Z.
 * @returns "{encodedResourceUri}\n{expiryEpochSeconds}".
 */
export function createStringToSign(encodedResourceUri: string, expiryEpochSeconds: number): string {
  return encodedResourceUri + "\n" + expiryEpochSeconds;
}

/**
 * Computes a token expiry from the current time and a lifetime.
 *
 * @param nowEpochSeconds The current time in seconds since 1970 (may have a fraction).
 * @param ttlSeconds Token lifetime in seconds; a positive whole number.
 * @returns Whole seconds since 1970.
 * @throws Error when `ttlSeconds` is not a positive whole number.
 */
export function computeExpiryEpochSeconds(nowEpochSeconds: number, ttlSeconds: number): number {
  if (typeof ttlSeconds !== "number" || !(ttlSeconds >= 1) || Math.floor(ttlSeconds) !== ttlSeconds) {
    throw new Error("Invalid token lifetime: " + ttlSeconds + " seconds; use a positive whole number");
  }
  return Math.floor(nowEpochSeconds) + ttlSeconds;
}

/**
 * Signs a string with a symmetric key.
 *
 * @param sha256 SHA-256 over binary strings.
 * @param keyBytes The decoded key, from `decodeSymmetricKey`.
 * @param stringToSign From `createStringToSign`.
 * @returns The Base64 signature, not yet percent-encoded.
 */
export function signStringToSign(sha256: Sha256, keyBytes: string, stringToSign: string): string {
  return encodeBase64(hmacSha256(sha256, keyBytes, stringToSign));
}

/**
 * Assembles a SAS token from its parts, percent-encoding the signature and the key name.
 *
 * @param encodedResourceUri The `sr` value that was signed.
 * @param signatureBase64 The Base64 signature.
 * @param expiryEpochSeconds The `se` value that was signed.
 * @param keyName The `skn` value, or `undefined` to leave it out.
 * @returns "SharedAccessSignature sr=...&sig=...&se=...[&skn=...]".
 */
export function formatSasToken(
  encodedResourceUri: string,
  signatureBase64: string,
  expiryEpochSeconds: number,
  keyName: string | undefined
): string {
  let token =
    "SharedAccessSignature sr=" + encodedResourceUri +
    "&sig=" + encodeURIComponent(signatureBase64) +
    "&se=" + expiryEpochSeconds;

  if (keyName !== undefined) token += "&skn=" + encodeURIComponent(keyName);
  return token;
}

/** Inputs of `createDpsSasToken`. */
export interface DpsTokenOptions {
  idScope: string;
  registrationId: string;
  /** The device key in Base64: the individual enrollment's key, or the key derived from a group key. */
  deviceKey: string;
  /** Expiry in whole seconds since 1970. */
  expiryEpochSeconds: number;
}

/**
 * Creates the SAS token a device sends to DPS to register.
 *
 * @param sha256 SHA-256 over binary strings.
 * @param options ID scope, registration ID, device key (Base64) and expiry.
 * @returns The `Authorization` header value, with `skn=registration`.
 * @throws DeviceError `KEY_INVALID` when the key is not valid Base64 of 16 to 64 bytes.
 * @example
 *   createDpsSasToken(sha256, { idScope: "0ne000A1B2C", registrationId: "sensor-01",
 *     deviceKey: "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=", expiryEpochSeconds: 1767225600 })
 */
export function createDpsSasToken(sha256: Sha256, options: DpsTokenOptions): string {
  const keyBytes = decodeSymmetricKey(options.deviceKey, "deviceKey");
  const encodedUri = encodeResourceUri(createDpsResourceUri(options.idScope, options.registrationId));

  const signature = signStringToSign(sha256, keyBytes, createStringToSign(encodedUri, options.expiryEpochSeconds));
  return formatSasToken(encodedUri, signature, options.expiryEpochSeconds, DPS_KEY_NAME);
}

/** Inputs of `createHubSasToken`. */
export interface HubTokenOptions {
  /** The assigned hub, e.g. "example-hub.azure-devices.net". */
  hubHostName: string;
  /** The device ID that DPS returned. */
  deviceId: string;
  /** The same device key that registered with DPS, in Base64. */
  deviceKey: string;
  /** Expiry in whole seconds since 1970. */
  expiryEpochSeconds: number;
}

/**
 * Creates the SAS token a device sends to its IoT Hub.
 *
 * @param sha256 SHA-256 over binary strings.
 * @param options Hub host name, device ID, device key (Base64) and expiry.
 * @returns The `Authorization` header value, without `skn`.
 * @throws DeviceError `KEY_INVALID` when the key is not valid Base64 of 16 to 64 bytes.
 */
export function createHubSasToken(sha256: Sha256, options: HubTokenOptions): string {
  const keyBytes = decodeSymmetricKey(options.deviceKey, "deviceKey");
  const encodedUri = encodeResourceUri(createHubResourceUri(options.hubHostName, options.deviceId));

  const signature = signStringToSign(sha256, keyBytes, createStringToSign(encodedUri, options.expiryEpochSeconds));
  return formatSasToken(encodedUri, signature, options.expiryEpochSeconds, undefined);
}

/**
 * Derives the device key of one registration from a group enrollment key.
 *
 * Same result as `az iot dps enrollment-group compute-device-key`. The HMAC covers the exact bytes of the
 * registration ID, so a change of case gives another key. Derive on a host: the group key must not go to devices.
 *
 * @param sha256 SHA-256 over binary strings.
 * @param groupKey The enrollment group's key in Base64.
 * @param registrationId The device's registration ID (ASCII).
 * @returns The 32-byte device key in Base64.
 * @throws DeviceError `KEY_INVALID` when the group key is not valid Base64 of 16 to 64 bytes.
 */
export function deriveDeviceKey(sha256: Sha256, groupKey: string, registrationId: string): string {
  const groupKeyBytes = decodeSymmetricKey(groupKey, "groupKey");
  return encodeBase64(hmacSha256(sha256, groupKeyBytes, registrationId));
}
