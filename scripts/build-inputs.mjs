// What both bundle builds (build.mjs, build-workers.mjs) are made from, for their --if-stale checks.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

/** Newest modification time among package.json, src/ and runtimes/ under `root`. */
export function newestInput(root) {
  let newest = statSync(path.join(root, "package.json")).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(path.join(root, "src"));
  walk(path.join(root, "runtimes"));
  return newest;
}
