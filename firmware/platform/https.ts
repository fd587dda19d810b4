// HTTPS transport over Espruino's `require("http").request`, one request at a time.
//
// Espruino's client differs from Node's in several ways:
// - it adds no Content-Length and has no timeout;
// - it reports the status as a string and keeps header names as the server sent them;
// - it throws DNS and connect failures synchronously from `end()`;
// - it reports a server that closes early as a normal close, and may emit an error after a complete response (TLS
//   close-notify).
// This module turns all of that into one callback with either a complete `HttpResponseData` or a `DeviceError`.

import { createError, DeviceError, ErrorCode } from "../core/errors";
import { HttpRequestSpec, HttpResponseData } from "../core/http-types";
import { logDebug } from "./log";

const http = require("http");

/** Where a request goes: a host name and an optional port (443 when `undefined`). */
export interface HttpsTarget {
  host: string;
  port: number | undefined;
}

/** Receives either an error or a complete response, exactly once. */
export type HttpsCallback = (error: DeviceError | undefined, response: HttpResponseData | undefined) => void;

interface PendingRequest {
  target: HttpsTarget;
  spec: HttpRequestSpec;
  timeoutMs: number;
  callback: HttpsCallback;
}

// TLS needs over 32 KB of native heap per connection on an ESP32, so requests wait here for their turn.
const queue: PendingRequest[] = [];
let busy = false;

/**
 * Sends an HTTPS request when no other request is running, and reports the complete response.
 *
 * Sets `Content-Length` from the body (bytes, since strings are byte strings). Network failures, timeouts and
 * bodies shorter than their `Content-Length` become retryable `DeviceError`s; HTTP error statuses are responses.
 *
 * @param target Host and optional port.
 * @param spec Method, path, headers and body from a core request builder.
 * @param timeoutMs Time from the start of the request to the complete response, in ms.
 * @param callback Called once with `(error, undefined)` or `(undefined, response)`.
 */
export function sendHttpsRequest(target: HttpsTarget, spec: HttpRequestSpec, timeoutMs: number,
  callback: HttpsCallback): void {
  queue.push({ target: target, spec: spec, timeoutMs: timeoutMs, callback: callback });
  if (!busy) startNext();
}

/** Returns how many requests are running or waiting. */
export function countPendingRequests(): number {
  return queue.length + (busy ? 1 : 0);
}

function startNext(): void {
  const next = queue.shift();
  if (next === undefined) return;

  busy = true;
  runRequest(next, (error, response) => {
    busy = false;
    try {
      next.callback(error, response);
    } finally {
      if (!busy) startNext();
    }
  });
}

function lowerCaseHeaders(headers: { [name: string]: string }): { [lowerCaseName: string]: string } {
  const result: { [lowerCaseName: string]: string } = {};
  // The parsed headers of a chunked response can hold one bogus entry made from the body; it is copied but never
  // looked up, because callers only read the names they need.
  const names = Object.keys(headers);
  for (let i = 0; i < names.length; i++) result[names[i].toLowerCase()] = String(headers[names[i]]);
  return result;
}

function describeTarget(request: PendingRequest): string {
  return request.spec.method + " https://" + request.target.host +
    (request.target.port !== undefined ? ":" + request.target.port : "") + request.spec.path.split("?")[0];
}

function checkComplete(request: PendingRequest, response: HttpResponseData): DeviceError | undefined {
  const declared = response.headers["content-length"];

  if (declared !== undefined) {
    const expectedBytes = parseInt(declared, 10);
    if (!isNaN(expectedBytes) && response.body.length !== expectedBytes) {
      return createError(ErrorCode.httpTruncated, describeTarget(request) + " returned " + response.body.length +
        " of " + expectedBytes + " body bytes before the connection closed", { httpStatus: response.status, retryable: true });
    }
    return undefined;
  }

  const chunked = (response.headers["transfer-encoding"] || "").toLowerCase().indexOf("chunked") >= 0;
  if (!chunked && response.status !== 204 && response.status !== 304) {
    // Espruino stops reading right after the headers of such a response, so the body cannot be trusted.
    return createError(ErrorCode.httpTruncated, describeTarget(request) + " returned HTTP " + response.status +
      " with neither Content-Length nor chunked encoding, so the body may be cut off", {
      httpStatus: response.status, retryable: true,
    });
  }
  return undefined;
}

function runRequest(request: PendingRequest, finish: HttpsCallback): void {
  let done = false;
  let req: EspruinoHttpRequest | undefined = undefined;
  let timer: number | undefined = undefined;

  const complete = (error: DeviceError | undefined, response: HttpResponseData | undefined) => {
    // Espruino can report an error after a complete response (e.g. TLS close-notify); only the first result counts.
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    req = undefined;
    finish(error, response);
  };

  timer = setTimeout(() => {
    timer = undefined;
    if (req !== undefined) req.clsNow = true;
    complete(createError(ErrorCode.httpTimeout, describeTarget(request) + " timed out after " + request.timeoutMs +
      " ms", { retryable: true }), undefined);
  }, request.timeoutMs);

  const headers: { [name: string]: string | number } = {};
  const names = Object.keys(request.spec.headers);
  for (let i = 0; i < names.length; i++) headers[names[i]] = request.spec.headers[names[i]];

  const body = request.spec.body;
  if (body !== undefined) headers["Content-Length"] = body.length;
  else if (request.spec.method !== "GET") headers["Content-Length"] = 0;

  const options: EspruinoHttpOptions = {
    host: request.target.host,
    path: request.spec.path,
    method: request.spec.method,
    protocol: "https:",
    headers: headers,
  };
  if (request.target.port !== undefined) options.port = request.target.port;

  logDebug("https", describeTarget(request) + " starting");
  try {
    req = http.request(options, (res) => {
      const chunks: string[] = [];

      res.on("data", (chunk: string) => {
        chunks.push(chunk);
      });
      res.on("close", () => {
        try {
          const response: HttpResponseData = {
            status: parseInt(res.statusCode, 10),
            headers: lowerCaseHeaders(res.headers),
            body: chunks.join(""),
          };
          chunks.length = 0;
          const incomplete = checkComplete(request, response);
          if (incomplete !== undefined) complete(incomplete, undefined);
          else complete(undefined, response);
        } catch (e) {
          complete(createError(ErrorCode.httpNetwork, describeTarget(request) + " failed while reading the response: " +
            (e as Error).message, { retryable: true }), undefined);
        }
      });
    });

    req.on("error", (e) => {
      complete(createError(ErrorCode.httpNetwork, describeTarget(request) + " failed: " + e.message + " (code " +
        e.code + ")", { retryable: true }), undefined);
    });

    if (body !== undefined) req.end(body);
    else req.end();
  } catch (e) {
    // DNS failures, refused connections and TLS set-up failures (out of memory) are thrown from end().
    complete(createError(ErrorCode.httpNetwork, describeTarget(request) + " failed: " + (e as Error).message,
      { retryable: true }), undefined);
  }
}
