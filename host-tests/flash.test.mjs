// Tests for the board file, `npm run flash` and the espruino CLI's module handling.
//
// Everything runs the real espruino CLI. Module downloads go to a loopback HTTP server that records each request,
// and uploads go to a loopback TCP server that plays the Espruino REPL prompt and records every byte, so no test
// touches the internet or a serial port.
//
// The CLI's module download passes the URL's `host:port` as the host name, so a MODULE_URL with a port fails in
// DNS. The tests therefore route downloads through the CLI's proxy setting instead: every request goes to the
// loopback server, which receives the full module URL as its path.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";

import * as esbuild from "esbuild";

import { BOARD_FILE_RELATIVE_PATH, ESPRUINO_CLI_SCRIPT_PATH, REPOSITORY_ROOT } from "../scripts/lib/espruino-cli.mjs";

const FLASH_SCRIPT_PATH = path.join(REPOSITORY_ROOT, "scripts", "flash.mjs");
const DIST_BUNDLE_PATH = path.join(REPOSITORY_ROOT, "dist", "firmware.js");
const BOARD_FILE_PATH = path.join(REPOSITORY_ROOT, BOARD_FILE_RELATIVE_PATH);

/** Modules of the Espruino ESP32 build that the firmware needs. */
const FIRMWARE_MODULES = ["crypto", "http", "Storage", "Wifi"];

/** A configuration that passes validateDeviceConfig; every value is made up. */
const VALID_CONFIG = {
  wifi: { ssid: "example-wifi", password: "example-wifi-password" },
  dps: {
    idScope: "0ne000A1B2C",
    registrationId: "sensor-01",
    enrollment: "group",
    deviceKey: "rWjbEHpPct34E437MDAIrOYxxl1cuGnheaY0tSloyAU=",
  },
};
const SECRET_VALUES = [VALID_CONFIG.dps.deviceKey, VALID_CONFIG.wifi.password];

/** A module that a download would install over the native `crypto`: SHA1 only, like espruino.com's crypto.js. */
const SHADOWING_CRYPTO_MODULE = "exports.SHA1=function(){return 'from the module server';};";

let workDirectory;

before(() => {
  workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "flash-test-"));
});

after(() => {
  fs.rmSync(workDirectory, { recursive: true, force: true });
});

/** Writes a file into the test's directory and returns its absolute path. */
function writeWorkFile(name, contents) {
  const filePath = path.join(workDirectory, name);
  fs.writeFileSync(filePath, contents);
  return filePath;
}

/** Runs Node with the given arguments from the repository root and collects its output and exit code. */
function runNode(nodeArguments) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArguments, { cwd: REPOSITORY_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ exitCode, stdout, stderr, output: stdout + stderr }));
  });
}

/** Runs scripts/flash.mjs through tsx, as `npm run flash` does. */
function runFlash(flashArguments) {
  return runNode(["--import", "tsx", FLASH_SCRIPT_PATH, ...flashArguments]);
}

/** MODULE_URL for the offline runs; the `.invalid` name is never resolved because every request goes to the proxy. */
const TEST_MODULE_URL = "http://modules.example.invalid";

/**
 * Starts a loopback HTTP server that the CLI uses as its module proxy. It records the requested module URLs and
 * serves a shadowing `crypto.js`.
 */
async function startModuleServer() {
  const requestedPaths = [];
  const server = http.createServer((request, response) => {
    requestedPaths.push(request.url);
    if (request.url.endsWith("/crypto.js")) {
      response.writeHead(200, { "Content-Type": "application/javascript" });
      response.end(SHADOWING_CRYPTO_MODULE);
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    requestedPaths,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Starts a loopback TCP server that answers like an idle Espruino REPL: every line or Ctrl-C gets "=undefined" and
 * a ">" prompt. It records every byte the CLI sends.
 */
async function startFakeDevice() {
  const receivedChunks = [];
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("data", (chunk) => {
      receivedChunks.push(chunk);
      const text = chunk.toString("latin1");
      if (text.includes("\n") || text.includes("\x03")) {
        socket.write("\r\n=undefined\r\n>");
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    portPath: `tcp://127.0.0.1:${server.address().port}`,
    receivedText: () => Buffer.concat(receivedChunks).toString("latin1"),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  };
}

/** Returns a loopback port that nothing listens on. */
async function findClosedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Replays what the CLI sent to the fake device: strips the REPL control bytes and runs each statement against an
 * in-memory Storage, the way the board would. Returns the Storage files and the order of the calls.
 */
function replayUpload(receivedText) {
  const storageFiles = {};
  const calls = [];
  const storage = {
    write(name, data, offset, totalSize) {
      calls.push(`write ${name} @${offset ?? 0}`);
      if (offset === undefined || offset === 0) {
        storageFiles[name] = Buffer.alloc(totalSize ?? data.length, 0xff);
      }
      Buffer.from(data, "latin1").copy(storageFiles[name], offset ?? 0);
      return true;
    },
  };
  const sandbox = {
    require: (moduleName) => {
      assert.equal(moduleName, "Storage", `upload code requires "${moduleName}"`);
      return storage;
    },
    atob: (text) => Buffer.from(text, "base64").toString("latin1"),
    reset: () => calls.push("reset"),
    print: () => calls.push("print"),
    load: () => calls.push("load"),
  };
  const code = receivedText.replace(/\x10/g, "").replace(/\x1b\n/g, "\n");
  vm.runInNewContext(code, sandbox);

  const files = {};
  for (const name of Object.keys(storageFiles)) files[name] = storageFiles[name].toString("latin1");
  return { files, calls };
}

/** Source that calls the firmware's modules as plain `require("x")`, as an esbuild "cjs" bundle does. */
const PLAIN_REQUIRE_SOURCE = FIRMWARE_MODULES.map((name, index) => `var m${index} = require("${name}");`).join("\n") +
  '\nconsole.log(m0.SHA256("abc"), m1, m2, m3);\n';

/** Runs the CLI offline (`-n -o OUT`), with or without a board file, against the recording module server. */
async function runCliOffline({ boardFilePath, bundlePath, moduleServer }) {
  const outputPath = path.join(workDirectory, `cli-output-${Math.random().toString(16).slice(2)}.js`);
  const cliArguments = [ESPRUINO_CLI_SCRIPT_PATH];
  if (boardFilePath !== undefined) cliArguments.push("--board", boardFilePath);
  cliArguments.push(
    "--config", `MODULE_URL=${TEST_MODULE_URL}`,
    "--config", "MODULE_PROXY_ENABLED=true",
    "--config", "MODULE_PROXY_URL=127.0.0.1",
    "--config", `MODULE_PROXY_PORT=${moduleServer.port}`,
    "-n", "-o", outputPath, bundlePath,
  );

  const result = await runNode(cliArguments);
  assert.equal(result.exitCode, 0, result.output);
  return { ...result, transformedCode: fs.readFileSync(outputPath, "latin1") };
}

describe("board file for the espruino CLI", () => {
  let moduleServer;
  let plainBundlePath;

  before(async () => {
    moduleServer = await startModuleServer();
    plainBundlePath = writeWorkFile("plain-require.js", PLAIN_REQUIRE_SOURCE);
  });

  after(async () => {
    await moduleServer.close();
  });

  beforeEach(() => {
    moduleServer.requestedPaths.length = 0;
  });

  it("board file has version, modules and saved_code", () => {
    const board = JSON.parse(fs.readFileSync(BOARD_FILE_PATH, "utf8"));

    assert.equal(board.info.binary_version, "2v29");
    assert.deepEqual(board.info.builtin_modules, [
      "Flash", "Storage", "heatshrink", "fs", "timer", "net", "dgram", "http", "tls", "Wifi", "TelnetServer", "crypto", "neopixel",
    ]);
    assert.deepEqual(board.chip.saved_code, { address: 3276800, page_size: 4096, pages: 224 });
  });

  it("plain requires with board file download nothing", async () => {
    const run = await runCliOffline({ boardFilePath: BOARD_FILE_RELATIVE_PATH, bundlePath: plainBundlePath, moduleServer });

    assert.deepEqual(moduleServer.requestedPaths, []);
    assert.doesNotMatch(run.output, /No list of built-in modules/);
    assert.doesNotMatch(run.output, /not found/);
    assert.doesNotMatch(run.transformedCode, /Modules\.addCached/);
    assert.equal(run.transformedCode, PLAIN_REQUIRE_SOURCE);
  });

  it("plain requires without board file download crypto", async () => {
    const run = await runCliOffline({ boardFilePath: undefined, bundlePath: plainBundlePath, moduleServer });

    assert.match(run.output, /No list of built-in modules found/);
    for (const name of FIRMWARE_MODULES) {
      assert.ok(moduleServer.requestedPaths.includes(`${TEST_MODULE_URL}/${name}.min.js`), `no download attempt for ${name}: ${moduleServer.requestedPaths}`);
    }
    assert.match(run.transformedCode, /^Modules\.addCached\("crypto",function\(\)\{exports\.SHA1=/);
  });

  it("board file without module list downloads crypto", async () => {
    const board = JSON.parse(fs.readFileSync(BOARD_FILE_PATH, "utf8"));
    delete board.info.builtin_modules;
    const boardWithoutModulesPath = writeWorkFile("board-without-modules.json", JSON.stringify(board));

    const run = await runCliOffline({ boardFilePath: boardWithoutModulesPath, bundlePath: plainBundlePath, moduleServer });

    assert.match(run.output, /No list of built-in modules found/);
    assert.ok(moduleServer.requestedPaths.includes(`${TEST_MODULE_URL}/crypto.min.js`), `requests: ${moduleServer.requestedPaths}`);
    assert.match(run.transformedCode, /Modules\.addCached\("crypto"/);
  });

  it("dist bundle with board file downloads nothing", async function () {
    if (!fs.existsSync(DIST_BUNDLE_PATH)) {
      this.skip();
    }

    const run = await runCliOffline({ boardFilePath: BOARD_FILE_RELATIVE_PATH, bundlePath: DIST_BUNDLE_PATH, moduleServer });

    assert.deepEqual(moduleServer.requestedPaths, []);
    assert.doesNotMatch(run.output, /No list of built-in modules/);
    assert.doesNotMatch(run.transformedCode, /Modules\.addCached/);
  });
});

describe("esbuild output format and the CLI module scanner", () => {
  let moduleServer;
  let entryPath;

  before(async () => {
    moduleServer = await startModuleServer();
    entryPath = writeWorkFile(
      "entry.ts",
      "declare const require: (name: string) => any;\n" +
        FIRMWARE_MODULES.map((name, index) => `const m${index} = require("${name}");`).join("\n") +
        '\nconsole.log(m0.SHA256("abc"), m1, m2, m3);\n',
    );
  });

  after(async () => {
    await moduleServer.close();
  });

  beforeEach(() => {
    moduleServer.requestedPaths.length = 0;
  });

  /** Bundles the sample entry with the format under test and the externals of the firmware build. */
  async function bundleSample(format) {
    const outputPath = path.join(workDirectory, `bundle-${format}.js`);
    await esbuild.build({
      entryPoints: [entryPath],
      bundle: true,
      format,
      platform: "neutral",
      target: "es2015",
      external: ["crypto", "http", "Storage", "Wifi", "TelnetServer"],
      outfile: outputPath,
      logLevel: "silent",
    });
    return outputPath;
  }

  it("iife turns require into __require", async () => {
    const bundlePath = await bundleSample("iife");
    const code = fs.readFileSync(bundlePath, "utf8");

    assert.match(code, /__require\("crypto"\)/);
    assert.doesNotMatch(code, /(^|[^\w$])require\("crypto"\)/m);

    // Even without a board file the CLI finds no module name, so it neither checks nor downloads anything.
    const run = await runCliOffline({ boardFilePath: undefined, bundlePath, moduleServer });
    assert.deepEqual(moduleServer.requestedPaths, []);
    assert.doesNotMatch(run.transformedCode, /Modules\.addCached/);
  });

  it("cjs keeps plain require calls", async () => {
    const bundlePath = await bundleSample("cjs");
    const code = fs.readFileSync(bundlePath, "utf8");

    assert.match(code, /(^|[^\w$])require\("crypto"\)/m);
    assert.doesNotMatch(code, /__require/);

    const withoutBoard = await runCliOffline({ boardFilePath: undefined, bundlePath, moduleServer });
    assert.ok(moduleServer.requestedPaths.includes(`${TEST_MODULE_URL}/crypto.min.js`), `requests: ${moduleServer.requestedPaths}`);
    assert.match(withoutBoard.transformedCode, /Modules\.addCached\("crypto"/);

    moduleServer.requestedPaths.length = 0;
    const withBoard = await runCliOffline({ boardFilePath: BOARD_FILE_RELATIVE_PATH, bundlePath, moduleServer });
    assert.deepEqual(moduleServer.requestedPaths, []);
    assert.doesNotMatch(withBoard.transformedCode, /Modules\.addCached/);
  });
});

describe("npm run flash", () => {
  let bundlePath;
  let configPath;

  before(() => {
    bundlePath = writeWorkFile("firmware.js", PLAIN_REQUIRE_SOURCE);
    configPath = writeWorkFile("device.config.json", JSON.stringify(VALID_CONFIG, null, 2));
  });

  it("dry run prints the CLI command", async () => {
    const result = await runFlash(["--port", "/dev/ttyUSB7", "--config", configPath, "--bundle", bundlePath, "--dry-run"]);

    assert.equal(result.exitCode, 0, result.output);
    const commandLine = result.stdout.split("\n").find((line) => line.startsWith("npx espruino "));
    assert.ok(commandLine !== undefined, result.stdout);
    assert.equal(
      commandLine,
      "npx espruino --board scripts/board/ESP32.json --no-ble -p /dev/ttyUSB7 -b 115200 " +
        `--config SAVE_ON_SEND=1 --config MODULE_URL= --storage dpscfg.json:${configPath} ${bundlePath}`,
    );
  });

  it("dry run never prints secrets", async () => {
    const result = await runFlash(["--port", "/dev/ttyUSB7", "--config", configPath, "--bundle", bundlePath, "--dry-run"]);

    assert.equal(result.exitCode, 0, result.output);
    for (const secret of SECRET_VALUES) {
      assert.ok(!result.output.includes(secret), "a secret from the configuration file was printed");
    }
  });

  it("dry run honours --baud", async () => {
    const result = await runFlash(["--port", "COM3", "--baud", "921600", "--config", configPath, "--bundle", bundlePath, "--dry-run"]);

    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.stdout, / -p COM3 -b 921600 /);
  });

  it("missing port fails with help", async () => {
    const result = await runFlash(["--config", configPath, "--bundle", bundlePath, "--dry-run"]);

    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /Missing --port/);
    assert.match(result.stderr, /Linux:.*\/dev\/ttyUSB/);
    assert.match(result.stderr, /macOS:.*\/dev\/cu\./);
    assert.match(result.stderr, /Windows:.*COM/);
  });

  it("missing bundle fails with build hint", async () => {
    const missingBundlePath = path.join(workDirectory, "not-built", "firmware.js");
    const result = await runFlash(["--port", "/dev/ttyUSB7", "--config", configPath, "--bundle", missingBundlePath, "--dry-run"]);

    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /Firmware bundle not found/);
    assert.match(result.stderr, /npm run build/);
  });

  it("missing config file fails", async () => {
    const result = await runFlash(["--port", "/dev/ttyUSB7", "--config", path.join(workDirectory, "absent.json"), "--bundle", bundlePath, "--dry-run"]);

    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /Device configuration file not found: .*absent\.json/);
  });

  it("invalid config lists every problem", async () => {
    const invalidConfig = { wifi: { ssid: "example-wifi" }, dps: { idScope: "0ne000A1B2C", deviceKey: VALID_CONFIG.dps.deviceKey } };
    const invalidConfigPath = writeWorkFile("invalid.config.json", JSON.stringify(invalidConfig));

    const result = await runFlash(["--port", "/dev/ttyUSB7", "--config", invalidConfigPath, "--bundle", bundlePath, "--dry-run"]);

    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /Cannot flash/);
    assert.match(result.stderr, /dps\.registrationId: /);
    assert.match(result.stderr, /dps\.enrollment: /);
    assert.doesNotMatch(result.stdout, /npx espruino/);
    assert.ok(!result.output.includes(VALID_CONFIG.dps.deviceKey), "the key was printed");
  });

  it("JSON syntax error hides the text", async () => {
    const brokenConfigPath = writeWorkFile("broken.config.json", `{"dps": {"deviceKey": "${VALID_CONFIG.dps.deviceKey}",, }}`);

    const result = await runFlash(["--port", "/dev/ttyUSB7", "--config", brokenConfigPath, "--bundle", bundlePath, "--dry-run"]);

    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /\(file\): is not valid JSON: syntax error at line 1, column \d+/);
    assert.ok(!result.output.includes(VALID_CONFIG.dps.deviceKey), "the key was printed");
  });

  it("upload writes config and .bootcde", async () => {
    const device = await startFakeDevice();
    try {
      const result = await runFlash(["--port", device.portPath, "--config", configPath, "--bundle", bundlePath]);
      assert.equal(result.exitCode, 0, result.output);
      for (const secret of SECRET_VALUES) {
        assert.ok(!result.output.includes(secret), "a secret from the configuration file was printed");
      }

      const { files, calls } = replayUpload(device.receivedText());
      assert.equal(files["dpscfg.json"], fs.readFileSync(configPath, "latin1"));
      assert.equal(files[".bootcde"], fs.readFileSync(bundlePath, "latin1"));
      assert.ok(!files[".bootcde"].includes(VALID_CONFIG.dps.deviceKey), "the key was saved inside .bootcde");
      assert.deepEqual(Object.keys(files).sort(), [".bootcde", "dpscfg.json"]);

      assert.equal(calls[0], "reset");
      assert.ok(calls.indexOf("write dpscfg.json @0") < calls.indexOf("write .bootcde @0"), calls.join(", "));
      assert.equal(calls[calls.length - 1], "load");
    } finally {
      await device.close();
    }
  });

  it("unreachable device fails the upload", async () => {
    const closedPort = await findClosedPort();

    const result = await runFlash(["--port", `tcp://127.0.0.1:${closedPort}`, "--config", configPath, "--bundle", bundlePath]);

    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /Flashing failed on tcp:\/\/127\.0\.0\.1:\d+/);
  });
});
