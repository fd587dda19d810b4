// HTTPS and raw TLS servers on 127.0.0.1 with a throwaway self-signed certificate, for tests and local runs of the
// simulator. Each listens on a port the OS picks.

import https from "node:https";
import tls from "node:tls";
import { generate } from "selfsigned";

let certificatePromise;

/**
 * Returns a self-signed certificate for "localhost", generated once per process.
 *
 * @returns {Promise<{key: string, cert: string}>} the PEM key and certificate
 */
export function loopbackCertificate() {
  if (certificatePromise === undefined) {
    certificatePromise = generate([{ name: "commonName", value: "localhost" }], { keySize: 2048 }).then((pems) => ({
      key: pems.private,
      cert: pems.cert,
    }));
  }
  return certificatePromise;
}

/**
 * Starts an HTTPS server on 127.0.0.1 that records every request and passes it to `handler`.
 *
 * @param {(request: import("node:http").IncomingMessage, response: import("node:http").ServerResponse,
 *   body: string) => void} handler sends the response to one request; `body` is the request body as a binary (latin1) string
 * @returns {Promise<{port: number, requests: Array<{method: string, url: string, rawHeaders: string[],
 *   body: string, serverName: string | false}>, close: () => Promise<void>}>} the running server; `requests`
 *   keeps the raw header list in the order and case sent
 */
export async function startLoopbackHttpsServer(handler) {
  const { key, cert } = await loopbackCertificate();
  const requests = [];
  const server = https.createServer({ key, cert }, (request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("latin1");
      requests.push({
        method: request.method,
        url: request.url,
        rawHeaders: request.rawHeaders.slice(),
        body,
        serverName: request.socket.servername,
      });
      handler(request, response, body);
    });
  });
  return listen(server, requests);
}

/**
 * Starts a raw TLS server on 127.0.0.1 that hands each connection to `onSocket`, for responses that an HTTP server
 * would not produce (no headers at all, no framing).
 *
 * @param {(socket: tls.TLSSocket, requestText: string) => void} onSocket called once the request head (up to the
 *   blank line) has arrived, with that head as text
 * @returns {Promise<{port: number, requests: string[], close: () => Promise<void>}>} the running server
 */
export async function startLoopbackTlsServer(onSocket) {
  const { key, cert } = await loopbackCertificate();
  const requests = [];
  const server = tls.createServer({ key, cert }, (socket) => {
    let received = "";
    let answered = false;
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      if (!answered && received.includes("\r\n\r\n")) {
        answered = true;
        requests.push(received);
        onSocket(socket, received);
      }
    });
    socket.on("error", () => {});
  });
  return listen(server, requests);
}

function listen(server, requests) {
  const sockets = new Set();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: server.address().port,
        requests,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) {
              socket.destroy();
            }
            server.close(() => done());
          }),
      });
    });
  });
}
