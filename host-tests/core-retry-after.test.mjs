import assert from "node:assert/strict";
import { parseRetryAfterSeconds } from "../firmware/core/retry-after.ts";

// A pinned device clock: 2026-10-21T07:28:00Z.
const NOW_EPOCH_MS = Date.parse("Wed, 21 Oct 2026 07:28:00 GMT");

describe("parseRetryAfterSeconds", () => {
  // header value, expected seconds
  const cases = [
    ["3", 3],
    ["0", 0],
    [" 7 ", 7],
    ["007", 7],
    ["300", 300],
    ["301", 300],
    ["86400", 300],
    ["99999999999999999999", 300],
    ["-1", undefined],
    ["-300", undefined],
    ["1.5", undefined],
    ["1e3", undefined],
    ["+3", undefined],
    ["3s", undefined],
    ["0x10", undefined],
    ["", undefined],
    ["   ", undefined],
    ["soon", undefined],
    ["soon, 1", undefined],
    ["Mon, 1", undefined],
    ["Wed, 99 Foo 2026 07:28:30 GMT", undefined],
    [undefined, undefined],
  ];

  for (const [value, expected] of cases) {
    it(`reads ${JSON.stringify(value)}`, () => {
      assert.equal(parseRetryAfterSeconds(value, undefined, NOW_EPOCH_MS), expected);
    });
  }

  it("measures a date against Date", () => {
    // The device clock is unset (1970), so only the response's Date header gives the right wait.
    const seconds = parseRetryAfterSeconds("Wed, 21 Oct 2026 07:28:30 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 5000);
    assert.equal(seconds, 30);
  });

  it("measures a date against the clock", () => {
    assert.equal(parseRetryAfterSeconds("Wed, 21 Oct 2026 07:28:30 GMT", undefined, NOW_EPOCH_MS), 30);
  });

  it("ignores an unreadable Date", () => {
    assert.equal(parseRetryAfterSeconds("Wed, 21 Oct 2026 07:28:30 GMT", "yesterday", NOW_EPOCH_MS), 30);
  });

  it("rounds a partial second up", () => {
    assert.equal(parseRetryAfterSeconds("Wed, 21 Oct 2026 07:28:30 GMT", undefined, NOW_EPOCH_MS + 500), 30);
  });

  it("reads a past date as 0", () => {
    assert.equal(parseRetryAfterSeconds("Wed, 21 Oct 2026 07:27:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 0), 0);
  });

  it("caps a distant date", () => {
    assert.equal(parseRetryAfterSeconds("Thu, 21 Oct 2027 07:28:00 GMT", undefined, NOW_EPOCH_MS), 300);
  });

  it("reads the RFC 850 form", () => {
    assert.equal(parseRetryAfterSeconds("Wednesday, 21-Oct-26 07:28:30 GMT", undefined, NOW_EPOCH_MS), 30);
  });
});
