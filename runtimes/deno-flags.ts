// The flags Deno runs Switchboard with (npm run start:deno, deno task start and compile in
// deno.json, the bench and test harnesses all use these; keep them in step).
//
// --max-semi-space-size=1 keeps V8's young generation at 1 MB semi-spaces. A burst of handshakes
// otherwise grows them to 16 MB or more, and they stay committed while the server idles: at 5,000
// idle connections that was ~3 KB of RSS per connection, the whole gap to a bare Deno.serve +
// Deno.upgradeWebSocket server (bench/deno-bare.ts; bench/README.md). Node gets the same from
// --semi-space-growth-factor=1, set at run time (runtimes/node-flags.ts); Deno reads heap sizes only from
// its command line (v8.setFlagsFromString at run time has no effect on them).
export const DENO_FLAGS = ["--v8-flags=--max-semi-space-size=1"];
