// Fault injection for the local emulator: armed faults replace or corrupt the responses to matching requests, so
// tests can check how a device copes with broken networks and broken servers.
//
// Faults are armed as a list and used in order: each request takes the first armed fault whose `match` fits it, and
// a fault is dropped once it has been used `count` times. Every request that gets a fault appears in the request
// log with `fault: NAME`. The faulty responses are written as raw bytes on the TLS socket, because Node's HTTP server
// would fix most of these faults (framing, header case) on its own.

import { STATUS_CODES } from 'node:http';

/** Request kinds a fault can match: the DPS register PUT, the DPS operation-status GET, hub requests, or any. */
export const FAULT_MATCHES = Object.freeze(['register', 'poll', 'hub', 'any']);

/**
 * Every fault and its effect.
 * Faults with `usesRoute` corrupt the reply that the route builds; the others reply without calling the route.
 */
export const FAULTS = Object.freeze({
  'reset-before-headers': { usesRoute: false, description: 'connection reset before any header was sent' },
  'reset-mid-body': { usesRoute: true, description: 'connection reset after half of the body' },
  'no-answer': { usesRoute: false, description: 'no answer; the connection stays open until the client closes it' },
  'slow-body': { usesRoute: true, description: 'body sent at one byte per second' },
  'short-body': { usesRoute: true, description: 'connection closed after half of the Content-Length bytes' },
  'close-delimited': { usesRoute: true, description: 'body with neither Content-Length nor chunked encoding' },
  'malformed-json': { usesRoute: true, description: 'body cut to a JSON fragment, with a matching Content-Length' },
  'html-error': { usesRoute: false, description: 'HTTP 502 with an HTML error page from a gateway' },
  'header-case': { usesRoute: true, description: 'header names in mixed case' },
  'retry-after-date': { usesRoute: false, description: 'HTTP 429 with Retry-After as an HTTP date 2 s ahead' },
  'retry-after-negative': { usesRoute: false, description: 'HTTP 429 with Retry-After: -5' },
  'retry-after-huge': { usesRoute: false, description: 'HTTP 429 with Retry-After: 99999999999' },
  'retry-after-garbage': { usesRoute: false, description: 'HTTP 429 with Retry-After: soon, maybe' },
  'http-500': { usesRoute: false, description: 'HTTP 500 with an Azure error body' },
  'http-503': { usesRoute: false, description: 'HTTP 503 with an Azure error body' },
  'http-429': { usesRoute: false, description: 'HTTP 429 with Retry-After: 1' },
});

/** Time between two bytes of a `slow-body` answer, in ms. */
export const SLOW_BODY_BYTE_INTERVAL_MS = 1000;

/** How far ahead of the emulator clock the `retry-after-date` fault sets its date, in seconds. */
export const RETRY_AFTER_DATE_AHEAD_SECONDS = 2;

const RETRY_AFTER_BY_FAULT = Object.freeze({
  'retry-after-negative': '-5',
  'retry-after-huge': '99999999999',
  'retry-after-garbage': 'soon, maybe',
  'http-429': '1',
});

const SERVICE_ERROR_CODES = Object.freeze({ 429: 429001, 500: 500001, 502: 502000, 503: 503001 });

const HTML_ERROR_PAGE = '<html><head><title>502 Bad Gateway</title></head>' +
  '<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>';

/**
 * Validates a list of faults to arm.
 *
 * @param {unknown} faults Array of `{ match, fault, count? }`: `match` is one of `FAULT_MATCHES`, `fault` a key of
 *   `FAULTS`, `count` how many matching requests get it (a whole number from 1, default 1).
 * @param {string} label Where the list came from, for error messages, e.g. "injectFaults".
 * @returns {Array<{ match: string, fault: string, count: number }>} Copies with `count` filled in.
 * @throws {TypeError} Naming the entry and field that are invalid and the values allowed.
 */
export function validateFaults(faults, label) {
  if (!Array.isArray(faults)) {
    throw new TypeError(`Invalid ${label}: expected an array such as [{ "match": "register", "fault": "http-503", "count": 2 }]`);
  }

  return faults.map((entry, index) => {
    const where = `${label} entry ${index + 1}`;
    if (entry === null || typeof entry !== 'object') {
      throw new TypeError(`Invalid ${where}: expected an object with "match", "fault" and optional "count"`);
    }
    if (!FAULT_MATCHES.includes(entry.match)) {
      throw new TypeError(`Invalid ${where}: "match" must be one of ${FAULT_MATCHES.join(', ')}; got ${JSON.stringify(entry.match)}`);
    }
    if (!Object.hasOwn(FAULTS, entry.fault)) {
      throw new TypeError(`Invalid ${where}: unknown fault ${JSON.stringify(entry.fault)}; known faults are ${Object.keys(FAULTS).join(', ')}`);
    }
    const count = entry.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new TypeError(`Invalid ${where}: "count" must be a whole number of requests, 1 or more; got ${JSON.stringify(entry.count)}`);
    }
    return { match: entry.match, fault: entry.fault, count };
  });
}

/**
 * Parses a `--fault` command-line value.
 *
 * @param {string} text "MATCH:FAULT" or "MATCH:FAULT:COUNT", e.g. "register:http-503:3".
 * @returns {{ match: string, fault: string, count: number }} The fault, validated.
 * @throws {TypeError} When the text does not have that form or names an unknown match or fault.
 */
export function parseFaultOption(text) {
  const parts = String(text).split(':');
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !/^[0-9]+$/.test(parts[2]))) {
    throw new TypeError(`Invalid --fault "${text}": use MATCH:FAULT or MATCH:FAULT:COUNT, e.g. register:http-503:3`);
  }
  const entry = { match: parts[0], fault: parts[1], count: parts.length === 3 ? Number(parts[2]) : 1 };
  return validateFaults([entry], '--fault')[0];
}

/**
 * Tells which kind of request a method and path are, for matching faults.
 *
 * @param {string} method HTTP method.
 * @param {string} pathname Path without the query.
 * @returns {"register" | "poll" | "hub" | "other"} The kind.
 */
export function classifyRequest(method, pathname) {
  if (method === 'PUT' && /^\/[^/]+\/registrations\/[^/]+\/register$/.test(pathname)) {
    return 'register';
  }
  if (method === 'GET' && /^\/[^/]+\/registrations\/[^/]+\/operations\/[^/]+$/.test(pathname)) {
    return 'poll';
  }
  if (pathname.startsWith('/devices/')) {
    return 'hub';
  }
  return 'other';
}

/**
 * Creates the fault injector of one emulator.
 *
 * @returns {{ arm(faults: object[]): void, pending(): object[], clear(): void,
 *   serve(input: object): object, close(): void }}
 *   `arm` appends validated faults; `pending` lists what is still armed; `serve` answers one request, with a fault
 *   when one matches; `close` stops the timers of slow answers.
 */
export function createFaultInjector() {
  const armed = [];
  const slowTimers = new Set();

  function take(kind) {
    const index = armed.findIndex((entry) => entry.match === 'any' || entry.match === kind);
    if (index < 0) {
      return undefined;
    }
    const entry = armed[index];
    entry.count -= 1;
    if (entry.count === 0) {
      armed.splice(index, 1);
    }
    return entry.fault;
  }

  /**
   * Answers one request.
   *
   * @param {object} input
   * @param {import('node:http').IncomingMessage} input.request The request, body already read.
   * @param {import('node:http').ServerResponse} input.response Its response.
   * @param {number} input.nowMs Emulator clock in ms since 1970.
   * @param {(target: object) => object} input.serve Runs the route and writes its reply through `target` (a
   *   response, or a stand-in with `writeHead`, `setHeader` and `end`); returns the request log entry.
   * @returns {object} The request log entry, with `fault` set when a fault was applied.
   */
  function serve({ request, response, nowMs, serve: serveRoute }) {
    const url = new URL(request.url ?? '/', 'https://emulator.invalid');
    const fault = take(classifyRequest(request.method, url.pathname));
    if (fault === undefined) {
      return serveRoute(response);
    }

    const socket = response.socket;
    if (FAULTS[fault].usesRoute) {
      const captured = createCapturingResponse();
      const entry = serveRoute(captured);
      writeCorruptedReply(fault, socket, captured.result(), slowTimers);
      return { ...entry, fault, reason: FAULTS[fault].description };
    }

    const status = writeFaultReply(fault, socket, nowMs);
    const registrationMatch = /\/registrations\/([^/]+)/.exec(url.pathname);
    const entry = {
      atMs: nowMs,
      method: request.method,
      path: `${url.pathname}${url.search}`,
      status,
      outcome: 'fault-injected',
      fault,
      reason: FAULTS[fault].description,
    };
    if (registrationMatch !== null) {
      entry.registrationId = decodeURIComponent(registrationMatch[1]);
    }
    return entry;
  }

  return {
    arm: (faults) => {
      armed.push(...validateFaults(faults, 'injectFaults'));
    },
    pending: () => armed.map((entry) => ({ ...entry })),
    clear: () => {
      armed.length = 0;
    },
    serve,
    close: () => {
      for (const timer of slowTimers) {
        clearInterval(timer);
      }
      slowTimers.clear();
    },
  };
}

// Stands in for a ServerResponse so that the route's reply can be captured and re-sent with a fault.
function createCapturingResponse() {
  let status = 200;
  const headers = {};
  const chunks = [];

  const addHeaders = (values) => {
    for (const [name, value] of Object.entries(values ?? {})) {
      headers[name] = String(value);
    }
  };

  return {
    get statusCode() {
      return status;
    },
    set statusCode(value) {
      status = value;
    },
    setHeader: (name, value) => addHeaders({ [name]: value }),
    writeHead: (statusCode, values) => {
      status = statusCode;
      addHeaders(values);
    },
    write: (chunk) => {
      chunks.push(Buffer.from(chunk));
      return true;
    },
    end: (chunk) => {
      if (chunk !== undefined) {
        chunks.push(Buffer.from(chunk));
      }
    },
    result: () => ({ status, headers, body: Buffer.concat(chunks) }),
  };
}

function encodeHead(status, headers) {
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`];
  for (const [name, value] of Object.entries(headers)) {
    lines.push(`${name}: ${value}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

function withoutHeader(headers, lowerCaseName) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== lowerCaseName));
}

// "Retry-After" becomes "rEtRy-aFtEr", so a client that looks up names in one fixed case misses them.
function mixCase(name) {
  return [...name].map((character, index) => (index % 2 === 0 ? character.toLowerCase() : character.toUpperCase())).join('');
}

// A TCP reset needs the TCP socket under the TLS layer; if Node ever hides it, a plain close stands in.
function resetConnection(socket) {
  try {
    socket._parent.resetAndDestroy();
  } catch {
    // The plain close below still ends the connection, with a FIN instead of a reset.
  }
  socket.destroy();
}

function writeCorruptedReply(fault, socket, reply, slowTimers) {
  const body = reply.body;
  const headers = { ...withoutHeader(reply.headers, 'content-length'), 'Content-Length': String(body.length) };
  const half = Math.floor(body.length / 2);

  if (fault === 'reset-mid-body') {
    socket.write(Buffer.concat([encodeHead(reply.status, headers), body.subarray(0, half)]));
    // The reset waits a moment so the half body leaves before it.
    setTimeout(() => resetConnection(socket), 50);
    return;
  }

  if (fault === 'short-body') {
    socket.end(Buffer.concat([encodeHead(reply.status, headers), body.subarray(0, half)]));
    return;
  }

  if (fault === 'close-delimited') {
    socket.end(Buffer.concat([encodeHead(reply.status, withoutHeader(headers, 'content-length')), body]));
    return;
  }

  if (fault === 'malformed-json') {
    const fragment = body.subarray(0, Math.max(1, half));
    const fragmentHeaders = { ...headers, 'Content-Length': String(fragment.length) };
    socket.end(Buffer.concat([encodeHead(reply.status, fragmentHeaders), fragment]));
    return;
  }

  if (fault === 'header-case') {
    const mixed = Object.fromEntries(Object.entries(headers).map(([name, value]) => [mixCase(name), value]));
    socket.end(Buffer.concat([encodeHead(reply.status, mixed), body]));
    return;
  }

  // slow-body: the head and then one byte per interval, until the body is out or the client gives up.
  socket.write(encodeHead(reply.status, headers));
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= body.length) {
      clearInterval(timer);
      slowTimers.delete(timer);
      if (!socket.destroyed) {
        socket.end();
      }
      return;
    }
    socket.write(body.subarray(sent, sent + 1));
    sent += 1;
  }, SLOW_BODY_BYTE_INTERVAL_MS);
  slowTimers.add(timer);
  socket.once('close', () => {
    clearInterval(timer);
    slowTimers.delete(timer);
  });
}

// Writes the answer of a fault that does not use the route; returns the status sent, or 0 when none was.
function writeFaultReply(fault, socket, nowMs) {
  if (fault === 'reset-before-headers') {
    resetConnection(socket);
    return 0;
  }
  if (fault === 'no-answer') {
    return 0;
  }

  const date = new Date(nowMs).toUTCString();
  if (fault === 'html-error') {
    const body = Buffer.from(HTML_ERROR_PAGE, 'latin1');
    socket.end(Buffer.concat([
      encodeHead(502, { Date: date, 'Content-Type': 'text/html', 'Content-Length': String(body.length) }),
      body,
    ]));
    return 502;
  }

  let status = 429;
  if (fault === 'http-500') {
    status = 500;
  } else if (fault === 'http-503') {
    status = 503;
  }

  const headers = { Date: date, 'Content-Type': 'application/json; charset=utf-8' };
  if (fault === 'retry-after-date') {
    headers['Retry-After'] = new Date(nowMs + RETRY_AFTER_DATE_AHEAD_SECONDS * 1000).toUTCString();
  } else if (RETRY_AFTER_BY_FAULT[fault] !== undefined) {
    headers['Retry-After'] = RETRY_AFTER_BY_FAULT[fault];
  }

  const body = Buffer.from(JSON.stringify({
    errorCode: SERVICE_ERROR_CODES[status],
    message: `${STATUS_CODES[status]} (injected fault ${fault})`,
    timestampUtc: new Date(nowMs).toISOString(),
  }));
  headers['Content-Length'] = String(body.length);
  socket.end(Buffer.concat([encodeHead(status, headers), body]));
  return status;
}
