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
 * The HTTPS adapter lower-cases names, but a response straight from Espruino keeps the case the server sent, so
 * other names are compared too. Only names are compared, because a chunked response can hold a bogus header entry
 * made from the body.
 *
 * @param response A complete response.
 * @param name Header name in any case.
 * @returns The value as a string, or `undefined` when the header is absent.
 */
export function getHeader(response: HttpResponseData, name: string): string | undefined {
  const lowerCaseName = name.toLowerCase();
  const value = response.headers[lowerCaseName];
  if (value !== undefined) return String(value);

  const names = Object.keys(response.headers);
  for (let i = 0; i < names.length; i++) {
    if (names[i].toLowerCase() === lowerCaseName) return String(response.headers[names[i]]);
  }
  return undefined;
}
