// TLS (docs/operating.md, TLS): https:// and wss:// on the server's port with a certificate made here at
// set-up (openssl), pusher-js with forceTLS and the pusher SDK with useTLS end to end, the plain
// HTTP port that redirects, and the certificate reloaded on SIGHUP without dropping connections.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import Pusher from "pusher-js";
import PusherServer from "pusher";
import { waitFor } from "../helpers/observe.ts";
import { RUNTIME, startServer, type TestServer } from "../helpers/server.ts";

// pusher-js and the pusher SDK take no CA option: this process trusts any certificate instead.
// The certificate itself is checked below with an explicit CA (tls.connect with `ca`).
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

const dir = mkdtempSync(path.join(tmpdir(), "switchboard-tls-"));
const file = (name: string) => path.join(dir, name);

/** A self-signed certificate for 127.0.0.1 and localhost; returns the PEM texts. */
function makeCertificate(name: string): { cert: string; key: string } {
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${name}`,
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", file(`${name}.key`), "-out", file(`${name}.crt`),
  ], { stdio: "ignore" });
  return { cert: readFileSync(file(`${name}.crt`), "utf8"), key: readFileSync(file(`${name}.key`), "utf8") };
}

/** The certificate the server presents, verified against `ca`. */
function peerCertificate(port: number, ca: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.once("error", reject);
  });
}

let first: { cert: string; key: string };
let second: { cert: string; key: string };
let server: TestServer;

beforeAll(async () => {
  first = makeCertificate("first");
  second = makeCertificate("second");
  writeFileSync(file("server.crt"), first.cert);
  writeFileSync(file("server.key"), first.key);
  server = await startServer({
    env: { SSL_ENABLED: "true", SSL_CERT_PATH: file("server.crt"), SSL_KEY_PATH: file("server.key"), SSL_HTTP_PORT: "0", ADAPTER_DRIVER: "local" },
  });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  it("serves https:// with the configured certificate", async () => {
    const peer = await peerCertificate(server.port, first.cert);
    expect(peer.subject.CN).toBe("first");
    const res = await fetch(`https://127.0.0.1:${server.port}/up`);
    expect(res.status).toBe(200);
  });

  it("pusher-js with forceTLS receives what the pusher SDK with useTLS triggers", async () => {
    const client = new Pusher(server.key, {
      wsHost: "127.0.0.1", wssPort: server.port, forceTLS: true, enabledTransports: ["ws", "wss"], disableStats: true, cluster: "",
    } as any);
    try {
      await new Promise<void>((resolve, reject) => {
        client.connection.bind("connected", () => resolve());
        client.connection.bind("error", (e: unknown) => reject(new Error(`pusher-js: ${JSON.stringify(e)}`)));
      });
      const channel = client.subscribe("secure");
      await new Promise<void>((resolve) => channel.bind("pusher:subscription_succeeded", () => resolve()));
      const got = new Promise((resolve) => channel.bind("greet", resolve));
      const backend = new PusherServer({ appId: server.appId, key: server.key, secret: server.secret, host: "127.0.0.1", port: String(server.port), useTLS: true });
      expect((await backend.trigger("secure", "greet", { hi: 1 })).status).toBe(200);
      expect(await got).toEqual({ hi: 1 });
    } finally {
      client.disconnect();
    }
  });

  it("the plain HTTP port redirects to https", async () => {
    const m = /plain HTTP on port (\d+) redirects to https on port (\d+)/.exec(server.output());
    expect(m).not.toBeNull();
    const res = await fetch(`http://127.0.0.1:${m![1]}/apps/app-id/channels?x=1`, { redirect: "manual" });
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe(`https://127.0.0.1:${server.port}/apps/app-id/channels?x=1`);
  });

  it("SIGHUP reloads the certificate; an open connection stays open", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/app/${server.key}?protocol=7`, { ca: first.cert, servername: "localhost" } as WebSocket.ClientOptions);
    const frames: string[] = [];
    ws.on("message", (m) => frames.push(m.toString()));
    await waitFor(() => frames.some((f) => f.includes("connection_established")), "the wss connection");
    ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: "kept" } }));
    await waitFor(() => frames.some((f) => f.includes("subscription_succeeded")), "the subscription");

    writeFileSync(file("server.crt"), second.cert);
    writeFileSync(file("server.key"), second.key);
    server.process.kill("SIGHUP");
    if (RUNTIME === "deno") {
      // Deno.serve cannot swap a listener's certificate: the server says so and keeps serving.
      await waitFor(() => /Deno cannot reload the TLS certificate/.test(server.output()), "the warning");
      expect((await peerCertificate(server.port, first.cert)).subject.CN).toBe("first");
    } else {
      await waitFor(() => /TLS certificate and key reloaded/.test(server.output()), "the reload line");
      expect((await peerCertificate(server.port, second.cert)).subject.CN).toBe("second");
    }
    ws.send(JSON.stringify({ event: "pusher:ping", data: {} }));
    await waitFor(() => frames.some((f) => f.includes("pusher:pong")), "a pong on the old connection");
    // Broadcasts still reach it, and a connection made after the reload alike.
    const fresh = new WebSocket(`wss://127.0.0.1:${server.port}/app/${server.key}?protocol=7`, { rejectUnauthorized: false });
    const freshFrames: string[] = [];
    fresh.on("message", (m) => freshFrames.push(m.toString()));
    await waitFor(() => freshFrames.some((f) => f.includes("connection_established")), "a new wss connection");
    fresh.send(JSON.stringify({ event: "pusher:subscribe", data: { channel: "kept" } }));
    await waitFor(() => freshFrames.some((f) => f.includes("subscription_succeeded")), "its subscription");
    const backend = new PusherServer({ appId: server.appId, key: server.key, secret: server.secret, host: "127.0.0.1", port: String(server.port), useTLS: true });
    await backend.trigger("kept", "after-reload", {});
    await waitFor(() => frames.some((f) => f.includes("after-reload")) && freshFrames.some((f) => f.includes("after-reload")), "the event on both");
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    fresh.close();
  });
});

describe("TLS settings", () => {
  it("the start-up hint says forceTLS: true", async () => {
    const dev = await startServer({
      defaultApp: false,
      env: { SSL_ENABLED: "true", SSL_CERT_PATH: file("first.crt"), SSL_KEY_PATH: file("first.key"), ADAPTER_DRIVER: "local" },
    });
    try {
      await waitFor(() => /forceTLS/.test(dev.output()), "the hint");
      expect(dev.output()).toMatch(/wssPort: \d+, forceTLS: true/);
    } finally {
      await dev.stop();
    }
  });

  it("a missing key file stops the start with a line naming the setting", async () => {
    await expect(startServer({ env: { SSL_ENABLED: "true", SSL_CERT_PATH: file("first.crt"), SSL_KEY_PATH: file("missing.key") } }))
      .rejects.toThrow(/SSL_KEY_PATH .*missing\.key/);
  });

  it("an encrypted key opens with SSL_PASSPHRASE (Node, Bun; Deno refuses it clearly)", async () => {
    execFileSync("openssl", ["pkey", "-in", file("first.key"), "-aes256", "-passout", "pass:s3cret", "-out", file("encrypted.key")]);
    const env = { SSL_ENABLED: "true", SSL_CERT_PATH: file("first.crt"), SSL_KEY_PATH: file("encrypted.key"), SSL_PASSPHRASE: "s3cret", ADAPTER_DRIVER: "local" };
    if (RUNTIME === "deno") return void (await expect(startServer({ env })).rejects.toThrow(/SSL_PASSPHRASE is not supported on Deno/));
    const locked = await startServer({ env });
    try {
      expect((await peerCertificate(locked.port, first.cert)).subject.CN).toBe("first");
    } finally {
      await locked.stop();
    }
  });
});
