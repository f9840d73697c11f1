// The harness side of probe.mjs: SIGUSR2 to the server, then wait for its numbered answer line.
import { sleep } from "./lib.ts";

export interface Probe {
  seq: number;
  timers: number;
  intervals: number;
  /** False when the runtime could not be made to collect (the numbers are then less steady). */
  gc: boolean;
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

export function probeReader(pid: number, output: () => string): (timeoutMs?: number) => Promise<Probe> {
  let seq = 0;
  return async (timeoutMs = 10_000) => {
    const want = ++seq;
    process.kill(pid, "SIGUSR2");
    const deadline = Date.now() + timeoutMs;
    const pattern = new RegExp(`SOAK_PROBE (\\{"seq":${want},[^\\n]*\\})`);
    for (;;) {
      const m = pattern.exec(output());
      if (m) return JSON.parse(m[1]!) as Probe;
      if (Date.now() > deadline) throw new Error(`no probe answer ${want} within ${timeoutMs} ms (was the server started with bench/soak/probe.mjs?)`);
      await sleep(50);
    }
  };
}
