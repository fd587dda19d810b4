// Scans every log line of the end-to-end tests that ran before this file (device and emulator, collected in
// `suiteLog`) for keys, derived keys, SAS tokens and signatures. Mocha loads files in sorted order, so this file
// ("zz-") runs last; run alone it has nothing to scan and fails on purpose.

import assert from "node:assert/strict";
import { suiteLog } from "./support/e2e.mjs";

/** Fewer lines than this means the end-to-end tests did not run, so a clean scan would prove nothing. */
const MIN_LINES = 300;

/** Fewer received tokens than this means the emulators' signatures were not collected. */
const MIN_SECRETS = 50;

/** Length of the pieces of each secret looked for, so a secret cut short or split still shows, in characters. */
const PIECE_CHARACTERS = 16;

// Token and signature shapes, whatever their value: a SAS token body, a `sig=` value that the device's redaction
// did not replace, and the Base64 form of 32 bytes (a derived key or an HMAC-SHA256 signature).
const SHAPES = [
  { name: "SAS token", pattern: /SharedAccessSignature\s+(sr|sig|se|skn)=/i },
  { name: "sig= value", pattern: /\bsig=(?!<redacted>)[A-Za-z0-9%+/]{8,}/ },
  { name: "Base64 of 32 bytes", pattern: /(^|[^A-Za-z0-9+/])[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=($|[^A-Za-z0-9+/=])/ },
];

/** Returns every piece of `PIECE_CHARACTERS` characters of every secret. */
function collectPieces(secrets) {
  const pieces = new Set();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < PIECE_CHARACTERS) continue;
    for (let start = 0; start + PIECE_CHARACTERS <= secret.length; start++) {
      pieces.add(secret.slice(start, start + PIECE_CHARACTERS));
    }
  }
  return pieces;
}

/** Returns the first piece of a secret found in `line`, or undefined. */
function findPiece(line, pieces) {
  for (let start = 0; start + PIECE_CHARACTERS <= line.length; start++) {
    const candidate = line.slice(start, start + PIECE_CHARACTERS);
    if (pieces.has(candidate)) return candidate;
  }
  return undefined;
}

/** Shows where a finding is without printing the secret: the line with the match replaced. */
function maskFinding(line, found) {
  return line.split(found).join(`<${found.length} characters of a secret>`);
}

/** Returns one finding per line that contains a piece of a secret or a token shape. */
function scanLines(lines, secrets) {
  const pieces = collectPieces(secrets);
  const findings = [];

  for (const line of lines) {
    const piece = findPiece(line, pieces);
    if (piece !== undefined) findings.push(`secret piece: ${maskFinding(line, piece)}`);

    for (const shape of SHAPES) {
      const match = shape.pattern.exec(line);
      if (match !== null) findings.push(`${shape.name}: ${maskFinding(line, match[0])}`);
    }
  }
  return findings;
}

describe("secret scan self-check", () => {
  // Made-up values: a derived key and a token of the same shapes as the real ones.
  const key = "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=";
  const cases = [
    ["a whole key", `[info] dps: key ${key}`, []],
    ["part of a key", `[info] dps: key ${key.slice(5, 30)}`, [key]],
    ["a token", "[warn] hub: SharedAccessSignature sr=hub%2Fdevices%2Fd&sig=abc%2Bdef0123456789&se=1", []],
    ["a sig value", "[warn] dps: sig=I2rbzTr6q678FQkVZK0BDzqfMRqF4It4", []],
  ];

  for (const [name, line, secrets] of cases) {
    it(`finds ${name}`, () => {
      assert.ok(scanLines([line], new Set(secrets)).length > 0, `no finding in: ${line}`);
    });
  }

  it("passes a redacted line", () => {
    assert.deepEqual(scanLines(["[info] dps: Authorization <redacted> sig=<redacted> fingerprint AbCdEfGh12345678"],
      new Set([key])), []);
  });
});

describe("secret scan of the end-to-end logs", () => {
  it("has the whole suite's lines", () => {
    assert.ok(suiteLog.lines.length >= MIN_LINES,
      `only ${suiteLog.lines.length} log lines were collected; this scan needs the end-to-end tests to run first in ` +
      `the same process, so run it with the whole suite (npm test), not alone`);
    assert.ok(suiteLog.secrets.size >= MIN_SECRETS,
      `only ${suiteLog.secrets.size} secrets were collected; expected the keys of every run and the tokens and ` +
      "signatures the emulators received");
  });

  it("finds no key, token or signature", () => {
    const findings = scanLines(suiteLog.lines, suiteLog.secrets);
    assert.deepEqual(findings.slice(0, 20), [], `${findings.length} log lines contain secrets`);
  });
});
