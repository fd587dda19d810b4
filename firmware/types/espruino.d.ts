// Ambient declarations of the Espruino 2v29 (ESP32 build) APIs that the firmware uses.
//
// The compiler's standard library is ES5 plus Promise only, so every later built-in the firmware calls must be
// declared here, and only those that the interpreter really has. A missing API is then a type error instead of a
// crash on the board. Signatures follow the Espruino reference for 2v29.

/** Anything the interpreter reads byte by byte: a binary string, an array of byte values or a typed array. */
type BinaryLike = string | ArrayBuffer | ArrayBufferView | number[];

interface EspruinoCrypto {
  /** Hashes the bytes of `data` and returns the 32-byte digest. */
  SHA256(data: BinaryLike): ArrayBuffer;
}

/** A response of `require("http").request`. */
interface EspruinoHttpResponse {
  /** The status code as the server sent it, as a string such as "202". */
  statusCode: string;
  statusMessage: string;
  /** Header names keep the case the server sent. Never iterate over them: look up the names you need. */
  headers: { [name: string]: string };
  on(event: "data", listener: (chunk: string) => void): void;
  on(event: "end" | "close", listener: (hadError?: boolean) => void): void;
}

/** A request of `require("http").request`; nothing is sent until `write` or `end`. */
interface EspruinoHttpRequest {
  write(data: string): boolean;
  /** Sends the request. DNS and connect failures are thrown synchronously from here. */
  end(data?: string): void;
  on(event: "error", listener: (error: { code: number; message: string }) => void): void;
  /** Undocumented flag that makes the next idle pass close the socket. */
  clsNow?: boolean;
}

interface EspruinoHttpOptions {
  host: string;
  path: string;
  method: string;
  protocol?: "https:" | "http:";
  port?: number;
  headers?: { [name: string]: string | number };
}

interface EspruinoHttp {
  request(options: EspruinoHttpOptions, callback: (response: EspruinoHttpResponse) => void): EspruinoHttpRequest;
}

interface EspruinoWifiDisconnectDetails {
  ssid: string;
  mac: string;
  reason: string;
  msg: string;
}

interface EspruinoWifi {
  /** 2v29 calls `callback` only on success; later versions call it with a reason string after their own retries. */
  connect(ssid: string, options: { password?: string }, callback?: (error: string | null) => void): void;
  disconnect(callback?: () => void): void;
  save(what?: "clear"): void;
  setHostname(hostname: string, callback?: () => void): void;
  on(event: "connected", listener: (details: { ip: string; netmask: string; gw: string }) => void): void;
  on(event: "disconnected", listener: (details: EspruinoWifiDisconnectDetails) => void): void;
  getIP(): { ip?: string; netmask?: string; gw?: string; mac: string };
  getDetails(): { status?: string; ssid?: string };
}

interface EspruinoStorage {
  /** Returns a memory-mapped string, or `undefined` when the file does not exist. */
  read(name: string, offset?: number, length?: number): string | undefined;
  readJSON(name: string, noExceptions?: boolean): any;
  write(name: string, data: BinaryLike, offset?: number, size?: number): boolean;
  writeJSON(name: string, data: any): boolean;
  erase(name: string): void;
  list(pattern?: RegExp): string[];
  getFree(): number;
}

interface EspruinoTelnetServer {
  setOptions(options: { mode: "on" | "off" }): void;
}

declare function require(module: "crypto"): EspruinoCrypto;
declare function require(module: "http"): EspruinoHttp;
declare function require(module: "Wifi"): EspruinoWifi;
declare function require(module: "Storage"): EspruinoStorage;
declare function require(module: "TelnetServer"): EspruinoTelnetServer;

declare const E: {
  /** Joins the arguments into one binary string, one character per byte. */
  toString(...data: any[]): string;
  toUint8Array(...data: any[]): Uint8Array;
  srand(seed: number): void;
  /** Returns a 32-bit random number from the hardware's noise source. */
  hwRand(): number;
  getErrorFlags(): string[];
  on(event: "init" | "kill", listener: () => void): void;
  setFlags(flags: { [name: string]: boolean | number }): void;
};

declare const ESP32: {
  getState(): { sdkVersion: string; freeHeap: number; BLE: boolean; Wifi: boolean; minHeap: number };
  reboot(): void;
};

declare const process: {
  memory(runGarbageCollector?: boolean): { free: number; usage: number; total: number; blocksize: number };
  env: { VERSION: string; BOARD: string; MODULES?: string };
  on(event: "uncaughtException", listener: (error: any) => void): void;
};

declare const console: { log(...values: any[]): void };
declare function print(...values: any[]): void;

/** Sets the clock, in seconds since 1970-01-01T00:00:00Z. Pending timers keep their relative delays. */
declare function setTime(epochSeconds: number): void;
/** Returns the clock in seconds since 1970-01-01T00:00:00Z, as a float. */
declare function getTime(): number;

declare function btoa(data: BinaryLike): string;
declare function atob(base64: string): string;
declare function encodeURIComponent(value: string): string;

declare function setTimeout(callback: () => void, delayMs: number): number;
declare function clearTimeout(id: number): void;
declare function setInterval(callback: () => void, intervalMs: number): number;
declare function clearInterval(id: number): void;

/** The ES2015+ members that Espruino 2v29 has, declared because the compiler's library is ES5 only. */
interface ObjectConstructor {
  assign(target: any, ...sources: any[]): any;
  keys(value: object): string[];
}

interface Array<T> {
  find(predicate: (value: T, index: number) => boolean): T | undefined;
  findIndex(predicate: (value: T, index: number) => boolean): number;
  includes(value: T): boolean;
  fill(value: T, start?: number, end?: number): this;
}

interface String {
  startsWith(search: string): boolean;
  endsWith(search: string): boolean;
  includes(search: string): boolean;
  repeat(count: number): string;
  padStart(length: number, fill?: string): string;
}

/** Build time of the firmware in seconds since 1970, set by the build script; the clock is never trusted below it. */
declare const BUILD_EPOCH_SECONDS: number;

/** A GPIO pin object, e.g. `D2`. */
interface EspruinoPin {}
declare const D0: EspruinoPin;
declare const D2: EspruinoPin;
declare function digitalRead(pin: EspruinoPin): number;
declare function digitalWrite(pin: EspruinoPin, value: boolean | number): void;
declare function pinMode(pin: EspruinoPin, mode: "input" | "input_pullup" | "output"): void;
