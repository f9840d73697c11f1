// Helpers shared by the soak and chaos runs: flags, signed REST reads that leave no keep-alive
// socket behind, the trend fit, the probe, and the report file.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import type { AppCredentials } from "../lib/server.ts";
import { ROOT } from "../lib/server.ts";
import { hmacHex } from "../lib/sign.ts";

/** `--name value` and `--flag` pairs; numbers where the default is a number. */
export function parseFlags<T extends Record<string, string | number | boolean>>(argv: string[], defaults: T, help: string): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(help);
      process.exit(0);
    }
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}\n${help}`);
    const key = arg.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (key.startsWith("no") && typeof defaults[key[2]!.toLowerCase() + key.slice(3)] === "boolean") {
      out[key[2]!.toLowerCase() + key.slice(3)] = false;
      continue;
    }
    if (!(key in defaults)) throw new Error(`unknown option ${arg}\n${help}`);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    const number = typeof defaults[key] === "number";
    if (number && !Number.isFinite(Number(value))) throw new Error(`${arg} expects a number, got ${value}`);
    out[key] = number ? Number(value) : value;
  }
  return out as T;
}

/**
 * A signed GET over a fresh connection that is closed after the answer (agent: false), so the
 * checks never hold a keep-alive socket open in the server while its descriptors are counted.
 */
export function restGet(port: number, app: AppCredentials, apiPath: string, timeoutMs = 5000): Promise<{ status: number; body: any }> {
  const full = apiPath.startsWith("/apps/") ? apiPath : `/apps/${app.id}${apiPath}`;
  const [pathname, extra] = full.split("?");
  // Extra query parameters are part of the signed string (spec §6.2), sorted with auth_*.
  const params: [string, string][] = [...new URLSearchParams(extra ?? "")];
  params.push(["auth_key", app.key], ["auth_timestamp", String(Math.floor(Date.now() / 1000))], ["auth_version", "1.0"]);
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = params.map(([k, v]) => `${k}=${v}`).join("&");
  const signature = hmacHex(app.secret, `GET\n${pathname}\n${query}`);
  return plainGet(port, `${pathname}?${query}&auth_signature=${signature}`, timeoutMs);
}

export function plainGet(port: number, url: string, timeoutMs = 5000): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: url, agent: false, timeout: timeoutMs, headers: { connection: "close" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Theil–Sen slope (median of the pairwise slopes) of y over x: one noisy sample, such as a GC
 * that ran late or a page the allocator kept, cannot make a trend on its own, as it could with
 * least squares on a dozen points.
 */
export function theilSen(ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < ys.length; i++) for (let j = i + 1; j < ys.length; j++) slopes.push((ys[j]! - ys[i]!) / (j - i));
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const m = slopes.length >> 1;
  return slopes.length % 2 ? slopes[m]! : (slopes[m - 1]! + slopes[m]!) / 2;
}

/** Open descriptors of a process (sockets, pipes, files), from /proc/<pid>/fd. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

export function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "", memoryMb: Math.round(os.totalmem() / 2 ** 20), load1: os.loadavg()[0] };
}

/** Writes the run's JSON to bench/results/<name>-<timestamp>.json (or `out`); returns the path. */
export function writeReport(name: string, report: unknown, out?: string): string {
  const file = out ?? path.join(ROOT, "bench/results", `${name}-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  return path.relative(ROOT, file);
}

/** Fixed-width table for the terminal. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join("  ")).join("\n");
}

export const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Runs fn over items with at most `limit` in flight. */
export async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}
