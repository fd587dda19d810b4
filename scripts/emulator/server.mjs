// Local Azure DPS emulator: TLS server, request routing and the request log.
//
// The route modules (`dps.mjs` and `hub.mjs`) return plain replies, and this file writes them with `Content-Type`,
// `Content-Length` and a `Date` header from the emulator clock, because devices set their clock from it.
// It logs one line per request.

import { createServer } from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createCertificate } from './certificate.mjs';
import { MAX_REQUEST_BODY_BYTES, createDpsRoutes } from './dps.mjs';
import { createHub } from './hub.mjs';
import { loadEnrollmentsFile, parseEnrollments } from './enrollments.mjs';
import { createFaultInjector, validateFaults } from './faults.mjs';
import { createKnobStore } from './knobs.mjs';
import { errorReply } from './responses.mjs';
import { explainDpsRejection } from '../lib/diagnose-rejection.mjs';
import { REJECTION_PROBLEMS, explainRejectionBriefly, parseSasToken } from './sas-check.mjs';

/** Default bind address. The emulator listens only on loopback unless `allowNonLoopback` is set. */
export const DEFAULT_HOST = '127.0.0.1';

/** Default `assignedHub` handed to devices. */
export const DEFAULT_HUB_HOST_NAME = 'localhost';

/** Number of received SAS tokens kept in `receivedTokens`; older ones are dropped first. */
export const MAX_RECEIVED_TOKENS = 2000;

/**
 * Starts a local DPS emulator over HTTPS with a fresh self-signed certificate.
 *
 * @param {object} options Emulator settings.
 * @param {object} [options.enrollments] Enrollment list (`{ idScope, individual, groups }`, see `enrollments.mjs`).
 * @param {string} [options.enrollmentsFile] Path of a JSON file with the enrollment list; give this or `enrollments`.
 * @param {number} [options.port] TCP port; 0 (the default) lets the OS pick a free one.
 * @param {string} [options.host] Bind address, "127.0.0.1" by default. Only loopback addresses are allowed unless
 *   `allowNonLoopback` is true.
 * @param {boolean} [options.allowNonLoopback] Allows a LAN address, so a real board can reach the emulator.
 * @param {string} [options.hubHostName] Host name handed out as `assignedHub`, "localhost" by default.
 * @param {object} [options.knobs] Knobs for all registration IDs at start; see `DEFAULT_KNOBS` in `knobs.mjs`.
 * @param {object[]} [options.faults] Faults armed at start, as for `injectFaults`; see `FAULTS` in `faults.mjs`.
 * @param {object} [options.hubKnobs] IoT Hub knobs at start; see `DEFAULT_HUB_KNOBS` in `hub-knobs.mjs`.
 * @param {() => number} [options.nowMs] Emulator clock in ms since 1970, `Date.now` by default. It sets the `Date`
 *   header, timestamps and token expiry checks. Assignment delays use a monotonic clock instead.
 * @param {(line: string) => void} [options.log] Receives one line per request, `console.log` by default.
 * @param {(rejection: object) => string} [options.explainRejection] Turns a token rejection into plain words for the
 *   log. It receives `{ problem, detail, token, expected, enrollment, candidates }` (the enrollment objects contain
 *   keys) and must return text without any secret. Defaults to the diagnosis of `npm run keys -- diagnose`, which
 *   names the signing mistake that reproduces the signature, such as the group key used directly.
 * @returns {Promise<{ port: number, host: string, url: string, hubHostName: string, idScope: string,
 *   certificatePem: string, fingerprintSha256: string, close(): Promise<void>,
 *   setKnobs(registrationIdOrStar: string, knobs: object): void,
 *   requests: Array<{ atMs: number, method: string, path: string, status: number, registrationId?: string,
 *     operationId?: string, outcome: string, reason?: string, trackingId?: string }>,
 *   resetRequests(): void, hub: object }>} The running emulator. `certificatePem` is what clients must trust.
 *   `hub` is the IoT Hub test API of `hub.mjs` (knobs, received telemetry, C2D messages).
 * @throws {TypeError} When an option is invalid or the host is not a loopback address without `allowNonLoopback`.
 * @throws {Error} When the enrollments file cannot be loaded or the port cannot be bound.
 */
export async function startEmulator(options = {}) {
  const settings = await readOptions(options);
  const knobStore = createKnobStore(settings.knobs);
  const faultInjector = createFaultInjector();
  faultInjector.arm(settings.faults);
  const requests = [];
  const receivedTokens = [];
  let baseUrl = '';

  const hub = createHub({
    enrollments: settings.enrollments,
    hubHostName: settings.hubHostName,
    knobs: options.hubKnobs,
    monotonicMs: () => performance.now(),
  });
  const routes = [
    ...createDpsRoutes({
      enrollments: settings.enrollments,
      knobs: knobStore,
      getBaseUrl: () => baseUrl,
      hubHostName: settings.hubHostName,
      monotonicMs: () => performance.now(),
      explainRejection: settings.explainRejection,
    }),
    ...hub.routes,
  ];

  const extraSubjectNames = [settings.host, settings.hubHostName].filter((name) => !isLoopbackHost(name));
  const certificate = await createCertificate(extraSubjectNames);

  const server = createServer({ key: certificate.privateKeyPem, cert: certificate.certificatePem }, (request, response) => {
    collectBody(request, (bodyText, tooLarge) => {
      recordToken(receivedTokens, request, settings.nowMs());
      const entry = faultInjector.serve({
        request,
        response,
        nowMs: settings.nowMs(),
        serve: (target) => serveRequest({ request, response: target, bodyText, tooLarge, routes, settings }),
      });
      requests.push(entry);
      hub.observeRequest(entry);
      settings.log(formatLogLine(entry));
    });
  });

  // A board whose TLS stack rejects the certificate or cipher fails here, before any request is logged.
  server.on('tlsClientError', (error, socket) => {
    settings.log(`TLS handshake failed with ${socket.remoteAddress ?? 'unknown client'}: ${error.message}`);
  });

  await listen(server, settings.port, settings.host);

  const port = server.address().port;
  baseUrl = `https://${formatHostForUrl(settings.host)}:${port}`;

  return {
    port,
    host: settings.host,
    url: baseUrl,
    hubHostName: settings.hubHostName,
    idScope: settings.enrollments.idScope,
    certificatePem: certificate.certificatePem,
    fingerprintSha256: certificate.fingerprintSha256,
    requests,
    receivedTokens,
    close: () => {
      faultInjector.close();
      return closeServer(server);
    },
    injectFaults: (faults) => faultInjector.arm(faults),
    pendingFaults: () => faultInjector.pending(),
    clearFaults: () => faultInjector.clear(),
    setKnobs: (registrationIdOrStar, knobs) => knobStore.set(registrationIdOrStar, knobs),
    hub: hub.api,
    resetRequests: () => {
      requests.length = 0;
    },
  };
}

/**
 * Tells whether a host name or address is loopback.
 *
 * @param {string} host Host name or IP address.
 * @returns {boolean} True for "localhost", 127.0.0.0/8, "::1" and IPv4-mapped 127.x addresses.
 */
export function isLoopbackHost(host) {
  if (host === 'localhost' || host === '::1') {
    return true;
  }

  const ipv4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return isIP(ipv4) === 4 && ipv4.startsWith('127.');
}

async function readOptions(options) {
  const hasEnrollments = options.enrollments !== undefined;
  const hasEnrollmentsFile = options.enrollmentsFile !== undefined;
  if (hasEnrollments === hasEnrollmentsFile) {
    throw new TypeError('Invalid emulator options: give exactly one of "enrollments" (an object) or "enrollmentsFile" (a path)');
  }

  const enrollments = hasEnrollments
    ? parseEnrollments(options.enrollments, 'enrollments option')
    : await loadEnrollmentsFile(options.enrollmentsFile);

  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`Invalid emulator option "port": must be a whole number from 0 to 65535; got ${JSON.stringify(port)}`);
  }

  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== 'string' || host.length === 0) {
    throw new TypeError(`Invalid emulator option "host": must be a host name or IP address; got ${JSON.stringify(host)}`);
  }
  if (!isLoopbackHost(host) && options.allowNonLoopback !== true) {
    throw new TypeError(
      `Invalid emulator option "host": "${host}" is not a loopback address; use 127.0.0.1, or set allowNonLoopback (--allow-non-loopback) to serve a real board on your LAN`,
    );
  }

  const hubHostName = options.hubHostName ?? DEFAULT_HUB_HOST_NAME;
  if (typeof hubHostName !== 'string' || !/^[A-Za-z0-9.-]+$/.test(hubHostName)) {
    throw new TypeError(
      `Invalid emulator option "hubHostName": must be a bare host name such as "localhost" or "myhub.azure-devices.net"; got ${JSON.stringify(hubHostName)}`,
    );
  }

  const nowMs = options.nowMs ?? Date.now;
  const log = options.log ?? console.log;
  const explainRejection = options.explainRejection ?? explainWithDiagnosis;
  for (const [name, value] of Object.entries({ nowMs, log, explainRejection })) {
    if (typeof value !== 'function') {
      throw new TypeError(`Invalid emulator option "${name}": must be a function; got ${typeof value}`);
    }
  }

  const faults = validateFaults(options.faults ?? [], 'emulator option "faults"');

  return { enrollments, port, host, hubHostName, knobs: options.knobs ?? {}, faults, nowMs, log, explainRejection };
}

// Reads the whole request body as UTF-8. Past MAX_REQUEST_BODY_BYTES the rest is drained and dropped.
function collectBody(request, onEnd) {
  const chunks = [];
  let byteCount = 0;
  let tooLarge = false;

  request.on('data', (chunk) => {
    byteCount += chunk.length;
    if (byteCount > MAX_REQUEST_BODY_BYTES) {
      tooLarge = true;
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => onEnd(Buffer.concat(chunks).toString('utf8'), tooLarge));
}

function serveRequest({ request, response, bodyText, tooLarge, routes, settings }) {
  const nowMs = settings.nowMs();
  const url = new URL(request.url ?? '/', 'https://emulator.invalid');
  const path = `${url.pathname}${url.search}`;

  let result;
  try {
    result = routeRequest({ request, url, bodyText, tooLarge, routes, nowMs });
  } catch (error) {
    const reply = errorReply(500, 500000, 'Internal server error in the emulator', nowMs);
    result = { reply, record: { outcome: 'emulator-error', reason: error.message, trackingId: reply.trackingId } };
  }

  writeReply(response, result.reply, nowMs);
  return { atMs: nowMs, method: request.method, path, status: result.reply.status, ...result.record };
}

function routeRequest({ request, url, bodyText, tooLarge, routes, nowMs }) {
  const pathMatches = routes
    .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
    .filter((candidate) => candidate.match !== null);

  if (pathMatches.length === 0) {
    const reply = errorReply(404, 404000, `No resource at "${url.pathname}"`, nowMs);
    return { reply, record: { outcome: 'not-found', trackingId: reply.trackingId } };
  }

  const selected = pathMatches.find((candidate) => candidate.route.method === request.method);
  if (selected === undefined) {
    const allowed = pathMatches.map((candidate) => candidate.route.method).join(', ');
    const reply = errorReply(405, 405000, `Method ${request.method} is not allowed here; use ${allowed}`, nowMs, { Allow: allowed });
    return { reply, record: { outcome: 'method-not-allowed', trackingId: reply.trackingId } };
  }

  if (tooLarge) {
    const reply = errorReply(413, 413000, `Request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`, nowMs);
    return { reply, record: { outcome: 'bad-request', trackingId: reply.trackingId } };
  }

  return selected.route.handle({
    method: request.method,
    match: selected.match,
    searchParams: url.searchParams,
    headers: request.headers,
    bodyText,
    nowMs,
  });
}

function writeReply(response, reply, nowMs) {
  // Hub replies: 204 has no body at all, and a C2D message body is sent as the text it was queued with.
  if (reply.body === undefined) {
    const rawText = reply.rawBody ?? '';
    const lengthHeader = reply.status === 204 ? {} : { 'Content-Length': String(Buffer.byteLength(rawText)) };
    response.writeHead(reply.status, { ...reply.headers, Date: new Date(nowMs).toUTCString(), ...lengthHeader });
    response.end(reply.status === 204 ? undefined : rawText);
    return;
  }

  const bodyText = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...reply.headers,
    Date: new Date(nowMs).toUTCString(),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(bodyText)),
  });
  response.end(bodyText);
}

// Keeps the SAS token of a request, so tests can check its lifetime and know every signature that must never be
// logged. Requests without a readable token are skipped.
function recordToken(receivedTokens, request, nowMs) {
  const parsed = parseSasToken(request.headers.authorization);
  if (!parsed.ok) {
    return;
  }
  receivedTokens.push({
    atMs: nowMs,
    path: request.url ?? '/',
    token: request.headers.authorization,
    signature: parsed.token.sig,
    signatureSent: parsed.token.signatureSent,
    expiryEpochSeconds: Number(parsed.token.se),
  });
  if (receivedTokens.length > MAX_RECEIVED_TOKENS) {
    receivedTokens.shift();
  }
}

// The line names the request and its result; it never contains a header value, so no token reaches the log.
function formatLogLine(entry) {
  const parts = [`${entry.method} ${entry.path} -> ${entry.status} ${entry.outcome}`];
  if (entry.fault !== undefined) {
    parts.push(`fault=${entry.fault}`);
  }
  if (entry.reason !== undefined) {
    parts.push(`(${entry.reason})`);
  }
  if (entry.operationId !== undefined) {
    parts.push(`operation=${entry.operationId}`);
  }
  if (entry.trackingId !== undefined) {
    parts.push(`tracking=${entry.trackingId}`);
  }
  return parts.join(' ');
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (error) => reject(new Error(`Cannot listen on ${host}:${port}: ${error.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

// Keep-alive connections of clients such as the Azure SDK would hold `close` open, so they are closed too.
function closeServer(server) {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

function formatHostForUrl(host) {
  return isIP(host) === 6 ? `[${host}]` : host;
}

// The full diagnosis needs a key to test signing mistakes with; a registration that no enrollment knows has none.
function explainWithDiagnosis(rejection) {
  if (rejection.problem === REJECTION_PROBLEMS.unknownRegistration) return explainRejectionBriefly(rejection);
  return explainDpsRejection(rejection);
}
