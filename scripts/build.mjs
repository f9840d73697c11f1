// Builds dist/node.js (plus dist/chunks/, one per lazily loaded driver) with Bun's bundler, and
// prints nothing unless something went wrong.
//   node scripts/build.mjs              # always rebuild (npm run build)
//   node scripts/build.mjs --if-stale   # only when src/, runtimes/ or package.json changed (npm start)
// Code splitting keeps each driver's `import()` a real dynamic import in the bundle: without it
// Bun hoists every driver's client library (ioredis, nats.ws, @upstash/redis) to the top of
// dist/node.js and loads them all at start-up.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { newestInput } from "./build-inputs.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "dist/node.js");
const BUN = path.join(ROOT, "node_modules/.bin/bun");

const ifStale = process.argv.includes("--if-stale");
if (ifStale && existsSync(OUT) && statSync(OUT).mtimeMs >= newestInput(ROOT)) process.exit(0);
if (!existsSync(BUN)) {
  if (ifStale && existsSync(OUT)) {
    console.error("switchboard: sources changed but Bun (a dev dependency) is not installed: starting the existing dist/node.js");
    process.exit(0);
  }
  console.error("switchboard: building dist/node.js needs Bun, a dev dependency: run npm install (without --omit=dev)");
  process.exit(1);
}
// Chunk names carry a hash: drop the previous build's so they do not pile up.
rmSync(path.join(ROOT, "dist/chunks"), { recursive: true, force: true });
const result = spawnSync(
  BUN,
  ["build", "runtimes/node.ts", "--target=node", "--format=esm", "--packages=external", "--splitting",
    "--outdir", "dist", "--chunk-naming", "chunks/[name]-[hash].[ext]"],
  { cwd: ROOT, encoding: "utf8" },
);
if (result.status !== 0) {
  process.stderr.write(result.stdout ?? "");
  process.stderr.write(result.stderr ?? "");
  console.error(`switchboard: building dist/node.js failed${result.error ? `: ${result.error.message}` : ""}`);
  process.exit(1);
}
