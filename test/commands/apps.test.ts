// `switchboard apps` and `switchboard migrate` end to end, on the runtime under test: migrate an
// empty PostgreSQL, create an app, connect with the printed credentials, rotate its secret (the
// shared redis cache is cleared at once), and see the old secret refused.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reachable, requireService, uniquePrefix } from "../adapters/cluster.ts";
import { byEvent, connected, once, pusherClient, rawClient, sdk } from "../helpers/clients.ts";
import { POSTGRES_URL, serviceUp, sqlAdmin, uniqueTable, type SqlAdmin } from "../helpers/databases.ts";
import { ROOT, runtimeCommand, startServer, type TestServer } from "../helpers/server.ts";

const up = (await serviceUp("postgres")) && (await requireService(reachable(6379), "Redis on 127.0.0.1:6379"));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!up)("switchboard apps / migrate", () => {
  const table = uniqueTable("cmd");
  const env = {
    APP_MANAGER: "postgres",
    DATABASE_URL: POSTGRES_URL,
    APP_MANAGER_TABLE: table,
    CACHE_DRIVER: "redis",
    REDIS_PREFIX: uniquePrefix("apps-cmd"),
    APP_CACHE_TTL_SECONDS: "600",
  };
  let admin: SqlAdmin;
  let server: TestServer;

  function cli(...args: string[]): Promise<Run> {
    const [cmd, base] = runtimeCommand();
    return new Promise((resolve) => {
      execFile(cmd, [...base, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, timeout: 20_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    admin = await sqlAdmin("postgres");
  });
  afterAll(async () => {
    await server?.stop();
    await admin?.dropTable(table);
    await admin?.close();
  });

  it("migrate creates the table once and then leaves it alone", async () => {
    expect((await cli("migrate")).stdout).toMatch(`created postgres table ${table}`);
    expect((await cli("migrate")).stdout).toMatch("exists: left unchanged");
    const columns = (await admin.query(`select column_name from information_schema.columns where table_name = '${table}'`)) as { column_name: string }[];
    expect(columns.map((c) => c.column_name)).toEqual(expect.arrayContaining(["id", "key", "secret", "max_read_req_per_sec", "enable_user_authentication", "allowed_origins"]));
  });

  it("create → connect with the printed credentials → rotate-secret → the old secret is refused", async () => {
    const created = await cli("apps", "create", "--enable-client-messages", "--max-connections", "50", "--json");
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { id: string; key: string; secret: string; maxConnections: number };
    expect(app.key).toMatch(/^[0-9a-f]{20}$/);
    expect(app.secret).toMatch(/^[0-9a-f]{40}$/);
    expect(app.maxConnections).toBe(50);

    const started = await startServer({ defaultApp: false, env });
    server = { ...started, appId: app.id, key: app.key, secret: app.secret };
    const client = pusherClient(server);
    await connected(client);
    const channel = client.subscribe("private-a");
    await once(channel, "pusher:subscription_succeeded");
    await sdk(server).trigger("private-a", "ev", {});
    client.disconnect();

    const rotated = await cli("apps", "rotate-secret", app.id, "--json");
    expect(rotated.code).toBe(0);
    const secret = (JSON.parse(rotated.stdout) as { secret: string }).secret;
    expect(secret).not.toBe(app.secret);
    // The server had the app cached for 10 minutes: only the command's invalidation explains this.
    await expect(sdk(server).trigger("private-a", "ev", {})).rejects.toMatchObject({ status: 401 });
    await sdk({ ...server, secret }).trigger("private-a", "ev", {});
    const stale = pusherClient(server);
    await connected(stale);
    await expect(once(stale.subscribe("private-b"), "pusher:subscription_succeeded", 1500)).rejects.toThrow();
    stale.disconnect();

    const listed = await cli("apps", "list");
    expect(listed.stdout).toMatch(new RegExp(`${app.id}\\s+${app.key}\\s+true\\s+true\\s+50`));
    expect((await cli("apps", "update", app.id, "--enabled", "false")).code).toBe(0);
    const refused = await rawClient(server, `/app/${app.key}?protocol=7`, { established: false });
    expect((await refused.next(byEvent("pusher:error"))).data).toMatchObject({ code: 4003 });
    expect((await cli("apps", "delete", app.id)).stdout).toMatch(`deleted app ${app.id}`);
    expect((await cli("apps", "show", app.id)).code).toBe(1);
  });

  it("answers bad input with a clear message and a usage exit code", async () => {
    const bad = await cli("apps", "update", "1", "--max-connections");
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--max-connections needs a value/);
    expect((await cli("apps", "frobnicate")).stderr).toMatch(/unknown apps command "frobnicate"/);
    const memory = await cli("apps", "create", "--app-manager-driver", "memory");
    expect(memory.stderr).toMatch(/needs a database store/);
  });
});
