// The linux-arm64 binary under qemu-user: it must start on the embedded defaults and answer a
// Pusher handshake and a subscribe. Not part of `npm test` (emulated start-up takes ~10 s and
// needs Debian's qemu-user and the arm64 C library):
//   apt-get install qemu-user libc6-arm64-cross
//   npm run test:binary-arm64           # builds dist/binaries/switchboard-linux-arm64 when missing
// Skips with a message (exit 0) where qemu-aarch64 or the arm64 C library is missing, unless
// CI=true, where that is a failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BINARY = path.join(ROOT, "dist/binaries/switchboard-linux-arm64");
const SYSROOT = process.env.QEMU_LD_PREFIX ?? "/usr/aarch64-linux-gnu";

function skip(reason) {
  if (process.env.CI === "true") {
    console.error(`arm64 binary: cannot run: ${reason}`);
    process.exit(1);
  }
  console.log(`arm64 binary: skipped: ${reason}`);
  process.exit(0);
}

const qemu = spawnSync("sh", ["-c", "command -v qemu-aarch64 || command -v qemu-aarch64-static"], { encoding: "utf8" }).stdout.trim();
if (!qemu) skip("qemu-aarch64 is not installed (apt-get install qemu-user)");
if (!existsSync(path.join(SYSROOT, "lib/ld-linux-aarch64.so.1"))) skip(`no arm64 C library in ${SYSROOT} (apt-get install libc6-arm64-cross)`);
if (!existsSync(BINARY)) {
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts/build-binaries.mjs"), "linux-arm64"], { stdio: "inherit" });
  if (built.status !== 0) process.exit(1);
}

const server = spawn(qemu, ["-L", SYSROOT, BINARY, "--port", "0", "--bind-address", "127.0.0.1", "--metrics-enabled", "false"], {
  env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
});
let output = "";
const fail = (message) => {
  console.error(`arm64 binary: FAIL: ${message}\n--- server output ---\n${output}`);
  server.kill("SIGKILL");
  process.exit(1);
};
const deadline = setTimeout(() => fail("no handshake within 120 s"), 120_000);
server.on("exit", (code) => fail(`the binary exited with ${code}`));

const started = new Promise((resolve) => {
  const check = (chunk) => {
    output += chunk;
    const port = /listening on [\d.]+:(\d+)/.exec(output);
    const app = /app_id=\S+ key=(\S+)/.exec(output);
    if (port && app) resolve({ port: Number(port[1]), key: app[1] });
  };
  server.stdout.on("data", check);
  server.stderr.on("data", check);
});

const { port, key } = await started;
const socket = new WebSocket(`ws://127.0.0.1:${port}/app/${key}?protocol=7&client=js&version=8.4.0`);
socket.on("error", (error) => fail(`WebSocket error: ${error.message}`));
socket.on("message", (data) => {
  const frame = JSON.parse(String(data));
  if (frame.event === "pusher:connection_established") {
    socket.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: "arm64" } }));
  } else if (frame.event === "pusher_internal:subscription_succeeded" && frame.channel === "arm64") {
    clearTimeout(deadline);
    console.log(`arm64 binary: ok: ${path.relative(ROOT, BINARY)} under ${path.basename(qemu)} answered the handshake and a subscribe`);
    socket.close();
    server.removeAllListeners("exit");
    server.kill("SIGKILL");
    process.exit(0);
  } else if (frame.event === "pusher:error") {
    fail(`pusher:error ${JSON.stringify(frame.data)}`);
  }
});
