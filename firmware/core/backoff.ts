// Capped exponential backoff, shared by every retry loop of the firmware (DPS, IoT Hub, WiFi, re-provisioning).

/**
 * Computes a delay that doubles with each failure, from a base up to a cap.
 *
 * @param failures Consecutive failures so far, 1 or more; the first failure gets `baseDelayMs`.
 * @param baseDelayMs Delay after the first failure, in ms.
 * @param maxDelayMs Cap on the delay, in ms.
 * @returns Delay in ms, without jitter.
 */
export function computeDoublingDelayMs(failures: number, baseDelayMs: number, maxDelayMs: number): number {
  let delayMs = baseDelayMs;
  for (let i = 1; i < failures && delayMs < maxDelayMs; i++) delayMs *= 2;
  return delayMs > maxDelayMs ? maxDelayMs : delayMs;
}

/**
 * Computes a doubling, capped delay with jitter drawn uniformly from the upper half of it, so that devices that
 * failed together do not retry together.
 *
 * @param failures Consecutive failures so far, 1 or more.
 * @param random A number in [0, 1), e.g. from `Math.random()`.
 * @param baseDelayMs Ceiling of the delay after the first failure, in ms.
 * @param maxDelayMs Cap on the ceiling, in ms.
 * @returns Delay in ms.
 */
export function computeJitteredBackoffMs(failures: number, random: number, baseDelayMs: number,
  maxDelayMs: number): number {
  const ceilingMs = computeDoublingDelayMs(failures, baseDelayMs, maxDelayMs);
  return Math.round(ceilingMs / 2 + (random * ceilingMs) / 2);
}
