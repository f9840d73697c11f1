// Summarizes a V8 .cpuprofile (from `bench/run.ts --profile`): self time by function and by
// package/file, so "where does the server's time go" has a short, shareable answer.
//   bun bench/profile.ts bench/profiles/CPU.*.cpuprofile [--top 30] [--bursts]
// --bursts: each busy stretch (start-up, every storm, every close) summarized on its own, so a
// fresh process's first storm can be set against a later one (bench/README.md, cold and warm).
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<pkg>, node:internal, dist/node.js, or (program)/(garbage collector). */
function bucket(frame: ProfileNode["callFrame"]): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return url.replace(/^node:(internal\/)?/, "node:").split("/").slice(0, 2).join("/");
  return url.replace(/^file:\/\/.*?\/(dist|src|runtimes)\//, "$1/");
}

/** [from, to) sample indexes of the stretches busy for >30 % of each 100 ms, split at 300 ms idle. */
function bursts(profile: Profile, byId: Map<number, ProfileNode>): [number, number][] {
  const STEP = 100_000;
  const busy = new Map<number, number>();
  const at: number[] = [];
  let t = 0;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    at.push(t);
    if (byId.get(id)!.callFrame.functionName !== "(idle)") busy.set(Math.floor(t / STEP), (busy.get(Math.floor(t / STEP)) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const out: [number, number][] = [];
  let from = -1;
  let last = -1;
  for (let b = 0; b <= Math.floor(t / STEP) + 3; b++) {
    if ((busy.get(b) ?? 0) > STEP * 0.3) {
      if (from < 0) from = b;
      last = b;
    } else if (from >= 0 && b - last > 2) {
      const first = at.findIndex((x) => x >= from * STEP);
      const end = at.findIndex((x) => x >= (last + 1) * STEP);
      out.push([first, end < 0 ? at.length : end]);
      from = -1;
    }
  }
  return out;
}

function summarize(file: string, top: number, split: boolean): void {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  if (!split) return summarizeRange(file, profile, byId, top, 0, profile.samples.length);
  for (const [from, to] of bursts(profile, byId)) summarizeRange(`${file} samples ${from}–${to}`, profile, byId, top, from, to);
}

function summarizeRange(title: string, profile: Profile, byId: Map<number, ProfileNode>, top: number, from: number, to: number): void {
  const self = new Map<number, number>();
  let total = 0;
  for (let i = from; i < to; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  }
  const byFunction = new Map<string, number>();
  const byBucket = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url ? `${bucket(frame)}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byBucket.set(bucket(frame), (byBucket.get(bucket(frame)) ?? 0) + us);
  }
  const busy = total - (byBucket.get("(idle)") ?? 0);
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %`;
  const print = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n${title} (share of non-idle time)`);
    for (const [key, us] of [...map].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
    }
  };
  console.log(`${title}\n  sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)} %)`);
  print("By package / file", byBucket, 20);
  print("Top functions by self time", byFunction, top);
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
const burstsAt = args.indexOf("--bursts");
if (burstsAt >= 0) args.splice(burstsAt, 1);
if (args.length === 0) {
  console.error("usage: bun bench/profile.ts <file.cpuprofile>... [--top N]");
  process.exit(1);
}
for (const file of args) summarize(file, top, burstsAt >= 0);
