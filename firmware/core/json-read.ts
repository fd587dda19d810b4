// Tolerant readers for fields of service responses: a wrong type becomes `undefined`, never an exception.

/**
 * Parses a body that should hold one JSON object.
 *
 * @param body Response body.
 * @returns The object, or `undefined` for an empty body, invalid JSON, or JSON that is not an object.
 */
export function parseJsonObject(body: string): any {
  if (body.length === 0) return undefined;
  try {
    const value = JSON.parse(body);
    return value !== null && typeof value === "object" && !(value instanceof Array) ? value : undefined;
  } catch (e) {
    return undefined;
  }
}

/** Returns `value` when it is a non-empty string, otherwise `undefined`. */
export function readText(value: any): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** Returns `value` as a finite number when it is one or a numeric string, otherwise `undefined`. */
export function readNumber(value: any): number | undefined {
  if (typeof value === "number" && isFinite(value)) return value;
  if (typeof value === "string" && value.length > 0 && isFinite(Number(value))) return Number(value);
  return undefined;
}
