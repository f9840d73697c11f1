// Types and helpers every scenario shares.
import { BenchSocket, wsUrl } from "../lib/client.ts";
import { CpuMeter, rssKb, SystemCpuMeter, writeSyscalls } from "../lib/proc.ts";
import type { BenchServer } from "../lib/server.ts";
import { pool } from "../lib/stats.ts";
import type { Options } from "../lib/options.ts";

export interface ScenarioContext {
  server: BenchServer;
  options: Options;
  log(message: string): void;
}

export interface ScenarioResult {
  name: string;
  /** False when something was lost, failed or timed out (the table marks it). */
  ok: boolean;
  /** One-line summary for the table. */
  summary: string;
  /** CPU over the measured phase, % of one core (NaN when the server pid is unknown). */
  serverCpuPct: number;
  clientCpuPct: number;
  /** CPU used by everything else on the machine meanwhile, % of one core (noise indicator). */
  otherCpuPct: number;
  seconds: number;
  metrics: Record<string, unknown>;
  notes: string[];
}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;

/** CPU meters for the server process and this client process over one phase. */
export class PhaseMeters {
  private readonly server?: CpuMeter;
  private readonly client = new CpuMeter(process.pid);
  private readonly system = new SystemCpuMeter();
  private readonly start = performance.now();

  private readonly writesAtStart: number;

  constructor(private readonly pid: number | undefined) {
    if (pid) this.server = new CpuMeter(pid);
    this.writesAtStart = pid ? writeSyscalls(pid) : NaN;
  }

  /** Write syscalls the server made during the phase (how well it batches socket writes). */
  serverWrites(): number {
    return this.pid ? writeSyscalls(this.pid) - this.writesAtStart : NaN;
  }

  read(): { serverCpuPct: number; clientCpuPct: number; otherCpuPct: number; seconds: number } {
    const serverCpuPct = this.server ? this.server.percent() : NaN;
    const clientCpuPct = this.client.percent();
    const other = this.system.percent() - clientCpuPct - (Number.isFinite(serverCpuPct) ? serverCpuPct : 0);
    return {
      serverCpuPct,
      clientCpuPct,
      otherCpuPct: Math.max(0, Math.round(other)),
      seconds: Math.round(performance.now() - this.start) / 1000,
    };
  }
}

export function serverRss(ctx: ScenarioContext): number {
  return ctx.server.pid ? rssKb(ctx.server.pid) : NaN;
}

/** Opens `count` sockets, `concurrency` handshakes in flight; failed ones are counted, not thrown. */
export async function connectMany(ctx: ScenarioContext, count: number, concurrency: number, deadline: number) {
  const url = wsUrl(ctx.server.host, ctx.server.port, ctx.server.app.key);
  const { results, failures, errors } = await pool(count, concurrency, () => BenchSocket.connect(url), deadline);
  return { sockets: results.filter((s): s is BenchSocket => s !== undefined), failures, errors };
}

/** Subscribes every socket to a public channel at once; returns how many failed. */
export async function subscribeAll(sockets: BenchSocket[], channel: string, timeoutMs: number): Promise<number> {
  const outcomes = await Promise.allSettled(sockets.map((s) => s.subscribe(channel, undefined, undefined, timeoutMs)));
  return outcomes.filter((o) => o.status === "rejected").length;
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
