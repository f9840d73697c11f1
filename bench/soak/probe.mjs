// Preloaded into the server under soak (node --import, bun --preload, deno --preload) because the
// server exposes no timer count and cannot be asked to collect garbage: on SIGUSR2 it forces a
// full GC and prints one line, `SOAK_PROBE {"seq":…,"timers":…,"intervals":…,"rss":…,"heapUsed":…}`.
// Timers are counted by wrapping the global timer functions (the server's Timers call them at
// call time, runtimes/cli.ts unrefTimers), so a timer a library takes from node:timers directly
// is not seen. Plain JavaScript so every runtime loads it without a transpiler.
/* global Deno, Bun */
const live = new Map(); // handle -> "timeout" | "interval"

function wrap(original, kind, forget) {
  const wrapper = function (fn, ms, ...args) {
    let handle;
    const cb = typeof fn === "function" && forget
      ? function (...a) {
        live.delete(handle);
        return fn.apply(this, a);
      }
      : fn;
    handle = original.call(globalThis, cb, ms, ...args);
    live.set(handle, kind);
    return handle;
  };
  // Keep what hangs off the originals (Node's util.promisify.custom, for one).
  for (const key of Reflect.ownKeys(original)) {
    if (key in wrapper) continue;
    try {
      Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(original, key));
    } catch {
      // non-configurable: not needed
    }
  }
  return wrapper;
}

function wrapClear(original) {
  return function (handle) {
    live.delete(handle);
    return original.call(globalThis, handle);
  };
}

globalThis.setTimeout = wrap(globalThis.setTimeout, "timeout", true);
globalThis.setInterval = wrap(globalThis.setInterval, "interval", false);
globalThis.clearTimeout = wrapClear(globalThis.clearTimeout);
globalThis.clearInterval = wrapClear(globalThis.clearInterval);

function collect() {
  if (typeof Bun !== "undefined") Bun.gc(true);
  else if (typeof globalThis.gc === "function") globalThis.gc(); // node --expose-gc, deno --v8-flags=--expose-gc
}

function memory() {
  const m = typeof Deno !== "undefined" ? Deno.memoryUsage() : process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal };
}

let seq = 0;

function report() {
  collect();
  let intervals = 0;
  for (const kind of live.values()) if (kind === "interval") intervals++;
  const line = JSON.stringify({ seq: ++seq, timers: live.size, intervals, gc: typeof Bun !== "undefined" || typeof globalThis.gc === "function", ...memory() });
  if (typeof Deno !== "undefined") Deno.stderr.writeSync(new TextEncoder().encode(`SOAK_PROBE ${line}\n`));
  else process.stderr.write(`SOAK_PROBE ${line}\n`);
}

if (typeof Deno !== "undefined") Deno.addSignalListener("SIGUSR2", report);
else process.on("SIGUSR2", report);
