// Installs Node 24 (the npm package `node` ships the binary, ~190 MB) into test/node24 for the
// runtime test matrix, on the first `npm run test:runtimes` that needs it: a user who only runs the
// server never downloads it. It lives in its own folder because a root `node` dependency would put
// node_modules/.bin/node first on PATH and replace Node 20 in every npm script.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const prefix = path.join(path.dirname(fileURLToPath(import.meta.url)), "../test/node24");
// The npm that is running this install, whatever is first on PATH.
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
const result = spawnSync(npm[0], [...npm.slice(1), "install", "--prefix", prefix, "--no-audit", "--no-fund"], {
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error("switchboard: installing Node 24 into test/node24 failed (only the node24 test run needs it)");
  process.exit(result.status ?? 1);
}
