// runtimes/cli.ts is every entrypoint's main: exit codes, one-line start failures, signals and
// the graceful stop are the same on Node, Deno and Bun because they all go through it.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Instance } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config/load.ts";
import { EXIT_CONFIG, EXIT_START_FAILED, gracefulStop, listenProblem, runMain, type Host } from "../../runtimes/cli.ts";

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * A Host that records exits and signal listeners instead of acting on the process. Its exit
 * throws, as a real one never returns, except where runMain calls it from a callback
 * (`throwOnExit: false`), where a throw would only surface as an unhandled rejection.
 */
function fakeHost(argv: string[] = [], { throwOnExit = true } = {}) {
  const signals = new Map<string, () => void>();
  const exits: number[] = [];
  const host: Host = {
    argv,
    env: { ENV_FILE: "" },
    readFileSync: () => "{}",
    exit: (code) => {
      exits.push(code);
      if (throwOnExit) throw new Exit(code);
      return undefined as never;
    },
    onSignal: (signal, listener) => void signals.set(signal, listener),
    onUnhandledRejection: () => {},
  };
  /** Delivers a signal; an exit it causes is recorded, not thrown. */
  const signal = (name: string) => {
    try {
      signals.get(name)!();
    } catch (error) {
      if (!(error instanceof Exit)) throw error;
    }
  };
  return { host, exits, signals, signal };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => vi.restoreAllMocks());

describe("listenProblem", () => {
  const config = { port: 6001, bindAddress: "0.0.0.0" };
  it("turns each runtime's listen errors into one line naming what to change", () => {
    const inUse = "port 6001 on 0.0.0.0 is already in use (set PORT or --port)";
    expect(listenProblem(Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" }), config)).toBe(inUse); // Node, Bun
    expect(listenProblem(Object.assign(new Error("Address already in use"), { name: "AddrInUse" }), config)).toBe(inUse); // Deno
    expect(listenProblem({ code: "EACCES" }, config)).toMatch(/no permission to listen on port 6001/);
    expect(listenProblem({ code: "EADDRNOTAVAIL" }, config)).toMatch(/BIND_ADDRESS/);
    expect(listenProblem(new Error("something else"), config)).toBeUndefined();
    expect(listenProblem(undefined, config)).toBeUndefined();
  });
});

describe("runMain", () => {
  it("--version and --help print and exit 0 without starting", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    for (const flag of ["--version", "--help", "-h"]) {
      const { host, exits } = fakeHost([flag]);
      const start = vi.fn();
      expect(() => runMain(host, start)).toThrow(Exit);
      expect(exits).toEqual([0]);
      expect(start).not.toHaveBeenCalled();
    }
    expect(log).toHaveBeenCalledTimes(3);
  });

  it("a bad setting exits 78 with one line", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const { host, exits } = fakeHost(["--port", "abc"]);
    expect(() => runMain(host, vi.fn())).toThrow(Exit);
    expect(exits).toEqual([EXIT_CONFIG]);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/^switchboard: configuration error: invalid value for --port/));
  });

  it("a port in use exits 1 with one line and no stack trace", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const { host, exits } = fakeHost(["--port", "7000"], { throwOnExit: false });
    runMain(host, () => Promise.reject(Object.assign(new Error("listen EADDRINUSE: address already in use"), { code: "EADDRINUSE" })));
    await tick();
    expect(exits).toEqual([EXIT_START_FAILED]);
    expect(error).toHaveBeenCalledWith("switchboard: error: port 7000 on 0.0.0.0 is already in use (set PORT or --port)");
  });

  it("listens for signals before starting: one during start-up exits at once", () => {
    const { host, exits, signals, signal } = fakeHost();
    runMain(host, () => new Promise(() => {}));
    expect([...signals.keys()].sort()).toEqual(["SIGHUP", "SIGINT", "SIGTERM"]);
    signal("SIGTERM");
    expect(exits).toEqual([0]);
  });

  it("SIGHUP calls the started server's reload, and is ignored (not fatal) before that", async () => {
    const { host, exits, signal } = fakeHost([], { throwOnExit: false });
    const reload = vi.fn();
    let started!: (value: { stop(): Promise<void>; reload(): void }) => void;
    runMain(host, () => new Promise((resolve) => (started = resolve)));
    signal("SIGHUP");
    expect(exits).toEqual([]);
    started({ stop: async () => {}, reload });
    await tick();
    signal("SIGHUP");
    expect(reload).toHaveBeenCalledTimes(1);
    expect(exits).toEqual([]);
  });

  it("a signal once started stops gracefully, then exits 0; a second one exits at once", async () => {
    const { host, exits, signal } = fakeHost([], { throwOnExit: false });
    let finish!: () => void;
    const stop = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    runMain(host, async () => ({ stop }));
    await tick();
    signal("SIGTERM");
    expect(stop).toHaveBeenCalledTimes(1);
    expect(exits).toEqual([]);
    signal("SIGINT");
    expect(exits).toEqual([0]);
    finish();
    await tick();
    expect(exits).toEqual([0, 0]);
  });
});

describe("gracefulStop", () => {
  it("drains at once, keeps serving the whole grace period, then stops the instance, then closes the listener, once", async () => {
    const config = loadConfig({ argv: ["--shutdown-grace-period-ms", "120"], env: {}, readFile: () => "" });
    const order: string[] = [];
    const started = Date.now();
    const after = () => (Date.now() - started >= 115 ? "the period" : "too little");
    const instance = {
      logger: { info: () => {} },
      drain: () => void order.push(`drain after ${Date.now() - started < 50 ? "nothing" : "a wait"}`),
      stop: async () => void order.push(`stop after ${after()}`),
    } as unknown as Instance;
    const stop = gracefulStop(config, instance, async () => void order.push("close"));
    await Promise.all([stop(), stop()]);
    // The stop (sockets closed, adapter stopped) comes after the period, not before it (issue 21).
    expect(order).toEqual(["drain after nothing", "stop after the period", "close"]);
  });
});
