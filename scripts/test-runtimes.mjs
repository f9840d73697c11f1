// Runtime matrix: builds dist/node.js and dist/switchboard, then runs the integration suite once
// per runtime (SWITCHBOARD_RUNTIME picks how test/helpers/server.ts starts the server).
//   npm run test:runtimes                    # node node22 node24 deno bun binary
//   npm run test:runtimes -- deno bun        # just these
//   npm run test:runtimes -- --no-build bun  # reuse dist/
//   npm run test:runtimes -- bun test/integration/tls.test.ts   # only these files (paths under test/)
// Exits non-zero if any runtime had a failing test or could not run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ALL = ["node", "node22", "node24", "deno", "bun", "binary"];
const args = process.argv.slice(2);
const build = !args.includes("--no-build");
const isFile = (a) => a.includes("/");
const files = args.filter(isFile);
const runtimes = args.filter((a) => !a.startsWith("--") && !isFile(a));
for (const r of runtimes) if (!ALL.includes(r)) fail(`unknown runtime "${r}" (use ${ALL.join(", ")}; test files as paths, e.g. test/integration/tls.test.ts)`);
const selected = runtimes.length ? runtimes : ALL;

function fail(message) {
  console.error(`test:runtimes: ${message}`);
  process.exit(2);
}

function run(cmd, cmdArgs, env = {}) {
  return spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...env } }).status;
}

const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
if (build) {
  if (run(npm[0], [...npm.slice(1), "run", "build", "--silent"]) !== 0) fail("npm run build failed");
  if (selected.includes("binary") && run(npm[0], [...npm.slice(1), "run", "build:binary", "--silent"]) !== 0) fail("npm run build:binary failed");
}
for (const line of ["22", "24"]) {
  if (!selected.includes(`node${line}`) || existsSync(path.join(ROOT, `test/node${line}/node_modules/node/bin/node`))) continue;
  console.log(`Node ${line} is not in test/node${line} yet: installing it (once; about 190 MB)`);
  if (run(process.execPath, [path.join(ROOT, "scripts/install-node.mjs"), line]) !== 0) fail(`installing Node ${line} failed`);
}

const vitest = path.join(ROOT, "node_modules/vitest/vitest.mjs");
const scratch = mkdtempSync(path.join(tmpdir(), "switchboard-matrix-"));
const results = [];
for (const runtime of selected) {
  console.log(`\n=== integration tests on ${runtime} ===`);
  const report = path.join(scratch, `${runtime}.json`);
  const status = run(process.execPath, [vitest, "run", ...(files.length ? files : ["test/integration"]), "--reporter=default", "--reporter=json", `--outputFile.json=${report}`], {
    SWITCHBOARD_RUNTIME: runtime,
  });
  let counts = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, "utf8"));
    counts = { passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + (json.numTodoTests ?? 0) };
  }
  // A crash before any test ran still counts as a failure of that runtime.
  results.push({ runtime, ok: status === 0, ...counts, failed: status === 0 ? counts.failed : Math.max(1, counts.failed) });
}
rmSync(scratch, { recursive: true, force: true });

console.log("\nRuntime matrix (test/integration):");
for (const r of results) console.log(`  ${r.ok ? "ok  " : "FAIL"} ${r.runtime.padEnd(7)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
const total = results.reduce((t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed }), { passed: 0, failed: 0 });
console.log(`runtimes: ${total.passed} passed, ${total.failed} failed`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
