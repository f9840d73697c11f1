// Builds the Cloudflare Workers bundle (dist/workers/: worker.js plus chunks/) and the local
// launcher (dist/workerd.js, `npm run start:workers`) with Bun's bundler.
//   node scripts/build-workers.mjs              # always rebuild (npm run build:workers)
//   node scripts/build-workers.mjs --if-stale   # only when src/, runtimes/ or package.json changed
// Code splitting keeps every driver's import() lazy, and the libraries of drivers a Worker cannot
// run (runtimes/workers/config.ts) are external: the Worker refuses those drivers at start, so
// their chunks are never loaded and the bundle stays small.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { newestInput } from "./build-inputs.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "dist/workers");
const BUN = path.join(ROOT, "node_modules/.bin/bun");
const EXTERNAL = ["ioredis", "mysql2", "mysql2/*", "postgres", "drizzle-orm", "drizzle-orm/*", "@aws-sdk/*", "prom-client", "nats.ws", "@upstash/redis", "crypto", "node:*"];

const built = path.join(OUT, "worker.js");
if (process.argv.includes("--if-stale") && existsSync(built) && existsSync(path.join(ROOT, "dist/workerd.js")) && statSync(built).mtimeMs >= newestInput(ROOT)) process.exit(0);
if (!existsSync(BUN)) {
  console.error("switchboard: building the Workers bundle needs Bun, a dev dependency: run npm install (without --omit=dev)");
  process.exit(1);
}

function bun(args, what) {
  const result = spawnSync(BUN, ["build", ...args], { cwd: ROOT, encoding: "utf8" });
  if (result.status === 0) return;
  process.stderr.write(result.stdout ?? "");
  process.stderr.write(result.stderr ?? "");
  console.error(`switchboard: building ${what} failed${result.error ? `: ${result.error.message}` : ""}`);
  process.exit(1);
}

rmSync(OUT, { recursive: true, force: true });
bun(["runtimes/workers/worker.ts", "--target=browser", "--format=esm", "--splitting", "--outdir", OUT,
  "--chunk-naming", "chunks/[name]-[hash].[ext]", ...EXTERNAL.flatMap((e) => ["--external", e])], "dist/workers/");
bun(["runtimes/workerd.ts", "--target=node", "--format=esm", "--packages=external", "--outfile", path.join(ROOT, "dist/workerd.js")], "dist/workerd.js");
