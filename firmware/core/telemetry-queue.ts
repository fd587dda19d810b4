// The telemetry queue: readings wait here, oldest first, until the hub has returned 204 for them. No I/O.
//
// The queue is bounded in bytes (its JSON size, the same on flash and close to its size in RAM). When a new reading
// does not fit, the oldest readings are dropped and counted. Every reading gets a message ID when it is queued and
// keeps it across resends and reboots, so the receiver can tell a resend from a new reading. The ID is
// "{queueId}.{boot}.{sequence}": a random queue ID made when the queue file is first created, the boot count kept in
// that file, and a sequence number that restarts at every boot. So IDs stay unique without a flash write per reading.

import { createError, DeviceError } from "./errors";
import { findMessageProblem, MESSAGE_INVALID, TelemetryMessage } from "./hub";

/** Version of the stored queue format. */
export const TELEMETRY_QUEUE_FORMAT = 1;

/** Default bound of the queue, in bytes of JSON. */
export const DEFAULT_MAX_QUEUE_BYTES = 8192;

/** Application property that carries the number of readings dropped so far, when there are any. */
export const DROPPED_PROPERTY = "queue-dropped";

/** One queued reading. Short field names, because each one is stored for every reading on flash and in RAM. */
export interface QueuedReading {
  /** Message ID. */
  i: string;
  /** Body: JSON text. */
  b: string;
  /** Application properties, or `undefined`. */
  p: { [name: string]: string } | undefined;
}

/** The queue and the counters that go with it. */
export interface TelemetryQueue {
  /** Oldest first. */
  entries: QueuedReading[];
  /** Sum of `measureReadingBytes` over the entries. */
  bytes: number;
  maxBytes: number;
  /** Readings dropped because the queue was full, since the queue file was created. */
  dropped: number;
  /** Random ID of this queue file, letters and digits. */
  queueId: string;
  /** Boots since the queue file was created, counting this one. */
  boot: number;
  /** Sequence number of the next reading of this boot. */
  nextSequence: number;
}

/** Result of `restoreTelemetryQueue`. */
export interface RestoredQueue {
  queue: TelemetryQueue;
  /** The reason the stored queue was not used or was cut, or `undefined` when it was used whole. */
  problem: string | undefined;
}

/** Result of `enqueueReading`. */
export interface EnqueueResult {
  entry: QueuedReading;
  /** How many of the oldest readings this call dropped to make room. */
  droppedNow: number;
}

/**
 * Measures what one reading costs in the queue bound.
 *
 * @param entry A queued reading.
 * @returns Its JSON length plus one for the separating comma, in bytes (strings are byte strings on Espruino).
 */
export function measureReadingBytes(entry: QueuedReading): number {
  return JSON.stringify(entry).length + 1;
}

/**
 * Creates an empty queue for a new queue file.
 *
 * @param maxBytes The bound, in bytes.
 * @param queueId A random ID of letters and digits, e.g. 8 hex digits.
 * @returns A queue at boot 1.
 */
export function createTelemetryQueue(maxBytes: number, queueId: string): TelemetryQueue {
  return { entries: [], bytes: 0, maxBytes: maxBytes, dropped: 0, queueId: queueId, boot: 1, nextSequence: 1 };
}

function isQueuedReading(value: any): boolean {
  if (value === null || typeof value !== "object") return false;
  if (typeof value.i !== "string" || typeof value.b !== "string") return false;
  return value.p === undefined || (value.p !== null && typeof value.p === "object");
}

function dropOldest(queue: TelemetryQueue): void {
  const oldest = queue.entries.shift();
  if (oldest === undefined) return;
  queue.bytes -= measureReadingBytes(oldest);
  queue.dropped++;
}

/**
 * Rebuilds the queue from its stored form at boot and counts this boot.
 *
 * @param stored The parsed queue file, or `undefined` when there is none.
 * @param maxBytes The bound from the configuration, in bytes; older readings beyond it are dropped and counted.
 * @param newQueueId The queue ID to use when the stored queue cannot be used.
 * @returns The queue, and why the stored one was not used or was cut.
 */
export function restoreTelemetryQueue(stored: any, maxBytes: number, newQueueId: string): RestoredQueue {
  if (stored === undefined || stored === null) {
    return { queue: createTelemetryQueue(maxBytes, newQueueId), problem: undefined };
  }

  const valid = typeof stored === "object" && stored.v === TELEMETRY_QUEUE_FORMAT && typeof stored.id === "string" &&
    stored.id.length > 0 && typeof stored.boot === "number" && stored.boot >= 1 && typeof stored.dropped === "number" &&
    stored.q instanceof Array;
  if (!valid) {
    return {
      queue: createTelemetryQueue(maxBytes, newQueueId),
      problem: "the stored telemetry queue is unreadable or of another format, so it was started again empty",
    };
  }

  const queue = createTelemetryQueue(maxBytes, stored.id);
  queue.boot = Math.floor(stored.boot) + 1;
  queue.dropped = Math.floor(stored.dropped);

  let skipped = 0;
  for (let i = 0; i < stored.q.length; i++) {
    const entry = stored.q[i];
    if (!isQueuedReading(entry)) {
      skipped++;
      continue;
    }
    queue.entries.push({ i: entry.i, b: entry.b, p: entry.p });
    queue.bytes += measureReadingBytes(entry);
  }

  const droppedBefore = queue.dropped;
  while (queue.bytes > maxBytes && queue.entries.length > 0) dropOldest(queue);

  let problem: string | undefined = undefined;
  if (skipped > 0) problem = skipped + " unreadable stored readings were skipped";
  if (queue.dropped > droppedBefore) {
    problem = (problem !== undefined ? problem + "; " : "") + (queue.dropped - droppedBefore) +
      " stored readings were dropped because they exceed telemetry.maxQueueBytes (" + maxBytes + ")";
  }
  return { queue: queue, problem: problem };
}

/**
 * Adds a reading at the end of the queue, dropping the oldest readings when it does not fit.
 *
 * @param queue The queue (changed in place).
 * @param body The reading as JSON text.
 * @param properties Application properties, or `undefined`. When readings have been dropped, including those this
 *   call drops, their total is added as `queue-dropped`.
 * @returns The queued entry with its new message ID, and how many readings were dropped for it.
 * @throws DeviceError `MESSAGE_INVALID` when a property breaks the HTTPS rules or the reading alone is larger than the
 *   bound; the queue is then unchanged.
 */
export function enqueueReading(queue: TelemetryQueue, body: string,
  properties: { [name: string]: string } | undefined): EnqueueResult {
  const messageId = queue.queueId + "." + queue.boot + "." + queue.nextSequence;

  // The size check uses the largest drop count this call can reach, so a reading that cannot fit is refused before
  // anything is dropped.
  const largest = createEntry(messageId, body, properties, queue.dropped + queue.entries.length);
  const problem = findMessageProblem(toTelemetryMessage(largest));
  if (problem !== undefined) throw problem;
  if (measureReadingBytes(largest) > queue.maxBytes) {
    throw createError(MESSAGE_INVALID, "The reading takes " + measureReadingBytes(largest) + " bytes in the queue, " +
      "more than telemetry.maxQueueBytes (" + queue.maxBytes + "). Send less data or raise the bound", { field: "body" });
  }

  let droppedNow = 0;
  let entry = createEntry(messageId, body, properties, queue.dropped);
  while (queue.bytes + measureReadingBytes(entry) > queue.maxBytes && queue.entries.length > 0) {
    dropOldest(queue);
    droppedNow++;
    entry = createEntry(messageId, body, properties, queue.dropped);
  }

  queue.entries.push(entry);
  queue.bytes += measureReadingBytes(entry);
  queue.nextSequence++;
  return { entry: entry, droppedNow: droppedNow };
}

function createEntry(messageId: string, body: string, properties: { [name: string]: string } | undefined,
  droppedCount: number): QueuedReading {
  if (properties === undefined && droppedCount === 0) return { i: messageId, b: body, p: undefined };

  const entryProperties: { [name: string]: string } = Object.assign({}, properties !== undefined ? properties : {});
  if (droppedCount > 0) entryProperties[DROPPED_PROPERTY] = String(droppedCount);
  return { i: messageId, b: body, p: entryProperties };
}

/**
 * Removes a reading after the hub accepted it.
 *
 * @param queue The queue (changed in place).
 * @param messageId The accepted reading's message ID.
 * @returns `true` when the reading was still queued; `false` when it had been dropped meanwhile.
 */
export function removeReading(queue: TelemetryQueue, messageId: string): boolean {
  for (let i = 0; i < queue.entries.length; i++) {
    if (queue.entries[i].i === messageId) {
      queue.bytes -= measureReadingBytes(queue.entries[i]);
      queue.entries.splice(i, 1);
      return true;
    }
  }
  return false;
}

/**
 * Builds the stored form of the queue.
 *
 * @param queue The queue.
 * @returns A plain object for `Storage.writeJSON`, read back by `restoreTelemetryQueue`.
 */
export function serializeTelemetryQueue(queue: TelemetryQueue): any {
  return { v: TELEMETRY_QUEUE_FORMAT, id: queue.queueId, boot: queue.boot, dropped: queue.dropped, q: queue.entries };
}

/**
 * Turns a queued reading into the message that is sent.
 *
 * @param entry A queued reading.
 * @returns A JSON message in UTF-8 with the reading's message ID and properties.
 */
export function toTelemetryMessage(entry: QueuedReading): TelemetryMessage {
  return { body: entry.b, messageId: entry.i, contentType: "application/json", contentEncoding: "utf-8", properties: entry.p };
}

/**
 * Checks a queue-level problem value for a message (re-exported type guard for callers that only import the queue).
 *
 * @param error Any thrown value.
 * @returns `true` when it is a `MESSAGE_INVALID` error.
 */
export function isMessageInvalidError(error: any): error is DeviceError {
  return error !== null && typeof error === "object" && error.code === MESSAGE_INVALID;
}
