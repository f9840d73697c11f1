// The V8 flag the Node entrypoint sets at run time (Deno's are in deno-flags.ts).
import { setFlagsFromString } from "node:v8";

/**
 * Keeps V8's young generation at its initial size (1 MB semi-spaces) instead of letting it grow to
 * 16 MB each under an allocation burst such as thousands of handshakes. Grown semi-spaces stay
 * committed while the server idles, since an idle server allocates too little to trigger the GC
 * that would shrink them: that was a fixed ~15–20 MB of RSS, 3 KB per connection at 5000 and 8 KB
 * at 2000. `--max-semi-space-size` would do the same but only works on the command line; this
 * also covers `node dist/node.js`. Passing either flag yourself (command line or NODE_OPTIONS)
 * leaves V8's default growth in place.
 */
export function limitYoungGeneration(execArgv: string[], nodeOptions = ""): boolean {
  if ([...execArgv, nodeOptions].some((arg) => /semi[-_]space/.test(arg))) return false;
  setFlagsFromString("--semi-space-growth-factor=1");
  return true;
}
