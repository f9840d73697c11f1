// A driver that is not selected must never load its client library: start-up and the single
// binary stay lean, and a deployment on the local adapter does not need Redis or NATS code at all.
// The server runs in its own process with a resolve hook that records every module it loads.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/server.ts";

const FIXTURES = path.join(ROOT, "test/drivers/fixtures");
const CLIENT_LIBRARIES = ["ioredis", "nats.ws", "@upstash/redis"];
const scratch = mkdtempSync(path.join(tmpdir(), "switchboard-loads-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let runs = 0;

/**
 * Runs `node [--import tsx] --import record-loads.mjs <args>` and returns the packages it loaded.
 * With `untilListening`, the process is a server: it is stopped (SIGTERM) once it listens.
 */
function loadedPackages(args: string[], options: { tsx: boolean; untilListening: boolean; env?: Record<string, string> }): Promise<Set<string>> {
  const log = path.join(scratch, `run-${++runs}.log`);
  const child = spawn(
    process.execPath,
    [...(options.tsx ? ["--import", "tsx"] : []), "--import", path.join(FIXTURES, "record-loads.mjs"), ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOAD_LOG: log,
        PORT: "0", METRICS_PORT: "0", BIND_ADDRESS: "127.0.0.1", SHUTDOWN_GRACE_PERIOD_MS: "0",
        APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const onData = (d: Buffer) => {
    out += d;
    if (options.untilListening && /listening on /.test(out)) child.kill("SIGTERM");
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`exited with ${code}:\n${out}`));
      if (options.untilListening && !/listening on /.test(out)) return reject(new Error(`never listened:\n${out}`));
      const packages = new Set<string>();
      for (const url of readFileSync(log, "utf8").split("\n")) {
        const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
        if (m) packages.add(m[1]!);
      }
      resolve(packages);
    });
  });
}

describe("drivers load lazily", () => {
  // (The nats driver itself imports nats.ws only when it connects.)
  it("the probe sees a driver's client library once that driver is loaded", async () => {
    const loader = path.join(FIXTURES, "load-driver.ts");
    expect(await loadedPackages([loader, "adapter", "redis"], { tsx: true, untilListening: false })).toContain("ioredis");
    expect(await loadedPackages([loader, "adapter", "upstash"], { tsx: true, untilListening: false })).toContain("@upstash/redis");
  });

  it("a server on the local adapter and the memory app store loads no client library (source)", async () => {
    const packages = await loadedPackages([path.join(ROOT, "runtimes/node.ts")], { tsx: true, untilListening: true });
    expect(packages).toContain("ws"); // the probe saw the server's own packages
    for (const library of CLIENT_LIBRARIES) expect(packages, library).not.toContain(library);
  });

  it.skipIf(!existsSync(path.join(ROOT, "dist/node.js")))("the same holds for the bundle, dist/node.js", async () => {
    const packages = await loadedPackages([path.join(ROOT, "dist/node.js")], { tsx: false, untilListening: true });
    expect(packages).toContain("ws");
    for (const library of CLIENT_LIBRARIES) expect(packages, library).not.toContain(library);
  });
});
