// Parsing of the `Retry-After` header (RFC 9110 section 10.2.3): delay seconds or an HTTP date.

import { MAX_RETRY_AFTER_SECONDS } from "./constants";

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c < "0" || c > "9") return false;
  }
  return true;
}

/**
 * Parses a `Retry-After` value into seconds to wait.
 *
 * An HTTP date is measured against the response's own `Date` header when there is one, so a wrong device clock
 * does not distort the wait. Values beyond `MAX_RETRY_AFTER_SECONDS` are capped, so a hostile or broken response
 * cannot park the device for days.
 *
 * @param value The header value, e.g. "3" or "Wed, 21 Oct 2026 07:28:00 GMT", or `undefined`.
 * @param responseDate The response's `Date` header, or `undefined`.
 * @param nowEpochMs The device clock in ms since 1970, used when `responseDate` is missing or invalid.
 * @returns Seconds to wait (0 or more, at most `MAX_RETRY_AFTER_SECONDS`), or `undefined` when the value is
 *   absent, negative or not understood, so that the caller falls back to its default.
 */
export function parseRetryAfterSeconds(
  value: string | undefined,
  responseDate: string | undefined,
  nowEpochMs: number
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();

  if (isDigits(text)) {
    const seconds = parseInt(text, 10);
    return seconds > MAX_RETRY_AFTER_SECONDS ? MAX_RETRY_AFTER_SECONDS : seconds;
  }

  // An HTTP date in the IMF-fixdate or RFC 850 form has a comma and ends with " GMT". Anything else, such as "1.5"
  // or "-1", returns undefined. The check comes before Date.parse because Node's Date.parse accepts "soon, 1".
  // NOTE: the asctime form ("Sun Nov  6 08:49:37 1994"), which RFC 9110 also allows, is not understood.
  if (text.indexOf(",") < 0 || text.length < 4 || text.substring(text.length - 4) !== " GMT") return undefined;
  const retryAtMs = Date.parse(text);
  if (isNaN(retryAtMs)) return undefined;

  let referenceMs = nowEpochMs;
  if (responseDate !== undefined) {
    const serverNowMs = Date.parse(responseDate);
    if (!isNaN(serverNowMs)) referenceMs = serverNowMs;
  }

  const seconds = Math.ceil((retryAtMs - referenceMs) / 1000);
  if (seconds < 0) return 0;
  return seconds > MAX_RETRY_AFTER_SECONDS ? MAX_RETRY_AFTER_SECONDS : seconds;
}
