// Cloud-to-device (C2D) queues of the emulator's IoT Hub, one per device, with lock tokens as IoT Hub keeps them.
//
// A received message is locked for the device and invisible to other receives until the lock expires. Complete,
// reject and abandon need the lock token (the ETag); after the lock expired they fail with 412002 and the message
// becomes receivable again. A message delivered more than `MAX_DELIVERY_COUNT` times is dead-lettered.

import { randomUUID } from 'node:crypto';

/** Maximum deliveries of one message before IoT Hub dead-letters it (the default maxDeliveryCount). */
export const MAX_DELIVERY_COUNT = 10;

/** Maximum number of messages queued for one device (IoT Hub's per-device limit). */
export const MAX_QUEUED_MESSAGES = 50;

/**
 * Creates the C2D queues.
 *
 * @param {{ monotonicMs: () => number, getLockDurationMs: () => number }} context Clock for locks, in ms, and the
 *   current lock duration, in ms.
 * @returns {object} `enqueue`, `receive`, `settle` and `list`, documented below.
 */
export function createCloudToDeviceQueues(context) {
  const queues = new Map();

  const queueOf = (deviceId) => {
    if (!queues.has(deviceId)) {
      queues.set(deviceId, []);
    }
    return queues.get(deviceId);
  };

  const isLocked = (message) => message.state === 'locked' && context.monotonicMs() < message.lockExpiresAtMs;

  /**
   * Queues a message for a device.
   *
   * @param {string} deviceId Target device.
   * @param {{ body: string, messageId?: string, correlationId?: string, properties?: Record<string, string> }} input
   * @returns {string} The message ID (a new UUID when none was given).
   * @throws {TypeError} When the body is not a string or the device already has `MAX_QUEUED_MESSAGES` pending.
   */
  function enqueue(deviceId, input) {
    if (typeof deviceId !== 'string' || deviceId.length === 0) {
      throw new TypeError('Invalid C2D target: give the device ID as a non-empty string');
    }
    if (input === null || typeof input !== 'object' || typeof input.body !== 'string') {
      throw new TypeError('Invalid C2D message: give { body: "text" } with optional messageId, correlationId and properties');
    }
    const pending = queueOf(deviceId).filter((message) => message.state === 'queued' || message.state === 'locked');
    if (pending.length >= MAX_QUEUED_MESSAGES) {
      throw new TypeError(`Device "${deviceId}" already has ${MAX_QUEUED_MESSAGES} C2D messages pending, the IoT Hub limit; wait until it receives them`);
    }

    const message = {
      messageId: input.messageId ?? randomUUID(),
      correlationId: input.correlationId,
      body: input.body,
      properties: { ...(input.properties ?? {}) },
      state: 'queued',
      deliveryCount: 0,
      lockToken: undefined,
      lockExpiresAtMs: 0,
    };
    queueOf(deviceId).push(message);
    return message.messageId;
  }

  /**
   * Locks and returns the oldest receivable message of a device.
   *
   * @param {string} deviceId Device that polls.
   * @returns {object | undefined} `{ messageId, correlationId, body, properties, lockToken, deliveryCount }`, or
   *   undefined when nothing is receivable.
   */
  function receive(deviceId) {
    for (const message of queueOf(deviceId)) {
      const receivable = message.state === 'queued' || (message.state === 'locked' && !isLocked(message));
      if (!receivable) {
        continue;
      }
      if (message.deliveryCount >= MAX_DELIVERY_COUNT) {
        message.state = 'dead-lettered';
        continue;
      }

      message.state = 'locked';
      message.deliveryCount += 1;
      message.lockToken = randomUUID();
      message.lockExpiresAtMs = context.monotonicMs() + context.getLockDurationMs();
      return { ...message, properties: { ...message.properties } };
    }
    return undefined;
  }

  /**
   * Completes, rejects or abandons a locked message.
   *
   * @param {string} deviceId Device that settles.
   * @param {string} lockToken The unquoted ETag from the receive.
   * @param {'complete' | 'reject' | 'abandon'} action What to do.
   * @returns {{ ok: true, messageId: string } | { ok: false, reason: string }} `ok: false` means lock lost (412002).
   */
  function settle(deviceId, lockToken, action) {
    const message = queueOf(deviceId).find((candidate) => candidate.lockToken === lockToken);
    if (message === undefined) {
      return { ok: false, reason: 'no message holds this lock token' };
    }
    if (!isLocked(message)) {
      return { ok: false, reason: `the lock of message ${message.messageId} expired` };
    }

    message.lockToken = undefined;
    message.state = { complete: 'completed', reject: 'rejected', abandon: 'queued' }[action];
    return { ok: true, messageId: message.messageId };
  }

  /**
   * Lists the messages of a device with their states.
   *
   * @param {string} deviceId Device.
   * @returns {Array<{ messageId: string, body: string, state: string, deliveryCount: number }>} States are
   *   "queued", "locked", "completed", "rejected" or "dead-lettered".
   */
  function list(deviceId) {
    return queueOf(deviceId).map((message) => ({
      messageId: message.messageId,
      body: message.body,
      state: message.state === 'locked' && !isLocked(message) ? 'queued' : message.state,
      deliveryCount: message.deliveryCount,
    }));
  }

  return { enqueue, receive, settle, list };
}
