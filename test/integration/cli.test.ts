// The command line as a person meets it, on every runtime (SWITCHBOARD_RUNTIME): --version and
// --help answer and exit 0, and a port already in use is one line and a non-zero exit.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runtimeCommand, startServer } from "../helpers/server.ts";

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** Runs the server's command with `args` and returns its exit code and output. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, baseArgs] = runtimeCommand();
  const child = spawn(cmd, [...baseArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("command line", () => {
  it("--version prints the package version and exits 0", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("--help and -h print every option with its variable and exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout } = await run([flag]);
      expect(code).toBe(0);
      expect(stdout).toContain(`Switchboard ${VERSION}`);
      expect(stdout).toMatch(/--port, PORT {2}\(default 6001\)/);
      expect(stdout).toContain("--adapter-driver, ADAPTER_DRIVER");
    }
  });

  it("a port already in use is one line naming it, and a non-zero exit", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as AddressInfo).port;
    const error = await startServer({ env: { PORT: String(port) } }).then(() => null, (e: Error) => e);
    await new Promise((resolve) => holder.close(resolve));
    expect(error?.message).toMatch(/exited with [1-9]\d* before listening/);
    expect(error?.message).toContain(`switchboard: error: port ${port} on 127.0.0.1 is already in use (set PORT or --port)`);
    expect(error?.message, "no stack trace").not.toMatch(/\n\s+at /);
  });
});
