// Bundles firmware/main.ts into dist/firmware.js for Espruino 2v29 and later, then checks the bundle against what
// the interpreter can parse and run. Exits 1 when either step fails.
//
// esbuild cannot lower to ES5, so it targets ES2015 with every construct Espruino lacks marked unsupported: esbuild
// then fails on it instead of passing it through. The profile check afterwards catches what esbuild does not see
// (missing globals and methods, silently wrong regular expressions, named class expressions, and so on).

import { parse } from "acorn";
import { simple } from "acorn-walk";
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkProfile } from "./profile-check.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Modules built into the Espruino ESP32 firmware; the bundle requires them at run time. */
export const ESPRUINO_MODULES = ["crypto", "http", "net", "tls", "Wifi", "Storage", "fs", "Flash", "heatshrink",
  "timer", "TelnetServer", "neopixel"];

/** esbuild options of the firmware bundle, shared with tests that bundle samples the same way. */
export const FIRMWARE_BUILD_OPTIONS = {
  bundle: true,
  format: "iife",
  platform: "neutral",
  target: "es2015",
  charset: "ascii",
  legalComments: "none",
  minify: true,
  external: ESPRUINO_MODULES,
  supported: {
    "destructuring": false,
    "default-argument": false,
    "rest-argument": false,
    "array-spread": false,
    "object-rest-spread": false,
    "generator": false,
    "async-await": false,
    "async-generator": false,
    "for-await": false,
    "class-private-field": false,
    "class-private-method": false,
    "class-private-accessor": false,
    "class-private-static-field": false,
    "class-private-static-method": false,
    "class-private-static-accessor": false,
    "class-private-brand-check": false,
    "class-static-blocks": false,
    "template-literal": false,
  },
  logLevel: "silent",
};

/**
 * Replaces esbuild's `__require` shim with plain `require("module")` calls.
 *
 * In an IIFE bundle esbuild routes `require` through a shim that also probes for `Proxy`. The espruino CLI only
 * recognises literal `require("x")` calls when it decides which modules are built in and which to download, so
 * the shim would hide the bundle's modules from it. Calls are found with a parser, not a regular expression.
 *
 * @param {string} code The bundle as esbuild wrote it.
 * @returns {string} The bundle with the shim's calls rewritten and its declaration removed.
 */
export function replaceRequireShim(code) {
  const ast = parse(code, { ecmaVersion: "latest", sourceType: "script" });
  let shim = undefined;

  simple(ast, {
    VariableDeclarator(node) {
      const text = node.init ? code.slice(node.init.start, node.init.end) : "";
      if (shim === undefined && node.id.type === "Identifier" && text.includes('typeof require!="undefined"') &&
        text.includes("Dynamic require of")) {
        shim = { name: node.id.name, start: node.start, end: node.end };
      }
    },
  });
  if (shim === undefined) return code;

  const edits = [];
  simple(ast, {
    CallExpression(node) {
      const argument = node.arguments[0];
      if (node.callee.type === "Identifier" && node.callee.name === shim.name && node.arguments.length === 1 &&
        argument.type === "Literal" && ESPRUINO_MODULES.includes(argument.value)) {
        edits.push({ start: node.callee.start, end: node.callee.end, text: "require" });
      }
    },
  });

  // The declarator sits in "var A=...;" or "var A=...,B=...;"; drop it and its separator.
  const afterShim = code.charAt(shim.end);
  if (code.slice(shim.start - 4, shim.start) === "var " && afterShim === ";") {
    edits.push({ start: shim.start - 4, end: shim.end + 1, text: "" });
  } else if (afterShim === ",") {
    edits.push({ start: shim.start, end: shim.end + 1, text: "" });
  } else {
    throw new Error("replaceRequireShim: unexpected shape around the require shim; update the build script");
  }

  edits.sort((a, b) => b.start - a.start);
  let output = code;
  for (const edit of edits) output = output.slice(0, edit.start) + edit.text + output.slice(edit.end);
  return output;
}

/**
 * Builds dist/firmware.js and runs the profile check on it.
 *
 * @param {{ outfile?: string, buildEpochSeconds?: number }} options Output path and the build time that becomes the
 *   firmware's clock floor (defaults: dist/firmware.js, now).
 * @returns {Promise<{ outfile: string, bytes: number, violations: Array<object> }>}
 */
export async function buildFirmware(options = {}) {
  const outfile = options.outfile ?? join(root, "dist", "firmware.js");
  const buildEpochSeconds = options.buildEpochSeconds ?? Math.floor(Date.now() / 1000);
  mkdirSync(dirname(outfile), { recursive: true });

  await build({
    ...FIRMWARE_BUILD_OPTIONS,
    entryPoints: [join(root, "firmware", "main.ts")],
    outfile,
    define: { BUILD_EPOCH_SECONDS: String(buildEpochSeconds) },
  });

  const code = replaceRequireShim(readFileSync(outfile, "latin1"));
  const violations = checkProfile(code, { fileName: "dist/firmware.js" });
  writeFileSync(outfile, code, "latin1");
  return { outfile, bytes: Buffer.byteLength(code, "latin1"), violations };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const result = await buildFirmware();
    if (result.violations.length > 0) {
      for (const v of result.violations) console.error(`dist/firmware.js:${v.line}:${v.column} ${v.rule}: ${v.message}`);
      console.error(`profile check failed: ${result.violations.length} construct(s) that Espruino cannot run`);
      process.exit(1);
    }
    console.log(`built dist/firmware.js: ${result.bytes} bytes; profile check passed`);
  } catch (error) {
    for (const message of error.errors ?? []) {
      const where = message.location ? `${message.location.file}:${message.location.line}:${message.location.column} ` : "";
      console.error(`${where}${message.text}`);
    }
    if (!error.errors) console.error(error.message);
    console.error("build failed");
    process.exit(1);
  }
}
