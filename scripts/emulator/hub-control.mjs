// Control channel of a running emulator's IoT Hub, for `npm run emulator -- hub ...` in another terminal.
//
// The emulator started from the command line also listens on plain HTTP on 127.0.0.1 (never another address), on a
// port the OS picks. Every path starts with a random secret, so only someone who can read the emulator's output can
// use it:
//   POST /{secret}/c2d/{deviceId}   body {"body": "...", "messageId"?: "...", "properties"?: {...}}  -> {"messageId"}
//   GET  /{secret}/c2d/{deviceId}   -> the device's C2D messages and their states
//   GET  /{secret}/received         -> the telemetry the hub accepted
//   POST /{secret}/knobs            body {"outage": true, ...}  -> the hub knobs in force

import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';

/** Maximum request body size the control server reads, in bytes. */
const MAX_CONTROL_BODY_BYTES = 262144;

/**
 * Starts the control server of a running emulator.
 *
 * @param {{ hub: object }} emulator The object `startEmulator` returned.
 * @param {(line: string) => void} log Receives one line per control request.
 * @returns {Promise<{ url: string, close(): Promise<void> }>} `url` includes the secret; pass it as `--control`.
 */
export async function startHubControlServer(emulator, log) {
  const secret = randomBytes(16).toString('hex');
  const server = createServer((request, response) => {
    readBody(request, (bodyText) => {
      const reply = handleControlRequest(emulator.hub, secret, request.method, request.url ?? '/', bodyText);
      log(`control ${request.method} ${(request.url ?? '/').replace(secret, '<secret>')} -> ${reply.status}`);
      const text = JSON.stringify(reply.body);
      response.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
      response.end(text);
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    url: `http://127.0.0.1:${server.address().port}/${secret}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function readBody(request, onEnd) {
  const chunks = [];
  let byteCount = 0;
  request.on('data', (chunk) => {
    byteCount += chunk.length;
    if (byteCount <= MAX_CONTROL_BODY_BYTES) {
      chunks.push(chunk);
    }
  });
  request.on('end', () => onEnd(Buffer.concat(chunks).toString('utf8')));
}

function handleControlRequest(hub, secret, method, url, bodyText) {
  const parts = new URL(url, 'http://control.invalid').pathname.split('/').slice(1).map(decodeURIComponent);
  if (parts[0] !== secret) {
    return { status: 403, body: { error: 'Wrong or missing control secret; use the --control URL that the emulator printed' } };
  }

  try {
    const [, resource, deviceId] = parts;
    if (resource === 'received' && method === 'GET') {
      return { status: 200, body: hub.received };
    }
    if (resource === 'c2d' && deviceId && method === 'GET') {
      return { status: 200, body: hub.listCloudToDevice(deviceId) };
    }
    if (resource === 'c2d' && deviceId && method === 'POST') {
      return { status: 201, body: { messageId: hub.enqueueCloudToDevice(deviceId, JSON.parse(bodyText)) } };
    }
    if (resource === 'knobs' && method === 'POST') {
      hub.setKnobs(JSON.parse(bodyText));
      return { status: 200, body: hub.getKnobs() };
    }
    return { status: 404, body: { error: `No control resource ${method} /${parts.slice(1).join('/')}; see --help` } };
  } catch (error) {
    return { status: 400, body: { error: error.message } };
  }
}

/**
 * Sends one control request to a running emulator.
 *
 * @param {string} controlUrl The URL the emulator printed, with its secret.
 * @param {string} method "GET" or "POST".
 * @param {string} path e.g. "/c2d/sensor-01".
 * @param {object} [body] JSON body for POST.
 * @returns {Promise<{ status: number, body: any }>} The parsed JSON reply.
 * @throws {Error} When the URL is not a loopback HTTP URL or the emulator cannot be reached.
 */
export function sendControlRequest(controlUrl, method, path, body) {
  const base = new URL(controlUrl);
  if (base.protocol !== 'http:' || base.hostname !== '127.0.0.1') {
    throw new Error(`Invalid --control URL "${controlUrl}": use the http://127.0.0.1:PORT/SECRET URL that the emulator printed`);
  }
  const text = body === undefined ? undefined : JSON.stringify(body);

  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port: base.port, path: `${base.pathname}${path}`, method, headers: { 'Content-Type': 'application/json' } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (error) {
            reject(new Error(`The emulator sent a reply that is not JSON: ${error.message}`));
          }
        });
      },
    );
    request.on('error', (error) => reject(new Error(`Cannot reach the emulator at ${base.host}: ${error.message}; is it still running?`)));
    request.end(text);
  });
}
