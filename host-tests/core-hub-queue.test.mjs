// Unit tests of the telemetry queue (firmware/core/telemetry-queue.ts): bounds, drop counting, message IDs and the
// stored form.

import assert from "node:assert/strict";
import {
  createTelemetryQueue,
  DROPPED_PROPERTY,
  enqueueReading,
  measureReadingBytes,
  removeReading,
  restoreTelemetryQueue,
  serializeTelemetryQueue,
  toTelemetryMessage,
} from "../firmware/core/telemetry-queue.ts";

function reading(sequence) {
  return JSON.stringify({ seq: sequence, uptimeSeconds: sequence * 10, freeBlocks: 4000 });
}

describe("telemetry queue", () => {
  it("gives stable ordered message IDs", () => {
    const queue = createTelemetryQueue(4096, "5f3a9c01");
    const first = enqueueReading(queue, reading(1), undefined).entry;
    const second = enqueueReading(queue, reading(2), undefined).entry;

    assert.equal(first.i, "5f3a9c01.1.1");
    assert.equal(second.i, "5f3a9c01.1.2");
    assert.deepEqual(queue.entries.map((entry) => entry.i), ["5f3a9c01.1.1", "5f3a9c01.1.2"]);
  });

  it("counts bytes as JSON length", () => {
    const queue = createTelemetryQueue(4096, "q1");
    const entry = enqueueReading(queue, reading(1), { source: "demo" }).entry;
    assert.equal(measureReadingBytes(entry), JSON.stringify(entry).length + 1);
    assert.equal(queue.bytes, measureReadingBytes(entry));
  });

  it("never exceeds the bound", () => {
    const queue = createTelemetryQueue(600, "q1");
    for (let i = 1; i <= 100; i++) {
      enqueueReading(queue, reading(i), undefined);
      assert.ok(queue.bytes <= 600, `queue holds ${queue.bytes} bytes after reading ${i}`);
      const sum = queue.entries.reduce((total, entry) => total + measureReadingBytes(entry), 0);
      assert.equal(queue.bytes, sum, "the byte count drifted from the entries");
    }
  });

  it("drops the oldest and counts them", () => {
    const queue = createTelemetryQueue(600, "q1");
    for (let i = 1; i <= 20; i++) enqueueReading(queue, reading(i), undefined);

    const kept = queue.entries.map((entry) => JSON.parse(entry.b).seq);
    assert.equal(kept[kept.length - 1], 20);
    assert.equal(queue.dropped, 20 - kept.length);
    assert.deepEqual(kept, kept.slice().sort((a, b) => a - b), "the queue is out of order");
    assert.equal(kept[0], 20 - kept.length + 1, "a reading other than the oldest was dropped");
  });

  it("reports drops in a property", () => {
    const queue = createTelemetryQueue(300, "q1");
    let last;
    for (let i = 1; i <= 10; i++) last = enqueueReading(queue, reading(i), { source: "demo" });

    assert.ok(last.droppedNow >= 1);
    assert.equal(last.entry.p[DROPPED_PROPERTY], String(queue.dropped));
    assert.equal(last.entry.p.source, "demo");
  });

  it("rejects a reading above the bound", () => {
    const queue = createTelemetryQueue(512, "q1");
    enqueueReading(queue, reading(1), undefined);

    assert.throws(() => enqueueReading(queue, "x".repeat(600), undefined), (error) => {
      assert.equal(error.code, "MESSAGE_INVALID");
      assert.match(error.message, /more than telemetry.maxQueueBytes \(512\)/);
      return true;
    });
    assert.equal(queue.entries.length, 1, "a refused reading changed the queue");
    assert.equal(queue.nextSequence, 2, "a refused reading used up a sequence number");
  });

  it("leaves out the drop count before drops", () => {
    const queue = createTelemetryQueue(4096, "q1");
    assert.equal(enqueueReading(queue, reading(1), undefined).entry.p, undefined);
    assert.deepEqual(enqueueReading(queue, reading(2), { a: "b" }).entry.p, { a: "b" });
  });

  it("rejects an invalid property", () => {
    const queue = createTelemetryQueue(4096, "q1");
    assert.throws(() => enqueueReading(queue, reading(1), { "bad name": "x" }), /property name "bad name"/);
    assert.equal(queue.entries.length, 0);
  });

  it("removes by message ID", () => {
    const queue = createTelemetryQueue(4096, "q1");
    const first = enqueueReading(queue, reading(1), undefined).entry;
    enqueueReading(queue, reading(2), undefined);

    assert.equal(removeReading(queue, first.i), true);
    assert.equal(removeReading(queue, first.i), false);
    assert.equal(queue.entries.length, 1);
    assert.equal(queue.bytes, measureReadingBytes(queue.entries[0]));
  });

  it("turns an entry into a JSON message", () => {
    const queue = createTelemetryQueue(4096, "q1");
    const entry = enqueueReading(queue, reading(1), { source: "demo" }).entry;
    assert.deepEqual(toTelemetryMessage(entry), {
      body: reading(1),
      messageId: "q1.1.1",
      contentType: "application/json",
      contentEncoding: "utf-8",
      properties: { source: "demo" },
    });
  });
});

describe("telemetry queue storage", () => {
  it("restores entries and counts the boot", () => {
    const queue = createTelemetryQueue(4096, "5f3a9c01");
    enqueueReading(queue, reading(1), undefined);
    enqueueReading(queue, reading(2), undefined);
    queue.dropped = 3;

    const stored = JSON.parse(JSON.stringify(serializeTelemetryQueue(queue)));
    const restored = restoreTelemetryQueue(stored, 4096, "ffffffff");

    assert.equal(restored.problem, undefined);
    assert.equal(restored.queue.queueId, "5f3a9c01");
    assert.equal(restored.queue.boot, 2);
    assert.equal(restored.queue.dropped, 3);
    assert.deepEqual(restored.queue.entries.map((entry) => entry.i), ["5f3a9c01.1.1", "5f3a9c01.1.2"]);
    assert.equal(restored.queue.bytes, queue.bytes);
  });

  it("gives new IDs after a reboot", () => {
    const queue = createTelemetryQueue(4096, "q1");
    enqueueReading(queue, reading(1), undefined);
    const restored = restoreTelemetryQueue(serializeTelemetryQueue(queue), 4096, "q2").queue;

    assert.equal(enqueueReading(restored, reading(2), undefined).entry.i, "q1.2.1");
  });

  it("starts fresh without a file", () => {
    const restored = restoreTelemetryQueue(undefined, 4096, "abcd0123");
    assert.equal(restored.problem, undefined);
    assert.equal(restored.queue.queueId, "abcd0123");
    assert.equal(restored.queue.boot, 1);
  });

  const unreadable = [
    ["a string", "queue"],
    ["another format", { v: 2, id: "q1", boot: 1, dropped: 0, q: [] }],
    ["no entry list", { v: 1, id: "q1", boot: 1, dropped: 0 }],
    ["no queue ID", { v: 1, boot: 1, dropped: 0, q: [] }],
  ];
  for (const [name, stored] of unreadable) {
    it(`starts fresh from ${name}`, () => {
      const restored = restoreTelemetryQueue(stored, 4096, "abcd0123");
      assert.match(restored.problem, /unreadable or of another format/);
      assert.equal(restored.queue.queueId, "abcd0123");
      assert.equal(restored.queue.entries.length, 0);
    });
  }

  it("skips unreadable entries", () => {
    const stored = { v: 1, id: "q1", boot: 1, dropped: 0, q: [{ i: "q1.1.1", b: "{}" }, { i: 5 }, null] };
    const restored = restoreTelemetryQueue(stored, 4096, "q2");
    assert.match(restored.problem, /2 unreadable stored readings were skipped/);
    assert.equal(restored.queue.entries.length, 1);
  });

  it("cuts a stored queue to a smaller bound", () => {
    const queue = createTelemetryQueue(8192, "q1");
    for (let i = 1; i <= 40; i++) enqueueReading(queue, reading(i), undefined);

    const restored = restoreTelemetryQueue(serializeTelemetryQueue(queue), 1024, "q2");
    assert.ok(restored.queue.bytes <= 1024);
    assert.equal(restored.queue.dropped, 40 - restored.queue.entries.length);
    assert.match(restored.problem, /dropped because they exceed telemetry.maxQueueBytes \(1024\)/);
    assert.equal(JSON.parse(restored.queue.entries[restored.queue.entries.length - 1].b).seq, 40);
  });
});
