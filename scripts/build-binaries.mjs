// Cross-compiles the single binary for every platform the peers ship, with Bun's --compile
// (Bun fetches each target's runtime from the npm registry), and writes SHA256SUMS beside them.
//   npm run build:binaries                          # all targets into dist/binaries/
//   npm run build:binaries -- linux-x64 linux-arm64 # only these
// Every binary bundles runtimes/bun.ts and its dependencies; it needs nothing installed to run.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUN = path.join(ROOT, "node_modules/.bin/bun");
const OUT = path.join(ROOT, "dist/binaries");

/** Our platform name → Bun's --target. */
export const TARGETS = {
  "linux-x64": "bun-linux-x64",
  "linux-x64-musl": "bun-linux-x64-musl",
  "linux-arm64": "bun-linux-arm64",
  "linux-arm64-musl": "bun-linux-arm64-musl",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
  "windows-x64": "bun-windows-x64",
};

const asked = process.argv.slice(2);
for (const name of asked) {
  if (!(name in TARGETS)) {
    console.error(`build:binaries: unknown target "${name}" (use ${Object.keys(TARGETS).join(", ")})`);
    process.exit(2);
  }
}
const selected = asked.length ? asked : Object.keys(TARGETS);
mkdirSync(OUT, { recursive: true });

const sums = [];
for (const name of selected) {
  const file = `switchboard-${name}${name.startsWith("windows") ? ".exe" : ""}`;
  const result = spawnSync(BUN, ["build", "--compile", `--target=${TARGETS[name]}`, "runtimes/bun.ts", "--outfile", path.join(OUT, file)], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) {
    process.stderr.write(result.stdout ?? "");
    process.stderr.write(result.stderr ?? "");
    console.error(`build:binaries: ${name} failed${result.error ? `: ${result.error.message}` : ""}`);
    process.exit(1);
  }
  const bytes = readFileSync(path.join(OUT, file));
  sums.push(`${createHash("sha256").update(bytes).digest("hex")}  ${file}`);
  console.log(`${file.padEnd(32)} ${(statSync(path.join(OUT, file)).size / 1e6).toFixed(1).padStart(6)} MB`);
}
writeFileSync(path.join(OUT, "SHA256SUMS"), sums.join("\n") + "\n");
console.log(`dist/binaries/SHA256SUMS: ${sums.length} files (check with: cd dist/binaries && sha256sum -c SHA256SUMS)`);
