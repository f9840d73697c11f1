// Helpers for the debug console's tests: sign in over HTTP, read its server-sent event stream, and
// drive the page in headless Chromium (Debian's chromium package through puppeteer-core).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { requireService } from "../adapters/cluster.ts";
import type { TestServer } from "./server.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CSRF = { "x-switchboard-console": "1", "content-type": "application/json" };

export const consoleUrl = (server: TestServer, rest = "") => `http://${server.host}:${server.port}/console${rest}`;

/** A console API call with the session cookie (if any); the answer's text is kept for secret checks. */
export async function call(server: TestServer, method: string, rest: string, opts: { cookie?: string; body?: unknown; csrf?: boolean } = {}) {
  const headers: Record<string, string> = opts.csrf === false ? { "content-type": "application/json" } : { ...CSRF };
  if (opts.cookie) headers.cookie = opts.cookie;
  const res = await fetch(consoleUrl(server, rest), { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // the page and its assets are not JSON
  }
  return { status: res.status, headers: res.headers, text, json, cookie: res.headers.get("set-cookie")?.split(";")[0] };
}

export interface Row {
  kind: string;
  node: string;
  channel?: string;
  event?: string;
  userId?: string;
  details: string;
}

/** An open /console/api/stream: rows and states as they arrive. */
export interface Stream {
  status: number;
  rows: Row[];
  states: any[];
  raw: string[];
  waitFor(match: (r: Row) => boolean, ms?: number): Promise<Row>;
  waitForState(match: (s: any) => boolean, ms?: number): Promise<any>;
  close(): void;
}

export async function openStream(server: TestServer, cookie: string | undefined, query = ""): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(consoleUrl(server, `/api/stream${query}`), { headers: cookie ? { cookie } : {}, signal: abort.signal });
  const stream: Stream = {
    status: res.status, rows: [], states: [], raw: [],
    waitFor: (match, ms = 5000) => until(() => stream.rows.find(match), ms, "a matching console row", () => JSON.stringify(stream.rows)),
    waitForState: (match, ms = 5000) => until(() => [...stream.states].reverse().find(match), ms, "a matching console state", () => JSON.stringify(stream.states.at(-1))),
    close: () => abort.abort(),
  };
  if (res.status !== 200 || !res.body) {
    stream.raw.push(await res.text());
    return stream;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        stream.raw.push(block);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (event === "events") stream.rows.push(...JSON.parse(data));
        else if (event === "state") stream.states.push(JSON.parse(data));
      }
    }
  })();
  return stream;
}

async function until<T>(probe: () => T | undefined, ms: number, what: string, seen: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; seen: ${seen()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Signs in over HTTP; resolves with the session cookie ("sb_console=..."). */
export async function signIn(server: TestServer, body: Record<string, string>): Promise<string> {
  const res = await call(server, "POST", "/api/session", { body });
  if (res.status !== 200 || !res.cookie) throw new Error(`console sign-in failed: ${res.status} ${res.text}`);
  return res.cookie;
}

/**
 * Headless Chromium, or undefined (and the file skips) when it is not installed; in CI, where
 * .ci/run installs it, a missing browser fails instead. The flags keep Chromium off the network:
 * this machine refuses outside connections, and background fetches would stall the browser.
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> } | undefined> {
  if (!(await requireService(existsSync(CHROMIUM), `headless Chromium (${CHROMIUM}; apt-get install chromium)`))) return undefined;
  const profile = mkdtempSync(path.join(tmpdir(), "sb-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
