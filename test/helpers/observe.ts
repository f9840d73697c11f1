// Reading what a test server reports about itself: its metrics listener and its JSON log lines.
import type { TestServer } from "./server.ts";

/** The metrics port the server logged ("metrics at http://host:PORT/metrics"). */
export function metricsPort(server: TestServer): number {
  const m = /metrics at http:\/\/[^\s:]+:(\d+)\/metrics/.exec(server.output());
  if (!m) throw new Error(`no metrics line in the server's output:\n${server.output()}`);
  return Number(m[1]);
}

/** One scrape as "name{labels}" → value (labels as printed). */
export async function scrape(server: TestServer): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${metricsPort(server)}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of a series over the label sets that contain every `labels` fragment (e.g. 'app_id="app-id"'). */
export function total(samples: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf("{");
    const series = brace < 0 ? key : key.slice(0, brace);
    if (series === name && labels.every((l) => key.includes(l))) sum += value;
  }
  return sum;
}

/** Whether a series name appears in the scrape at all. */
export function has(samples: Map<string, number>, name: string): boolean {
  for (const key of samples.keys()) if (key === name || key.startsWith(`${name}{`)) return true;
  return false;
}

/** The server's output lines that are JSON objects (LOG_FORMAT=json); throws on any other line. */
export function jsonLines(server: TestServer): Record<string, any>[] {
  return server.output().split("\n").filter((l) => l.trim() !== "").map((line) => {
    try {
      return JSON.parse(line) as Record<string, any>;
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  });
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
