// One error shape for every failure the firmware reports.
//
// Espruino cannot subclass Error, so an error is a plain `Error` with extra fields set on it. Messages say what
// failed, on which value, and what to do next; they never contain a key, a signature or a token.

/** Stable codes that a caller can switch on. */
export const ErrorCode = {
  configInvalid: "CONFIG_INVALID",
  keyInvalid: "KEY_INVALID",
  clockNotSet: "CLOCK_NOT_SET",
  untrustedHost: "UNTRUSTED_HOST",
  httpNetwork: "HTTP_NETWORK",
  httpTimeout: "HTTP_TIMEOUT",
  httpTruncated: "HTTP_TRUNCATED",
  httpBusy: "HTTP_BUSY",
  dpsUnauthorized: "DPS_UNAUTHORIZED",
  dpsFailed: "DPS_FAILED",
  dpsDisabled: "DPS_DISABLED",
  dpsThrottled: "DPS_THROTTLED",
  dpsServerError: "DPS_SERVER_ERROR",
  dpsRejected: "DPS_REJECTED",
  dpsMalformed: "DPS_MALFORMED",
  dpsDeadlineExceeded: "DPS_DEADLINE_EXCEEDED",
  hubUnauthorized: "HUB_UNAUTHORIZED",
  hubRejected: "HUB_REJECTED",
  hubThrottled: "HUB_THROTTLED",
  hubServerError: "HUB_SERVER_ERROR",
  hubMalformed: "HUB_MALFORMED",
  messageInvalid: "MESSAGE_INVALID",
};

/** Details attached to a `DeviceError` besides its code and message. */
export interface ErrorDetails {
  /** HTTP status of the response that caused the error, when there was one. */
  httpStatus?: number;
  /** The service's six-digit error code, e.g. 401002 from DPS or 401003 from IoT Hub. */
  serviceErrorCode?: number;
  /** The service's tracking ID: what Azure support asks for. */
  trackingId?: string;
  /** Whether the same request may succeed later without any change on the device. */
  retryable?: boolean;
  /** The configuration field the error is about, e.g. "dps.registrationId". */
  field?: string;
  /** The service's requested wait before the next try, in seconds, when the error ended a wait early. */
  retryAfterSeconds?: number;
}

/** An `Error` carrying a stable code and the details of the response that caused it. */
export interface DeviceError extends Error {
  code: string;
  httpStatus?: number;
  serviceErrorCode?: number;
  trackingId?: string;
  retryable: boolean;
  field?: string;
  retryAfterSeconds?: number;
}

/**
 * Creates a `DeviceError`.
 *
 * @param code One of the `ErrorCode` values.
 * @param message What failed, on which value, and what to do next. Never a secret.
 * @param details Optional HTTP status, service error code, tracking ID, retryability and field.
 * @returns An `Error` with the code and details set as own properties.
 */
export function createError(code: string, message: string, details?: ErrorDetails): DeviceError {
  const error = new Error(message) as DeviceError;
  error.code = code;
  error.retryable = false;

  if (details !== undefined) {
    if (details.httpStatus !== undefined) error.httpStatus = details.httpStatus;
    if (details.serviceErrorCode !== undefined) error.serviceErrorCode = details.serviceErrorCode;
    if (details.trackingId !== undefined) error.trackingId = details.trackingId;
    if (details.retryable !== undefined) error.retryable = details.retryable;
    if (details.field !== undefined) error.field = details.field;
    if (details.retryAfterSeconds !== undefined) error.retryAfterSeconds = details.retryAfterSeconds;
  }
  return error;
}

/**
 * Formats an error for a log line: the code, the message, and the service code and tracking ID when present.
 *
 * @param error A `DeviceError`, a plain `Error` or any thrown value.
 * @returns One line of text without a trailing newline.
 */
export function describeError(error: any): string {
  if (error === null || typeof error !== "object") return String(error);

  let line = (error.code ? error.code + ": " : "") + error.message;
  if (error.serviceErrorCode !== undefined) line += " (errorCode " + error.serviceErrorCode + ")";
  if (error.trackingId !== undefined) line += " (trackingId " + error.trackingId + ")";
  return line;
}
