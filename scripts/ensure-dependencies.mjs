// Installs the locked dependencies when they are missing, so that `npm start` and `npm test` work as the first
// command after cloning. Uses only Node's standard library, because it runs before anything is installed.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");

// npm writes node_modules/.package-lock.json at the end of every install; tsx runs every host script.
function isInstalled() {
  return existsSync(join(root, "node_modules", ".package-lock.json")) &&
    existsSync(join(root, "node_modules", ".bin", "tsx"));
}

if (!isInstalled()) {
  console.log("dependencies are missing: running `npm ci` once (needs the npm registry)");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error("`npm ci` failed; fix the error above and run it again");
    process.exit(result.status ?? 1);
  }
}
