// Apps from PostgreSQL and MariaDB: Soketi's table created by hand as its docs give it, one app
// inserted the way a Soketi user would, and the SDK flows against a server reading it.
import { afterAll, beforeAll, describe } from "vitest";
import { randomApp, serviceUp, sqlAdmin, uniqueTable, type SqlAdmin, type SqlKind } from "../helpers/databases.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { sdkFlows } from "./app-store-flows.ts";

for (const kind of ["postgres", "mysql"] as SqlKind[]) {
  const up = await serviceUp(kind);
  describe.skipIf(!up)(`apps from ${kind} (Soketi's table)`, () => {
    const table = uniqueTable(kind);
    const app = randomApp();
    let admin: SqlAdmin;
    let server: TestServer;
    beforeAll(async () => {
      admin = await sqlAdmin(kind);
      await admin.createSoketiTable(table);
      await admin.insertApp(table, app);
      const started = await startServer({
        defaultApp: false,
        env: { APP_MANAGER_DRIVER: kind === "postgres" ? "pgsql" : "mysql", DATABASE_URL: admin.url, APP_MANAGER_TABLE: table },
      });
      server = { ...started, appId: app.id, key: app.key, secret: app.secret };
    });
    afterAll(async () => {
      await server?.stop();
      await admin?.dropTable(table);
      await admin?.close();
    });
    sdkFlows(() => server);
  });
}
