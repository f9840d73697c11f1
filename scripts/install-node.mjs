// Installs a Node line for the runtime test matrix (the npm package `node` ships the binary,
// ~190 MB) into test/node<line>, on the first `npm run test:runtimes` that needs it: a user who
// only runs the server never downloads it. Each lives in its own folder because a root `node`
// dependency would put node_modules/.bin/node first on PATH and replace the machine's Node in
// every npm script. test/node<line>/package.json pins the version.
//   node scripts/install-node.mjs 22
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const line = process.argv[2];
const prefix = path.join(path.dirname(fileURLToPath(import.meta.url)), `../test/node${line}`);
if (!line || !existsSync(path.join(prefix, "package.json"))) {
  console.error(`switchboard: no test/node${line ?? "<line>"}/package.json (lines in the matrix: 22, 24)`);
  process.exit(2);
}
// The npm that is running this install, whatever is first on PATH.
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
const result = spawnSync(npm[0], [...npm.slice(1), "install", "--prefix", prefix, "--no-audit", "--no-fund"], {
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error(`switchboard: installing Node ${line} into test/node${line} failed (only the node${line} test run needs it)`);
  process.exit(result.status ?? 1);
}
