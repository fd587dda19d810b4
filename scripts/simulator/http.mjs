// `require("http")` of Espruino 2v29 on ESP32, limited to HTTPS requests, over real TLS sockets to loopback.
//
// What it reproduces:
// - Nothing is sent before `write` or `end`, and the request line carries `method` and `path` verbatim.
// - Headers are sent as given, after `User-Agent` and `Connection: close`, plus `Host` when none was given.
//   No `Content-Length` is added.
// - DNS failures and a second open connection are thrown from `end()`.
// - `statusCode` is a string, and header names keep the server's case.
// - Body chunks are binary strings of at most 536 bytes, followed by `end` and then `close`.
// - A close-notify from the server after a whole response still emits `{code: -30848}` on the request.
// - A close before the headers emits `{code: -15, message: "no response"}`.

import tls from "node:tls";
import { attachEmitter } from "./events.mjs";
import { ResponseParser } from "./http-response-parser.mjs";
import { bytesToBinaryString } from "./bytes.mjs";

/** Largest chunk one `data` event carries, in bytes (the ESP32 socket read size). */
export const MAX_DATA_CHUNK_BYTES = 536;

/** Bytes a response stream buffers while it has no "data" listener (Espruino's stream buffer size). */
const MAX_UNREAD_BYTES = 512;

/** Espruino's socket error codes used by the simulator. */
export const SOCKET_ERRORS = {
  NO_CONNECTION: { code: -11, message: "no connection" },
  SSL_HANDSHAKE_FAILED: { code: -13, message: "SSL handshake failed" },
  NO_RESPONSE: { code: -15, message: "no response" },
  // mbedTLS MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY (-0x7880) with mbedTLS's own description.
  // NOTE: the message text is an assumption; only the code was seen on the 2v29 interpreter.
  PEER_CLOSE_NOTIFY: { code: -30848, message: "SSL - The peer notified us that the connection is going to be closed" },
};

/** The server name indication Espruino sends in every TLS handshake, whatever the host. */
const ESPRUINO_SNI = "mbed TLS Server 1";

const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

/**
 * Creates the device's `http` module for one session.
 *
 * @param {object} session the device session (see session.mjs)
 * @returns {object} the module object with `request(options, callback)` and `get(options, callback)`
 */
export function createHttpModule(session) {
  const realm = session.realm;
  return realm.newObject({
    request(options, callback) {
      return createRequest(session, options, callback);
    },

    get(options, callback) {
      const request = createRequest(session, options, callback, "GET");
      request.end();
      return request;
    },
  });
}

function parseUrlOptions(text, realm) {
  let parsed;
  try {
    parsed = new URL(text);
  } catch {
    throw realm.newError(`http.request: ${JSON.stringify(text)} is not a valid URL`);
  }
  return {
    protocol: parsed.protocol,
    host: parsed.hostname,
    port: parsed.port === "" ? undefined : Number(parsed.port),
    path: parsed.pathname + parsed.search,
    method: "GET",
  };
}

function validateOptions(options, realm) {
  if (options === null || typeof options !== "object") {
    throw realm.newError("http.request: options must be an object with host, path, method and protocol");
  }
  if (options.protocol !== "https:") {
    throw realm.newError(
      `http.request: options.protocol is ${JSON.stringify(options.protocol)}, but the simulator only makes ` +
        'HTTPS requests; set protocol: "https:"',
    );
  }
  // Espruino prints method and path verbatim with no default, so a missing one sends the text "undefined".
  for (const field of ["host", "method", "path"]) {
    if (typeof options[field] !== "string" || options[field].length === 0) {
      throw realm.newError(
        `http.request: options.${field} is ${JSON.stringify(options[field])}; Espruino sends it verbatim and ` +
          "adds no default, so set it to a non-empty string",
      );
    }
  }
}

// Finds where a request goes, or throws what Espruino throws from `end()` when DNS or connect fails.
function resolveTarget(session, options) {
  const realm = session.realm;
  const host = options.host;
  const wifiConnected = session.wifi.isConnected();

  if (IPV4.test(host)) {
    if (!host.startsWith("127.")) {
      throw realm.newError("Unable to locate host");
    }
    if (!wifiConnected) {
      throw realm.newError("Unable to create socket");
    }
    return { address: host, port: options.port === undefined ? 443 : Number(options.port) };
  }

  const entry = Object.prototype.hasOwnProperty.call(session.device.hosts, host) ? session.device.hosts[host] : undefined;
  if (entry === undefined || !wifiConnected) {
    throw realm.newError("Unable to locate host");
  }
  return { address: entry.address, port: options.port === undefined ? entry.port : Number(options.port) };
}

function buildRequestHead(session, options) {
  const lines = [
    `${options.method} ${options.path} HTTP/1.1`,
    `User-Agent: Espruino ${session.firmwareVersion}`,
    "Connection: close",
  ];
  const headers = options.headers || {};
  let hasHost = false;
  for (const name of Object.keys(headers)) {
    lines.push(`${name}: ${String(headers[name])}`);
    if (name.toLowerCase() === "host") {
      hasHost = true;
    }
  }
  if (!hasHost) {
    const port = options.port === undefined ? undefined : Number(options.port);
    lines.push(`Host: ${options.host}${port !== undefined && port !== 80 ? ":" + port : ""}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

function createRequest(session, rawOptions, callback, forcedMethod) {
  const realm = session.realm;
  const options = typeof rawOptions === "string" ? parseUrlOptions(rawOptions, realm) : Object.assign({}, rawOptions);
  if (forcedMethod !== undefined) {
    options.method = forcedMethod;
  }
  validateOptions(options, realm);

  const request = realm.newObject();
  const requestEvents = attachEmitter(request, session.invoke, "http request");
  const state = {
    phase: "idle",
    socket: undefined,
    secure: false,
    pendingBody: "",
    record: undefined,
    response: undefined,
    responseEvents: undefined,
    deliveries: [],
    unread: "",
    pumpScheduled: false,
    responseComplete: false,
    peerClosed: false,
    errorEmitted: false,
    closeNow: false,
  };

  const emitRequestError = (error, late) => {
    state.errorEmitted = true;
    if (state.record !== undefined) {
      state.record[late ? "lateError" : "error"] = { code: error.code, message: error.message };
    }
    requestEvents.emit("error", [realm.newObject(error)]);
  };

  // Espruino removes a "data" handler that throws, and sets the CALLBACK error flag.
  const emitData = (chunk) => {
    state.responseEvents.emit("data", [chunk], {
      removeOnThrow: true,
      onRemoved: () => session.errorFlags.add("CALLBACK"),
    });
  };

  // Deliveries run one idle pass after the callback, so handlers attached in the callback see every chunk.
  const pump = () => {
    if (state.pumpScheduled) {
      return;
    }
    state.pumpScheduled = true;
    session.setHostTimer(() => {
      state.pumpScheduled = false;
      if (state.unread.length > 0 && state.responseEvents.listenerCount("data") > 0) {
        const unread = state.unread;
        state.unread = "";
        emitData(unread);
      }
      while (state.deliveries.length > 0) {
        const next = state.deliveries[0];
        // Without a "data" listener Espruino keeps up to 512 bytes in the stream buffer and leaves the rest
        // unread, so nothing after the unread data happens either.
        if (next.kind === "data" && state.responseEvents.listenerCount("data") === 0) {
          if (state.unread.length + next.chunk.length > MAX_UNREAD_BYTES) {
            return;
          }
          state.unread += next.chunk;
          state.deliveries.shift();
          continue;
        }
        state.deliveries.shift();
        next.run();
      }
    }, 0);
  };

  const closeSocket = () => {
    if (state.phase === "closed") {
      return;
    }
    state.phase = "closed";
    session.http.openConnections -= 1;
    if (state.socket !== undefined) {
      state.socket.end();
    }
  };

  const finishResponse = () => {
    state.deliveries.push({ kind: "end", run: () => state.responseEvents.emit("end", []) });
    state.deliveries.push({
      kind: "close",
      run: () => {
        closeSocket();
        state.responseEvents.emit("close", [false]);
      },
    });
    pump();
  };

  const parser = new ResponseParser({
    onHead(head) {
      const response = realm.newObject({
        statusCode: head.statusCode,
        statusMessage: head.statusMessage,
        httpVersion: head.httpVersion,
        headers: realm.toContextValue(head.headers),
      });
      state.response = response;
      state.responseEvents = attachEmitter(response, session.invoke, "http response");
      const addListener = response.on;
      response.on = function (event, listener) {
        addListener.call(response, event, listener);
        if (String(event) === "data") {
          pump();
        }
        return response;
      };
      response.addListener = response.on;
      state.record.statusCode = Number(head.statusCode);
      if (typeof callback === "function") {
        session.invoke(callback, [response], "http.request callback");
      }
    },

    onBody(bytes) {
      for (let start = 0; start < bytes.length; start += MAX_DATA_CHUNK_BYTES) {
        const chunk = bytesToBinaryString(bytes.subarray(start, start + MAX_DATA_CHUNK_BYTES));
        state.record.bodyBytes += chunk.length;
        state.deliveries.push({ kind: "data", chunk, run: () => emitData(chunk) });
      }
      pump();
    },

    onComplete() {
      state.responseComplete = true;
      finishResponse();
    },

    // A response without a valid status line ends like a connection that closed before the headers.
    onInvalid() {
      closeSocket();
    },
  });

  const connect = () => {
    if (state.phase !== "idle") {
      if (state.phase === "closed") {
        throw realm.newError("This socket is closed");
      }
      return;
    }

    const target = resolveTarget(session, options);
    if (session.http.openConnections > 0) {
      // One TLS socket needs about 32 KB of the ESP32's native heap, so a second one fails to set up.
      throw realm.newError("Unable to create socket");
    }

    state.phase = "open";
    session.http.openConnections += 1;
    state.record = {
      method: options.method,
      host: options.host,
      port: options.port,
      path: options.path,
      headerNames: Object.keys(options.headers || {}),
      startedAtDeviceMs: session.clock.nowMs(),
      startedAtHostMs: Date.now(),
      statusCode: undefined,
      bodyBytes: 0,
      error: undefined,
      lateError: undefined,
    };
    session.device.httpRequests.push(state.record);

    const socket = tls.connect({
      host: target.address,
      port: target.port,
      servername: ESPRUINO_SNI,
      rejectUnauthorized: false,
      maxVersion: "TLSv1.2",
    });
    state.socket = socket;
    session.trackSocket(socket);

    socket.on("secureConnect", () => {
      state.secure = true;
      socket.write(Buffer.from(buildRequestHead(session, options) + state.pendingBody, "latin1"));
      state.pendingBody = "";
    });
    socket.on("data", (bytes) => {
      if (state.closeNow) {
        return;
      }
      parser.push(bytes);
    });
    socket.on("end", () => {
      state.peerClosed = true;
    });
    socket.on("error", (error) => {
      if (!session.alive || state.errorEmitted) {
        return;
      }
      if (!state.secure) {
        // NOTE: the device throws a refused TCP connect from end() as "Unable to create socket". The host only
        // learns of it later, so the simulator reports it as an error event instead.
        if (error.code === "ECONNREFUSED") {
          emitRequestError(SOCKET_ERRORS.NO_CONNECTION, false);
        } else {
          session.reportUncaught(
            realm.newError(`mbedtls_ssl_handshake failed (${error.code || error.message})`),
            "TLS handshake",
          );
          emitRequestError(SOCKET_ERRORS.SSL_HANDSHAKE_FAILED, false);
        }
      }
    });
    socket.on("close", () => {
      if (!session.alive) {
        return;
      }
      if (state.phase !== "closed") {
        state.phase = "closed";
        session.http.openConnections -= 1;
      }
      if (state.closeNow || state.errorEmitted) {
        return;
      }
      if (!parser.hasHead) {
        emitRequestError(SOCKET_ERRORS.NO_RESPONSE, false);
        return;
      }
      if (!state.responseComplete) {
        // Espruino does not report a close before all Content-Length bytes arrived; the response just ends.
        state.responseComplete = true;
        finishResponse();
        return;
      }
      if (state.peerClosed) {
        state.deliveries.push({ kind: "late error", run: () => emitRequestError(SOCKET_ERRORS.PEER_CLOSE_NOTIFY, true) });
        pump();
      }
    });
  };

  const send = (text) => {
    if (state.secure) {
      state.socket.write(Buffer.from(text, "latin1"));
    } else {
      state.pendingBody += text;
    }
  };

  request.write = function (data) {
    connect();
    send(String(data));
    return true;
  };

  request.end = function (data) {
    connect();
    if (data !== undefined) {
      send(String(data));
    }
  };

  // Setting `clsNow = true` makes Espruino's next idle pass close the socket and end the response.
  // NOTE: this follows the interpreter's source; the exact events on the device were not observed.
  Object.defineProperty(request, "clsNow", {
    enumerable: true,
    configurable: true,
    get: () => state.closeNow,
    set: (value) => {
      state.closeNow = Boolean(value);
      if (!state.closeNow || state.phase !== "open") {
        return;
      }
      session.setHostTimer(() => {
        state.deliveries = [];
        if (state.socket !== undefined) {
          state.socket.destroy();
        }
        if (state.phase !== "closed") {
          state.phase = "closed";
          session.http.openConnections -= 1;
        }
        if (state.response !== undefined && !state.responseComplete) {
          state.responseComplete = true;
          state.responseEvents.emit("end", []);
          state.responseEvents.emit("close", [false]);
        }
      }, 0);
    },
  });

  return request;
}
