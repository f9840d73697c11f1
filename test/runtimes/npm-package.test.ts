// The npm package as a user gets it: `npm pack` (which builds dist/ first), then
// `npm install -g` of the tarball into a temporary prefix. The installed `switchboard` must print
// its version, start on the embedded defaults (a development app whose printed credentials a
// pusher-js client connects and subscribes with), run `apps` and `migrate`, and `npx` must run it
// from the tarball. The tarball must carry what the server needs at run time and nothing else.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connected, once, pusherClient, sdk } from "../helpers/clients.ts";
import { ROOT, type TestServer } from "../helpers/server.ts";
import pkg from "../../package.json" with { type: "json" };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
// Only the package's own environment: no APP_* or PORT from the shell running the tests.
const cleanEnv = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...extra });

describe("the npm package", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "switchboard-pack-"));
  const prefix = path.join(scratch, "prefix");
  const bin = path.join(prefix, "bin", "switchboard");
  let tarball = "";
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    // The suite runs after `npm run build`; --ignore-scripts skips prepack's rebuild, which would
    // replace dist/ under the other test files' servers while they start.
    expect(existsSync(path.join(ROOT, "dist/node.js")), "dist/node.js (npm run build)").toBe(true);
    const packed = await run(npm, ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], { timeout: 120_000 });
    expect(packed.code, packed.stderr).toBe(0);
    tarball = path.join(scratch, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    // --prefer-offline: the dependencies are in npm's cache already (this checkout installed them).
    const installed = await run(npm, ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: scratch, timeout: 300_000 });
    expect(installed.code, installed.stderr).toBe(0);
  }, 420_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => server!.once("exit", r));
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it("carries the built server, its bin and example config, and no tests, benches or sources", async () => {
    const dry = await run(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"]);
    const files = (JSON.parse(dry.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const needed of ["package.json", "bin/switchboard.js", "dist/node.js", "config/switchboard.example.json"]) expect(files).toContain(needed);
    expect(files.some((f) => f.startsWith("dist/chunks/")), "dist/chunks/ (the lazily loaded drivers)").toBe(true);
    const unwanted = files.filter((f) => /^(test|bench|src|runtimes|scripts|docs|\.ci)\//.test(f) || /^dist\/(switchboard|binaries)/.test(f) || f.endsWith(".ts"));
    expect(unwanted).toEqual([]);
    expect(pkg.bin.switchboard).toBe("bin/switchboard.js");
    expect("private" in pkg).toBe(false);
  });

  it("switchboard --version prints the package's version", async () => {
    const version = await run(bin, ["--version"], { cwd: scratch, env: cleanEnv() });
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it("starts on the embedded defaults, and pusher-js connects with the printed credentials", async () => {
    server = spawn(bin, ["--port", "0", "--metrics-port", "0", "--bind-address", "127.0.0.1"], { cwd: scratch, env: cleanEnv() });
    let output = "";
    server.stdout!.on("data", (d) => (output += d));
    server.stderr!.on("data", (d) => (output += d));
    const started = await new Promise<{ port: number; appId: string; key: string; secret: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up lines within 30 s:\n${output}`)), 30_000);
      const check = () => {
        const port = /listening on [\d.]+:(\d+)/.exec(output);
        const app = /app_id=(\S+) key=(\S+) secret=(\S+)/.exec(output);
        if (port && app) {
          clearTimeout(timer);
          resolve({ port: Number(port[1]), appId: app[1]!, key: app[2]!, secret: app[3]! });
        }
      };
      server!.stdout!.on("data", check);
      server!.stderr!.on("data", check);
      server!.once("exit", (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    const target: TestServer = { ...started, host: "127.0.0.1", output: () => output, process: server, stop: async () => {}, kill: async () => {} };
    const client = pusherClient(target);
    try {
      await connected(client);
      const channel = client.subscribe("installed");
      await once(channel, "pusher:subscription_succeeded");
      const got = once<{ from: string }>(channel, "hello");
      await sdk(target).trigger("installed", "hello", { from: "npm install -g" });
      expect((await got).from).toBe("npm install -g");
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it("runs `switchboard apps` and `switchboard migrate` on the configured store", async () => {
    const apps = path.join(scratch, "apps.json");
    writeFileSync(apps, JSON.stringify([{ id: "42", key: "installed-key", secret: "installed-secret" }]));
    const listed = await run(bin, ["apps", "list", "--json"], { cwd: scratch, env: cleanEnv({ APP_STORE_DRIVER: "file", APP_STORE_FILE: apps }) });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: "42", key: "installed-key" })]);
    // The memory store has no table to create: migrate says so and exits 64 (usage).
    const migrate = await run(bin, ["migrate"], { cwd: scratch, env: cleanEnv() });
    expect(migrate.code).toBe(64);
    expect(migrate.stderr).toMatch(/nothing to migrate: APP_MANAGER_DRIVER is memory/);
  });

  it("npx runs it from the tarball", async () => {
    const npx = await run(process.platform === "win32" ? "npx.cmd" : "npx", ["--yes", "--prefer-offline", "--package", tarball, "switchboard", "--version"], {
      cwd: scratch,
      env: { npm_config_cache: process.env.npm_config_cache ?? path.join(process.env.HOME ?? "/tmp", ".npm") },
      timeout: 300_000,
    });
    expect(npx.stdout.trim(), npx.stderr).toBe(pkg.version);
  }, 320_000);
});
