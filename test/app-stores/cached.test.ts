// The cache in front of database stores: TTL, cached misses, one database call for racing cold
// lookups, last good answers while the database fails, bounded errors for unknown apps, recovery.
import { describe, expect, it } from "vitest";
import { MemoryAppCache } from "../../src/app-stores/cache/memory.ts";
import { CachedAppStore } from "../../src/app-stores/cached.ts";
import { withTimeout } from "../../src/app-stores/timeout.ts";
import { parseApp, type App } from "../../src/core/app.ts";
import { AppStoreError, type AppStore } from "../../src/core/app-store.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const app = parseApp({ id: "1", key: "key-1", secret: "s" });

/** A database the test controls: counts calls, can be slowed down or made to fail or hang. */
function fakeDb(apps: App[] = [app]) {
  const db = {
    calls: 0,
    mode: "ok" as "ok" | "fail" | "hang",
    delayMs: 0,
    apps,
    async answer(pick: (a: App) => boolean): Promise<App | undefined> {
      db.calls++;
      if (db.mode === "fail") throw new Error("connection refused");
      // Like a blackholed database: the driver's own timeout is what ends the wait.
      if (db.mode === "hang") return withTimeout(new Promise<never>(() => {}), 100, "fake lookup");
      if (db.delayMs) await new Promise((r) => setTimeout(r, db.delayMs));
      return db.apps.find(pick);
    },
  };
  const store: AppStore = {
    findById: (id) => db.answer((a) => a.id === id),
    findByKey: (key) => db.answer((a) => a.key === key),
    all: async () => db.apps,
  };
  return { db, store };
}

function cached(store: AppStore, now = { t: 0 }, onStatus?: (up: boolean) => void) {
  const cache = new MemoryAppCache(() => now.t);
  return new CachedAppStore(store, cache, { ttlMs: 1000, missTtlMs: 100, timeoutMs: 500, logger: quiet, onStatus });
}

describe("CachedAppStore", () => {
  it("keeps found apps for the TTL, by id and by key", async () => {
    const { db, store } = fakeDb();
    const now = { t: 0 };
    const apps = cached(store, now);
    expect(await apps.findByKey("key-1")).toEqual(app);
    expect(await apps.findById("1")).toEqual(app);
    expect(db.calls).toBe(1);
    now.t = 1001;
    await apps.findByKey("key-1");
    expect(db.calls).toBe(2);
    expect(apps.stats).toMatchObject({ cacheHits: 1, databaseLookups: 2 });
  });

  it("remembers unknown keys for the miss TTL only", async () => {
    const { db, store } = fakeDb();
    const now = { t: 0 };
    const apps = cached(store, now);
    expect(await apps.findByKey("nope")).toBeUndefined();
    expect(await apps.findByKey("nope")).toBeUndefined();
    expect(db.calls).toBe(1);
    now.t = 101;
    db.apps = [...db.apps, parseApp({ id: "2", key: "nope", secret: "s" })];
    expect((await apps.findByKey("nope"))?.id).toBe("2");
  });

  it("makes one database call for cold lookups that race", async () => {
    const { db, store } = fakeDb();
    db.delayMs = 30;
    const apps = cached(store);
    const results = await Promise.all(Array.from({ length: 20 }, () => apps.findByKey("key-1")));
    expect(results.every((r) => r?.id === "1")).toBe(true);
    expect(db.calls).toBe(1);
    expect(apps.stats.joined).toBe(19);
  });

  it("answers known apps from their last good entry while the database fails, and reports it", async () => {
    const { db, store } = fakeDb();
    const now = { t: 0 };
    const status: boolean[] = [];
    const apps = cached(store, now, (up) => status.push(up));
    await apps.findByKey("key-1");
    now.t = 5000;
    db.mode = "fail";
    expect(await apps.findByKey("key-1")).toEqual(app);
    expect(await apps.findById("1")).toEqual(app);
    expect(status).toEqual([false]);
    expect(apps.databaseUp).toBe(false);
    expect(apps.stats.staleAnswers).toBeGreaterThanOrEqual(2);
  });

  it("rejects an unknown app with an AppStoreError within the timeout while the database hangs", async () => {
    const { db, store } = fakeDb();
    db.mode = "hang";
    const apps = cached(store);
    const started = Date.now();
    await expect(apps.findByKey("unknown")).rejects.toBeInstanceOf(AppStoreError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("does not cache a failure as a miss, and resumes when the database is back", async () => {
    const { db, store } = fakeDb();
    const status: boolean[] = [];
    const apps = cached(store, { t: 0 }, (up) => status.push(up));
    db.mode = "fail";
    await expect(apps.findByKey("key-1")).rejects.toThrow(/connection refused/);
    db.mode = "ok";
    expect((await apps.findByKey("key-1"))?.id).toBe("1");
    expect(status).toEqual([false, true]);
  });

  it("while the database is known down, answers known apps at once and probes in the background", async () => {
    const { db, store } = fakeDb();
    const now = { t: 0 };
    const apps = cached(store, now);
    await apps.findByKey("key-1");
    now.t = 5000;
    db.mode = "hang";
    await apps.findByKey("key-1"); // learns the database is down (after the 100 ms driver timeout)
    now.t = 10_000;
    const started = Date.now();
    expect(await apps.findByKey("key-1")).toEqual(app);
    expect(Date.now() - started).toBeLessThan(50);
  });

  it("invalidate drops an app's entries so the next lookup reads the database", async () => {
    const { db, store } = fakeDb();
    const apps = cached(store);
    await apps.findByKey("key-1");
    db.apps = [{ ...app, secret: "rotated" }];
    await apps.invalidate(app);
    expect((await apps.findByKey("key-1"))?.secret).toBe("rotated");
  });

  it("treats a failing cache as a miss", async () => {
    const { db, store } = fakeDb();
    const broken = { name: "broken", get: () => Promise.reject(new Error("down")), set: () => Promise.reject(new Error("down")), delete: async () => {} };
    const apps = new CachedAppStore(store, broken, { ttlMs: 1000, missTtlMs: 100, timeoutMs: 500, logger: quiet });
    expect((await apps.findByKey("key-1"))?.id).toBe("1");
    expect(apps.stats.cacheErrors).toBe(3); // one get, a set per entry (id and key)
    expect(db.calls).toBe(1);
  });
});

describe("MemoryAppCache", () => {
  it("caps its entries, dropping the oldest first", async () => {
    const cache = new MemoryAppCache(() => 0, 3);
    for (const k of ["a", "b", "c", "d"]) await cache.set(`key:${k}`, null, 1000);
    expect(await cache.get("key:a")).toBeUndefined();
    expect(await cache.get("key:d")).toBeNull();
  });
});
