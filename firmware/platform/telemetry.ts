// The telemetry queue on flash, and the demo reading taken on a timer.
//
// Flash writes are kept modest: the queue file is written once per boot (the boot count), then at most once per
// `telemetry.flushDelaySeconds` with the readings that have waited that long, and in full when the interpreter stops
// (`E.on("kill")`). A reading that is taken and accepted by the hub within the delay never reaches flash.
// NOTE: after a power cut, readings queued within the last 2 x `flushDelaySeconds` may be lost, because they were in
// RAM only.

import { DeviceConfig } from "../core/config";
import { describeError } from "../core/errors";
import {
  enqueueReading,
  QueuedReading,
  removeReading,
  restoreTelemetryQueue,
  serializeTelemetryQueue,
  TelemetryQueue,
} from "../core/telemetry-queue";
import { monotonicMs } from "./clock";
import { logDebug, logError, logInfo, logWarn } from "./log";

const Storage = require("Storage");

/** Name of the Storage file that contains the unsent readings. */
export const QUEUE_FILE_NAME = "hubqueue.json";

/** Queue counters shown at the REPL. */
export interface TelemetryStatus {
  queuedReadings: number;
  queuedBytes: number;
  maxQueueBytes: number;
  /** Readings dropped because the queue was full, since the queue file was created. */
  droppedReadings: number;
  /** Readings the hub accepted since boot. */
  acceptedReadings: number;
  /** Writes of the queue file since boot. */
  queueFileWrites: number;
}

interface TelemetryState {
  queue: TelemetryQueue;
  flushDelayMs: number;
  flushTimer: number | undefined;
  readingTimer: number | undefined;
  /** Summary of what is on flash, to skip writes that would change nothing. */
  storedSummary: string;
  /** When each reading of this boot was queued, by message ID, in ms of `monotonicMs`. */
  queuedAtMs: { [messageId: string]: number };
  startedAtMs: number;
  demoSequence: number;
  acceptedReadings: number;
  queueFileWrites: number;
  onQueued: () => void;
}

let state: TelemetryState | undefined = undefined;

/** Builds a random queue ID of 8 hex digits from the interpreter's random sources and the clock. */
function createQueueId(): string {
  // NOTE: Espruino on ESP32 may seed Math.random and E.hwRand the same way at every boot, so the clock's sub-second
  // digits are mixed in as well. The boot count in the ID keeps IDs apart as long as the queue file survives.
  const mixed = (Math.floor(Math.random() * 4294967296) ^ E.hwRand() ^ Math.floor((getTime() % 1000) * 4294967)) >>> 0;
  return ("0000000" + mixed.toString(16)).slice(-8);
}

function summarize(queue: TelemetryQueue, entries: QueuedReading[]): string {
  const first = entries.length > 0 ? entries[0].i : "";
  const last = entries.length > 0 ? entries[entries.length - 1].i : "";
  return queue.queueId + "/" + queue.boot + "/" + queue.dropped + "/" + entries.length + "/" + first + "/" + last;
}

/** Writes the queue file with the given readings (oldest first) when that changes what is on flash. */
function writeQueue(current: TelemetryState, entries: QueuedReading[]): void {
  const summary = summarize(current.queue, entries);
  if (summary === current.storedSummary) return;

  try {
    Storage.writeJSON(QUEUE_FILE_NAME, serializeTelemetryQueue(Object.assign({}, current.queue, { entries: entries })));
    current.storedSummary = summary;
    current.queueFileWrites++;
    logDebug("telemetry", "queue written to flash: " + entries.length + " of " + current.queue.entries.length +
      " readings");
  } catch (e) {
    logError("telemetry", "writing " + QUEUE_FILE_NAME + " failed: " + (e as Error).message +
      "; unsent readings may be lost at the next reboot. Check free Storage with require(\"Storage\").getFree()");
  }
}

/** Writes the whole queue file now when its content changed since the last write, e.g. before the interpreter stops. */
export function flushTelemetryQueue(): void {
  const current = state;
  if (current === undefined) return;
  if (current.flushTimer !== undefined) clearTimeout(current.flushTimer);
  current.flushTimer = undefined;
  writeQueue(current, current.queue.entries);
}

/**
 * Writes the readings that have waited at least the flush delay, and plans the next flush for the younger ones. A
 * reading queued moments ago is most likely sent before the delay ends, so writing it would wear flash for nothing.
 */
function flushWaitingReadings(current: TelemetryState): void {
  current.flushTimer = undefined;
  const nowMs = monotonicMs();
  const waiting: QueuedReading[] = [];
  const queuedAtMs: { [messageId: string]: number } = {};
  let nextFlushInMs: number | undefined = undefined;

  for (let i = 0; i < current.queue.entries.length; i++) {
    const entry = current.queue.entries[i];
    const queuedAt = current.queuedAtMs[entry.i];
    // Readings restored from flash have no time and count as waiting; a margin of 50 ms absorbs timer jitter.
    if (queuedAt === undefined || nowMs - queuedAt >= current.flushDelayMs - 50) {
      waiting.push(entry);
      continue;
    }
    queuedAtMs[entry.i] = queuedAt;
    const dueInMs = queuedAt + current.flushDelayMs - nowMs;
    if (nextFlushInMs === undefined || dueInMs < nextFlushInMs) nextFlushInMs = dueInMs;
  }
  current.queuedAtMs = queuedAtMs;

  writeQueue(current, waiting);
  // The next flush waits at least the full delay, so the file is written at most once per delay.
  if (nextFlushInMs !== undefined) {
    current.flushTimer = setTimeout(() => flushWaitingReadings(current),
      nextFlushInMs > current.flushDelayMs ? nextFlushInMs : current.flushDelayMs);
  }
}

function scheduleFlush(current: TelemetryState): void {
  if (current.flushTimer !== undefined) return;
  if (current.flushDelayMs === 0) {
    flushTelemetryQueue();
    return;
  }
  current.flushTimer = setTimeout(() => flushWaitingReadings(current), current.flushDelayMs);
}

function takeDemoReading(current: TelemetryState): void {
  try {
    const reading = {
      seq: current.demoSequence,
      uptimeSeconds: Math.round((monotonicMs() - current.startedAtMs) / 100) / 10,
      freeBlocks: process.memory(false).free,
    };
    current.demoSequence++;
    queueReading(JSON.stringify(reading), { source: "demo" });
  } catch (e) {
    logError("telemetry", "demo reading failed: " + describeError(e));
  }
}

/**
 * Restores the queue from flash, counts this boot and starts the demo reading timer.
 *
 * @param config The validated configuration (`telemetry` section).
 * @param onQueued Called after every queued reading, so the hub client can send it.
 */
export function startTelemetry(config: DeviceConfig, onQueued: () => void): void {
  const restored = restoreTelemetryQueue(Storage.readJSON(QUEUE_FILE_NAME, true), config.telemetry.maxQueueBytes,
    createQueueId());
  if (restored.problem !== undefined) logWarn("telemetry", restored.problem);

  const current: TelemetryState = {
    queue: restored.queue,
    flushDelayMs: config.telemetry.flushDelaySeconds * 1000,
    flushTimer: undefined,
    readingTimer: undefined,
    storedSummary: "",
    queuedAtMs: {},
    startedAtMs: monotonicMs(),
    demoSequence: 1,
    acceptedReadings: 0,
    queueFileWrites: 0,
    onQueued: onQueued,
  };
  state = current;

  logInfo("telemetry", "queue " + current.queue.queueId + " boot " + current.queue.boot + ": " +
    current.queue.entries.length + " unsent readings (" + current.queue.bytes + " of " + current.queue.maxBytes +
    " bytes), " + current.queue.dropped + " dropped so far");
  // The boot count is part of every new message ID, so it reaches flash before the first reading is sent.
  flushTelemetryQueue();

  E.on("kill", () => {
    try {
      flushTelemetryQueue();
    } catch (e) {
      logError("telemetry", "flush at shutdown failed: " + (e as Error).message);
    }
  });

  if (config.telemetry.demoReadings) {
    current.readingTimer = setInterval(() => takeDemoReading(current), config.telemetry.intervalSeconds * 1000);
  }
}

/**
 * Queues a reading for the hub.
 *
 * @param body The reading as JSON text.
 * @param properties Application properties, or `undefined`.
 * @returns The queued entry with its message ID.
 * @throws DeviceError `MESSAGE_INVALID` for a property the hub does not accept over HTTPS or a reading larger than
 *   the queue bound; Error when telemetry has not started (the configuration is invalid).
 */
export function queueReading(body: string, properties: { [name: string]: string } | undefined): QueuedReading {
  const current = state;
  if (current === undefined) throw new Error("Telemetry is not running because the configuration is invalid; see dps.status()");

  const result = enqueueReading(current.queue, body, properties);
  current.queuedAtMs[result.entry.i] = monotonicMs();
  if (result.droppedNow > 0) {
    logWarn("telemetry", "queue full: dropped the " + result.droppedNow + " oldest readings (" + current.queue.dropped +
      " dropped in total)");
  }
  logInfo("telemetry", "queued reading " + result.entry.i + " (" + current.queue.entries.length + " waiting)");

  scheduleFlush(current);
  current.onQueued();
  return result.entry;
}

/** Returns the oldest unsent reading, or `undefined` when the queue is empty. */
export function peekReading(): QueuedReading | undefined {
  return state !== undefined ? state.queue.entries[0] : undefined;
}

/**
 * Removes a reading that the hub accepted.
 *
 * @param messageId The reading's message ID.
 */
export function acknowledgeReading(messageId: string): void {
  const current = state;
  if (current === undefined) return;
  if (removeReading(current.queue, messageId)) current.acceptedReadings++;
  scheduleFlush(current);
}

/**
 * Removes a reading that the hub will never accept (for example HTTP 400), so that it does not block the queue.
 *
 * @param messageId The reading's message ID.
 */
export function discardReading(messageId: string): void {
  const current = state;
  if (current === undefined) return;
  removeReading(current.queue, messageId);
  scheduleFlush(current);
}

/** Returns the queue counters for the REPL, or `undefined` when telemetry has not started. */
export function getTelemetryStatus(): TelemetryStatus | undefined {
  const current = state;
  if (current === undefined) return undefined;
  return {
    queuedReadings: current.queue.entries.length,
    queuedBytes: current.queue.bytes,
    maxQueueBytes: current.queue.maxBytes,
    droppedReadings: current.queue.dropped,
    acceptedReadings: current.acceptedReadings,
    queueFileWrites: current.queueFileWrites,
  };
}
