// Process measurements read straight from /proc, so they work the same whichever runtime the
// server (or this client) runs on, without asking the measured process for anything.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

let clockTicks = 0;

/** Kernel clock ticks per second for /proc/<pid>/stat (almost always 100). */
function ticksPerSecond(): number {
  if (clockTicks) return clockTicks;
  try {
    clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** Resident set size in KB (VmRSS), or NaN when the process is gone or /proc is missing. */
export function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** write-like system calls (write, writev, send…) the process has made so far (/proc/<pid>/io). */
export function writeSyscalls(pid: number): number {
  try {
    const m = /syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** user+system CPU seconds consumed so far by every thread of the process. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** Soft limit on open files for a process, from /proc/<pid>/limits. */
export function openFileLimit(pid: number | "self" = "self"): number {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    if (!m) return Infinity;
    return m[1] === "unlimited" ? Infinity : Number(m[1]);
  } catch {
    return Infinity;
  }
}

/** CPU use of one process over an interval, as a percentage of one core. */
export class CpuMeter {
  private readonly startCpu: number;
  private readonly startWall = performance.now();

  constructor(private readonly pid: number) {
    this.startCpu = cpuSeconds(pid);
  }

  /** Percent of one core since the meter was created (NaN when unmeasurable). */
  percent(): number {
    const wall = (performance.now() - this.startWall) / 1000;
    const cpu = cpuSeconds(this.pid) - this.startCpu;
    return wall > 0 ? Math.round((cpu / wall) * 1000) / 10 : NaN;
  }
}

/** Busy and total jiffies over all CPUs, from the first line of /proc/stat. */
function systemJiffies(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/**
 * Machine-wide CPU use over an interval, in % of one core (2 busy cores = 200 %). Subtracting
 * the server's and client's own use shows whether something else competed for the CPUs.
 */
export class SystemCpuMeter {
  private readonly start = systemJiffies();
  private readonly startWall = performance.now();

  percent(): number {
    const now = systemJiffies();
    const wall = (performance.now() - this.startWall) / 1000;
    const busySeconds = (now.busy - this.start.busy) / ticksPerSecond();
    return wall > 0 ? Math.round((busySeconds / wall) * 1000) / 10 : NaN;
  }
}
