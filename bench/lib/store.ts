// --store postgres|mysql: the bench app lives in a database table made for this run (migrate, then
// the apps code inserts it), so the scenarios measure handshakes through the store and its cache.
import { openAppDatabase } from "../../src/drivers/open-app-store.ts";
import { loadConfig } from "../../src/config/load.ts";
import { parseApp } from "../../src/core/app.ts";
import { BENCH_APP } from "./server.ts";

const URLS: Record<string, string> = {
  postgres: process.env.SWITCHBOARD_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  mysql: process.env.SWITCHBOARD_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test",
};

export const STORES = Object.keys(URLS);

/** Creates the table with the bench app (its settings from `appEnv`); returns the server's env and the cleanup. */
export async function prepareStore(store: string, appEnv: Record<string, string>): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const url = URLS[store];
  if (!url) throw new Error(`--store must be one of ${STORES.join(", ")}`);
  const env = { APP_MANAGER_DRIVER: store, DATABASE_URL: url, APP_MANAGER_TABLE: `bench_apps_${Date.now().toString(36)}` };
  const quiet = { debug() {}, info() {}, warn: console.warn, error: console.error };
  const config = loadConfig({ argv: [], env: { ENV_FILE: "", ...env }, readFile: () => "{}" });
  const db = await openAppDatabase({ config, logger: quiet, readTextFile: async () => "", now: Date.now });
  const settings = Object.fromEntries(Object.entries(appEnv).map(([k, v]) => [k.replace(/^APP_/, "").toLowerCase(), v]));
  await db.migrate();
  await db.create(parseApp({ ...settings, id: BENCH_APP.id, key: BENCH_APP.key, secret: BENCH_APP.secret }, "the bench app"));
  await db.close?.();
  return {
    env,
    async drop() {
      const again = await openAppDatabase({ config, logger: quiet, readTextFile: async () => "", now: Date.now });
      await again.delete(BENCH_APP.id);
      await again.close?.();
    },
  };
}
