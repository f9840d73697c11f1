// A database outage, through a TCP proxy the test cuts (blackholed: nothing fails fast). Known apps
// keep working from their last good entry, an unknown one is refused within a bounded time, and
// service resumes by itself once the proxy forwards again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, connected, pusherClient, rawClient, sdk } from "../helpers/clients.ts";
import { randomApp, serviceUp, sqlAdmin, uniqueTable, type SqlAdmin, type SqlKind } from "../helpers/databases.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

const TIMEOUT_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of ["postgres", "mysql"] as SqlKind[]) {
  const up = await serviceUp(kind);
  describe.skipIf(!up)(`${kind} outage`, () => {
    const table = uniqueTable(`${kind}_outage`);
    const known = randomApp();
    const later = randomApp();
    let admin: SqlAdmin;
    let proxy: TcpProxy;
    let server: TestServer;
    const as = (app: typeof known): TestServer => ({ ...server, appId: app.id, key: app.key, secret: app.secret });

    beforeAll(async () => {
      admin = await sqlAdmin(kind);
      await admin.createSoketiTable(table);
      await admin.insertApp(table, known);
      const target = new URL(admin.url);
      proxy = await startTcpProxy(Number(target.port));
      target.port = String(proxy.port);
      server = await startServer({
        defaultApp: false,
        env: {
          APP_MANAGER_DRIVER: kind,
          DATABASE_URL: target.toString(),
          APP_MANAGER_TABLE: table,
          APP_CACHE_TTL_SECONDS: "1",
          DATABASE_TIMEOUT_MS: String(TIMEOUT_MS),
          LOG_LEVEL: "debug",
        },
      });
    });
    afterAll(async () => {
      await server?.stop();
      await proxy?.close();
      await admin?.dropTable(table);
      await admin?.close();
    });

    it("keeps known apps working, refuses unknown ones within a bounded time, and recovers", async () => {
      const warm = pusherClient(as(known));
      await connected(warm);
      warm.disconnect();

      proxy.cut();
      await sleep(1100); // past the cache TTL: every lookup now needs the database
      await admin.insertApp(table, later); // straight into the database, not through the proxy

      // Known app: handshake and REST still work (the first lookup waits out one timeout at most).
      const started = Date.now();
      const client = pusherClient(as(known));
      await connected(client, 5000);
      await sdk(as(known)).trigger("news", "ev", { during: "outage" });
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 4 + 1000);
      client.disconnect();

      // Unknown app (stored meanwhile, but unreachable): a REST call fails fast, no hang.
      const restStarted = Date.now();
      const rest = await sdk(as(later)).trigger("news", "ev", {}).then(() => 200, (e: { status?: number }) => e.status ?? 0);
      expect(rest).toBeGreaterThanOrEqual(500);
      expect(Date.now() - restStarted).toBeLessThan(TIMEOUT_MS * 4 + 1000);

      proxy.restore();
      // Service resumes by itself: the app stored during the outage connects (failures are never cached as misses).
      let established = false;
      for (let i = 0; i < 20 && !established; i++) {
        const raw = await rawClient(as(later), `/app/${later.key}?protocol=7`, { established: false });
        established = await raw.next(byEvent("pusher:connection_established"), 1000).then(() => true, () => false);
        raw.close();
        if (!established) await sleep(250);
      }
      expect(established).toBe(true);
      expect(server.output()).toMatch(/apps database failing/);
      expect(server.output()).toMatch(/apps database answering again/);
    }, 30_000);

    it("ends the handshake of an unknown app with an error while the database is cut (the core's store-error path)", async () => {
      proxy.cut();
      try {
        const stranger = randomApp();
        const started = Date.now();
        const raw = await rawClient(as(stranger), `/app/${stranger.key}?protocol=7`, { established: false });
        const outcome = await Promise.race([
          raw.next(byEvent("pusher:error"), 5000).then(() => "error"),
          raw.closed.then(() => "closed"),
          raw.next(byEvent("pusher:connection_established"), 5000).then(() => "established"),
        ]).catch(() => "nothing within 5 s");
        expect(outcome === "error" || outcome === "closed").toBe(true);
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 4 + 1000);
        raw.close();
      } finally {
        proxy.restore();
      }
    }, 15_000);
  });
}
