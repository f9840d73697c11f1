// Handshake (spec §1.2, §1.3, checklist 1-9) and graceful shutdown (§1.8, checklist 73).
// Handshake failures must complete the upgrade and report inside the socket — pusher:error with
// the code, then a close with the same code — because that is what makes pusher-js give up.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type Pusher from "pusher-js";
import { byEvent, connected, dataOf, once, pusherClient, rawClient, type RawClient } from "../helpers/clients.ts";
import { runtimeFeatures, startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

const appPath = (key: string, query = "protocol=7&client=js&version=8.4.0") => `/app/${key}${query ? `?${query}` : ""}`;

/** Asserts the spec's failure sequence: pusher:error {code, message} as the first frame, then close with code. */
async function expectRefused(raw: RawClient, code: number, message: string): Promise<void> {
  const first = await raw.next();
  expect(first).toEqual({ event: "pusher:error", data: { code, message } });
  const closed = await raw.closed;
  expect(closed.code).toBe(code);
  expect(closed.reason).toBe(message);
  expect(Buffer.byteLength(closed.reason, "utf8")).toBeLessThanOrEqual(123);
  expect(raw.frames).toEqual([]);
}

/** A ping answered by a pong proves the socket is open and being served. */
async function expectAlive(raw: RawClient): Promise<void> {
  raw.send({ event: "pusher:ping", data: {} });
  expect(await raw.next(byEvent("pusher:pong"))).toEqual({ event: "pusher:pong", data: "{}" });
}

describe("connection_established", () => {
  it("is the first frame, with a JSON-string data holding socket_id and activity_timeout 120", async () => {
    const raw = await rawClient(server, appPath(server.key), { established: false });
    const first = await raw.next();
    expect(first.event).toBe("pusher:connection_established");
    expect(typeof first.data).toBe("string");
    const data = JSON.parse(first.data as string);
    expect(Object.keys(data).sort()).toEqual(["activity_timeout", "socket_id"]);
    expect(data.socket_id).toMatch(/^\d+\.\d+$/);
    expect(data.activity_timeout).toBe(120);
    expect(Number.isInteger(data.activity_timeout)).toBe(true);
    raw.close();
  });

  it("gives concurrent connections distinct socket ids", async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => rawClient(server)));
    const ids = clients.map((c) => c.socketId);
    for (const id of ids) expect(id).toMatch(/^\d+\.\d+$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of clients) c.close();
  });

  it("accepts a missing protocol parameter (lenient default)", async () => {
    const raw = await rawClient(server, appPath(server.key, ""));
    expect(raw.socketId).toMatch(/^\d+\.\d+$/);
    await expectAlive(raw);
    raw.close();
  });

  it("accepts every supported protocol version 4..7 and ignores unknown query parameters", async () => {
    for (const protocol of ["4", "5", "6", "7"]) {
      const raw = await rawClient(server, appPath(server.key, `protocol=${protocol}&flash=false&whatever=1`));
      expect(raw.socketId).toMatch(/^\d+\.\d+$/);
      raw.close();
    }
  });
});

/** Sends a raw WebSocket upgrade request for `path`; resolves with the HTTP answer's status and body. */
function upgradeRequest(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host, () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${server.host}:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      ),
    );
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer: ${JSON.stringify(text)}`));
    }, 5000);
    const done = (body: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(text.split(" ")[1]), body });
    };
    socket.on("data", (chunk) => {
      text += chunk.toString();
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = text.slice(0, end);
      const length = /content-length: *(\d+)/i.exec(head);
      if (length) {
        if (text.length >= end + 4 + Number(length[1])) done(text.slice(end + 4, end + 4 + Number(length[1])));
      } else if (/transfer-encoding: *chunked/i.test(head) && text.endsWith("\r\n0\r\n\r\n")) {
        // Some runtimes (Deno, after a middleware rebuilt the response) send the body chunked.
        let body = "";
        for (let at = end + 4; ;) {
          const eol = text.indexOf("\r\n", at);
          const size = parseInt(text.slice(at, eol), 16);
          if (!size) break;
          body += text.slice(eol + 2, eol + 2 + size);
          at = eol + 2 + size + 2;
        }
        done(body);
      }
    });
    socket.on("error", reject);
  });
}

describe("upgrade requests on HTTP routes", () => {
  it("get the route's HTTP answer, not a socket: a signed API route answers 401, /up answers 200", async () => {
    const api = await upgradeRequest(`/apps/${server.appId}/channels`);
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body).error).toMatch(/auth_signature/);
    const up = await upgradeRequest("/up");
    expect(up).toEqual({ status: 200, body: JSON.stringify({ ok: true }) });
  });

  it("a plain GET on /app/{key} (a browser) answers 426 with a hint instead of a bare 404", async () => {
    const res = await fetch(`http://${server.host}:${server.port}${appPath(server.key)}`);
    expect(res.status).toBe(426);
    if (runtimeFeatures.upgradeHeaderOn426) expect(res.headers.get("upgrade")).toBe("websocket");
    expect(((await res.json()) as { error: string }).error).toMatch(/WebSocket endpoint.*Pusher client/);
  });
});

describe("handshake refusals", () => {
  it("unknown key → pusher:error 4001, close 4001", async () => {
    const raw = await rawClient(server, appPath("no-such-key"), { established: false });
    await expectRefused(raw, 4001, "Application does not exist");
  });

  it("upgrade on a path other than /app/{key} → close 4005", async () => {
    for (const path of ["/foo", "/app", `/app/${server.key}/extra?protocol=7`]) {
      const raw = await rawClient(server, path, { established: false });
      await expectRefused(raw, 4005, "Path not found");
    }
  });

  it("protocol=abc → 4006", async () => {
    const raw = await rawClient(server, appPath(server.key, "protocol=abc"), { established: false });
    await expectRefused(raw, 4006, "Invalid version string format");
  });

  it("protocol=2 (and 8) → 4007", async () => {
    for (const protocol of ["2", "8"]) {
      const raw = await rawClient(server, appPath(server.key, `protocol=${protocol}`), { established: false });
      await expectRefused(raw, 4007, "Unsupported protocol version");
    }
  });

  it("pusher-js treats an unknown key as refused: error 4001, disconnected, no reconnect", async () => {
    const client: Pusher = pusherClient({ ...server, key: "no-such-key" });
    const error = await once(client.connection, "error");
    expect(error.error?.data?.code).toBe(4001);
    if (client.connection.state !== "disconnected") await once(client.connection, "disconnected");
    // A retrying client would go back to "connecting" within about a second.
    await expect(once(client.connection, "connecting", 1500)).rejects.toThrow(/timed out/);
    expect(client.connection.state).toBe("disconnected");
    client.disconnect();
  });
});

describe("per-app and server settings", () => {
  it("disabled app (APP_ENABLED=false) → 4003", async () => {
    const disabled = await startServer({ env: { APP_ENABLED: "false" } });
    try {
      const raw = await rawClient(disabled, appPath(disabled.key), { established: false });
      await expectRefused(raw, 4003, "Application disabled");
    } finally {
      await disabled.stop();
    }
  });

  it("APP_MAX_CONNECTIONS=2: the third socket gets 4004, the first two are unaffected, a freed slot is reusable", async () => {
    const limited = await startServer({ env: { APP_MAX_CONNECTIONS: "2" } });
    try {
      const a = await rawClient(limited);
      const b = await rawClient(limited);
      const c = await rawClient(limited, undefined, { established: false });
      await expectRefused(c, 4004, "Application is over connection quota");
      await expectAlive(a);
      await expectAlive(b);
      expect(a.ws.readyState).toBe(a.ws.OPEN);
      expect(b.ws.readyState).toBe(b.ws.OPEN);

      // The server releases the slot asynchronously after the close handshake; retry until it does.
      a.close();
      await a.closed;
      let d: RawClient | undefined;
      for (let attempt = 0; attempt < 20 && !d; attempt++) {
        const candidate = await rawClient(limited, undefined, { established: false });
        const first = await candidate.next();
        if (first.event === "pusher:connection_established") d = candidate;
        else {
          expect(dataOf(first).code).toBe(4004);
          await candidate.closed;
        }
      }
      expect(d).toBeDefined();
      await expectAlive(d!);
      d!.close();
      b.close();
    } finally {
      await limited.stop();
    }
  });

  it("REQUIRE_PROTOCOL_PARAM=true: a missing protocol → 4008, a present one is accepted", async () => {
    const strict = await startServer({ env: { REQUIRE_PROTOCOL_PARAM: "true" } });
    try {
      const missing = await rawClient(strict, appPath(strict.key, "client=js"), { established: false });
      await expectRefused(missing, 4008, "No protocol version supplied");
      const ok = await rawClient(strict, appPath(strict.key, "protocol=7"));
      await expectAlive(ok);
      ok.close();
    } finally {
      await strict.stop();
    }
  });
});

describe("PATH_PREFIX", () => {
  it("serves /prefix/app/{key} and refuses /app/{key} with 4005", async () => {
    const prefixed = await startServer({ env: { PATH_PREFIX: "/ws" } });
    try {
      const ok = await rawClient(prefixed, `/ws${appPath(prefixed.key)}`);
      await expectAlive(ok);
      ok.close();
      const unprefixed = await rawClient(prefixed, appPath(prefixed.key), { established: false });
      await expectRefused(unprefixed, 4005, "Path not found");
      // pusher-js puts wsPath in front of /app/{key}.
      const client: Pusher = pusherClient(prefixed, { options: { wsPath: "/ws" } });
      await connected(client);
      expect(client.connection.socket_id).toMatch(/^\d+\.\d+$/);
      client.disconnect();
    } finally {
      await prefixed.stop();
    }
  });
});

describe("graceful shutdown", () => {
  it.runIf(runtimeFeatures.gracefulDrain)("SIGTERM sends pusher:error 4200 to every socket and closes them with 4200", async () => {
    const doomed = await startServer();
    const clients = await Promise.all([rawClient(doomed), rawClient(doomed), rawClient(doomed)]);
    clients[0]!.send({ event: "pusher:subscribe", data: { channel: "my-channel", auth: "" } });
    await clients[0]!.next(byEvent("pusher_internal:subscription_succeeded", "my-channel"));
    await doomed.stop();
    for (const raw of clients) {
      const closed = await raw.closed;
      expect(closed.code).toBe(4200);
      expect(Buffer.byteLength(closed.reason, "utf8")).toBeLessThanOrEqual(123);
      expect(await raw.next(byEvent("pusher:error"))).toEqual({
        event: "pusher:error",
        data: { code: 4200, message: "Server is shutting down, reconnect" },
      });
    }
    expect(doomed.process.exitCode).toBe(0);
  });
});
