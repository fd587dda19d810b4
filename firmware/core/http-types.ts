// The plain-data shapes that pass between the protocol core and the HTTPS transport.

/** An HTTPS request as data: the transport adds the host, port, `Content-Length` and nothing else. */
export interface HttpRequestSpec {
  method: string;
  /** Path and query, already percent-encoded, e.g. "/0ne000A1B2C/registrations/sensor-01/register?api-version=2021-10-01". */
  path: string;
  headers: { [name: string]: string };
  /** Body as a binary string, or `undefined` for none. */
  body: string | undefined;
}

/** A complete HTTPS response as data. */
export interface HttpResponseData {
  /** Numeric status code. */
  status: number;
  /** Header values by lower-case name. */
  headers: { [lowerCaseName: string]: string };
  /** Body as a binary string. */
  body: string;
}

/**
 * Looks up a response header by name, ignoring case.
 *
 * @param response A response whose header names are lower-case.
 * @param name Header name in any case.
 * @returns The value, or `undefined` when the header is absent.
 */
export function getHeader(response: HttpResponseData, name: string): string | undefined {
  return response.headers[name.toLowerCase()];
}
