// Incremental parser of an HTTP/1.1 response as Espruino's socket server reads it. Header names keep the case the
// server sent, and `Content-Length` and chunked bodies are framed. A body with neither framing is cut off after the
// bytes that arrived together with the headers, because Espruino closes the socket after at most one more read.

const HEADER_END = Buffer.from("\r\n\r\n", "latin1");

/** Incremental HTTP/1.1 response parser. */
export class ResponseParser {
  /**
   * @param {{onHead: (head: {httpVersion: string, statusCode: string, statusMessage: string,
   *   headers: {[name: string]: string}}) => void, onBody: (bytes: Buffer) => void, onComplete: () => void,
   *   onInvalid: (message: string) => void}} handlers called as parts of the response become known
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.buffer = Buffer.alloc(0);
    this.phase = "head";
    this.remainingBytes = 0;
  }

  /**
   * Feeds bytes received from the socket.
   *
   * @param {Buffer} bytes the received bytes
   * @returns {void}
   */
  push(bytes) {
    if (this.phase === "done") {
      return;
    }
    this.buffer = Buffer.concat([this.buffer, bytes]);

    if (this.phase === "head") {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) {
        return;
      }
      const head = this.buffer.subarray(0, end).toString("latin1");
      this.buffer = this.buffer.subarray(end + HEADER_END.length);
      if (!this.parseHead(head)) {
        return;
      }
    }

    this.readBody();
  }

  /** True once the headers have been parsed. */
  get hasHead() {
    return this.phase !== "head";
  }

  /** True once the body is complete. */
  get isComplete() {
    return this.phase === "done";
  }

  parseHead(head) {
    const lines = head.split("\r\n");
    const statusMatch = /^HTTP\/([0-9.]+) ([0-9]+) ?(.*)$/.exec(lines[0]);
    if (statusMatch === null) {
      this.phase = "done";
      this.handlers.onInvalid(`invalid status line ${JSON.stringify(lines[0].slice(0, 80))}`);
      return false;
    }

    const headers = {};
    let contentLength;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) {
        continue;
      }
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^[ \t]+/, "");
      headers[name] = value;
      if (name.toLowerCase() === "content-length") {
        contentLength = parseInt(value, 10);
      }
      if (name.toLowerCase() === "transfer-encoding" && value.toLowerCase().includes("chunked")) {
        chunked = true;
      }
    }

    if (chunked) {
      this.phase = "chunk-size";
    } else if (contentLength !== undefined && contentLength >= 0) {
      this.phase = "length";
      this.remainingBytes = contentLength;
    } else {
      this.phase = "unframed";
    }

    this.handlers.onHead({
      httpVersion: statusMatch[1],
      statusCode: statusMatch[2],
      statusMessage: statusMatch[3],
      headers,
    });
    return true;
  }

  readBody() {
    for (;;) {
      if (this.phase === "length") {
        const take = Math.min(this.remainingBytes, this.buffer.length);
        if (take > 0) {
          this.handlers.onBody(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          this.remainingBytes -= take;
        }
        if (this.remainingBytes === 0) {
          this.finish();
        }
        return;
      }

      if (this.phase === "unframed") {
        if (this.buffer.length > 0) {
          this.handlers.onBody(this.buffer);
        }
        this.finish();
        return;
      }

      if (this.phase === "chunk-size") {
        const lineEnd = this.buffer.indexOf("\r\n");
        if (lineEnd < 0) {
          return;
        }
        const size = parseInt(this.buffer.subarray(0, lineEnd).toString("latin1"), 16);
        this.buffer = this.buffer.subarray(lineEnd + 2);
        if (!(size > 0)) {
          // A 0-size chunk ends the body; trailers are ignored.
          this.finish();
          return;
        }
        this.remainingBytes = size;
        this.phase = "chunk-data";
      }

      if (this.phase === "chunk-data") {
        const take = Math.min(this.remainingBytes, this.buffer.length);
        if (take > 0) {
          this.handlers.onBody(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          this.remainingBytes -= take;
        }
        if (this.remainingBytes > 0 || this.buffer.length < 2) {
          return;
        }
        this.buffer = this.buffer.subarray(2);
        this.phase = "chunk-size";
        continue;
      }

      return;
    }
  }

  finish() {
    this.phase = "done";
    this.buffer = Buffer.alloc(0);
    this.handlers.onComplete();
  }
}
