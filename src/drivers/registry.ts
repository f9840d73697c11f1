// The driver registry: how a backend is picked by name, configured, and loaded only when picked.
//
// A backend *kind* (adapter, app-store, cache, queue, rate-limiter) is declared once with
// `defineKind` in its registration file (src/drivers/register-<kind>s.ts, imported by src/drivers/index.ts).
// The kind gets one setting that selects its driver: `<kind>Driver`, i.e. --adapter-driver,
// ADAPTER_DRIVER, "adapterDriver" in the config file.
//
// Adding a driver is one implementation file plus one `registerDriver` call in its kind's file:
//
//   registerDriver({
//     kind: "app-store",
//     name: "postgres",
//     aliases: ["pgsql"],
//     help: "apps from a PostgreSQL table",
//     options: z.object({
//       databaseUrl: z.string().url().describe("postgres:// URL of the apps database"),
//     }),
//     load: async () => (await import("../app-stores/postgres.ts")).createPostgresAppStore,
//   });
//
// - `options` is the driver's own zod object. Each key is a setting like the server's: a flag
//   (--database-url), an environment variable (DATABASE_URL), a config-file key (databaseUrl) and
//   a line of --help (its .describe() text and default). A value given for any driver is checked
//   with its field's schema at start-up; the selected driver's whole object is then parsed, so its
//   required keys and object-level refinements apply only when it is chosen. Drivers share a
//   setting by sharing the same schema object (see CLUSTER in register-adapters.ts).
// - `load` is the only place the implementation is imported, and dynamically: a driver that is not
//   selected never loads its module or its client library (test/drivers/lazy-loading.test.ts).
//   It resolves to a factory called with the parsed options and a DriverContext.
// - Unknown names are configuration errors listing the valid ones; aliases resolve to the name.
// - A new kind: add its product type to DriverProducts, call defineKind in a new registration
//   file, and import that file in src/drivers/index.ts.
import type { z } from "zod";
import type { Adapter } from "../core/adapter.ts";
import type { App } from "../core/app.ts";
import type { AppStore } from "../core/app-store.ts";
import type { AppCache } from "../app-stores/cache/cache.ts";
import type { QueueOpener } from "../webhooks/queues/queue.ts";
import type { IpLimiter } from "../rate-limiters/ip/ip-limiter.ts";
import type { CryptoProvider, Logger, Timers } from "../core/runtime.ts";

/** What each kind's drivers build. */
export interface DriverProducts {
  adapter: Adapter;
  "app-store": AppStore;
  /** undefined for the "none" cache. */
  cache: AppCache | undefined;
  queue: QueueOpener;
  "rate-limiter": IpLimiter;
}

export type DriverKind = keyof DriverProducts;

/** What every driver factory may use besides its own options. */
export interface DriverContext {
  /** Apps given by flags, environment or config file (the memory store serves these). */
  apps: App[];
  timers: Timers;
  logger: Logger;
  crypto: CryptoProvider;
  readTextFile(path: string): Promise<string>;
}

export type DriverFactory<K extends DriverKind, O> = (options: O, context: DriverContext) => DriverProducts[K] | Promise<DriverProducts[K]>;

export interface DriverDefinition<K extends DriverKind, S extends z.ZodObject = z.ZodObject> {
  kind: K;
  name: string;
  aliases?: string[];
  /** One line for --help. */
  help: string;
  /** The driver's settings; omit when it has none. */
  options?: S;
  load(): Promise<DriverFactory<K, z.output<S>>>;
}

export interface KindDefinition {
  kind: DriverKind;
  /** The driver used when none is chosen. */
  default: string;
  /** One line for --help: what this kind of backend is for. */
  help: string;
}

/** A driver picked by the configuration: its registered name and its parsed options. */
export interface DriverChoice {
  kind: DriverKind;
  name: string;
  options: Record<string, unknown>;
}

/** A registered driver, its factory's options type erased (they come from its own schema). */
export type RegisteredDriver = Omit<DriverDefinition<DriverKind>, "load"> & {
  load(): Promise<(options: Record<string, unknown>, context: DriverContext) => unknown>;
};

const kinds = new Map<DriverKind, KindDefinition>();
const drivers = new Map<DriverKind, RegisteredDriver[]>();
/** Every driver setting by key, with the schema object all drivers declaring it share. */
const settings = new Map<string, { schema: z.ZodType; drivers: RegisteredDriver[] }>();

const camel = (kind: string) => kind.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The setting that selects a kind's driver: "adapter" → adapterDriver, "app-store" → appStoreDriver. */
export function selectorKey(kind: DriverKind): string {
  return `${camel(kind)}Driver`;
}

export function defineKind(definition: KindDefinition): void {
  if (kinds.has(definition.kind)) throw new Error(`driver kind ${definition.kind} is defined twice`);
  kinds.set(definition.kind, definition);
  drivers.set(definition.kind, []);
}

export function registerDriver<K extends DriverKind, S extends z.ZodObject>(definition: DriverDefinition<K, S>): void {
  const list = drivers.get(definition.kind);
  if (!list) throw new Error(`driver ${definition.name}: kind ${definition.kind} is not defined (defineKind first)`);
  for (const name of [definition.name, ...(definition.aliases ?? [])]) {
    if (list.some((d) => d.name === name || d.aliases?.includes(name))) throw new Error(`${definition.kind} driver name ${name} is registered twice`);
  }
  const own = definition as unknown as RegisteredDriver;
  const shape = Object.entries(definition.options?.shape ?? {}) as [string, z.ZodType][];
  for (const [key, schema] of shape) {
    const known = settings.get(key);
    if (known && known.schema !== schema) {
      throw new Error(`setting ${key} of ${definition.kind} driver ${definition.name} differs from ${known.drivers[0]!.name}'s: share one schema object`);
    }
  }
  for (const [key, schema] of shape) {
    const known = settings.get(key);
    if (known) known.drivers.push(own);
    else settings.set(key, { schema, drivers: [own] });
  }
  list.push(own);
}

export function driverKinds(): KindDefinition[] {
  return [...kinds.values()];
}

export function driversOf(kind: DriverKind): readonly RegisteredDriver[] {
  return drivers.get(kind) ?? [];
}

/** Every setting some driver declares, with its schema and the drivers that read it. */
export function driverSettings(): ReadonlyMap<string, { schema: z.ZodType; drivers: readonly RegisteredDriver[] }> {
  return settings;
}

/** The registered driver for a name or alias, or undefined. */
export function findDriver(kind: DriverKind, name: string): RegisteredDriver | undefined {
  return driversOf(kind).find((d) => d.name === name || d.aliases?.includes(name));
}

/** "local, redis, redis-cluster (alias: redis_cluster)" for error messages and --help. */
export function driverNames(kind: DriverKind): string {
  return driversOf(kind)
    .map((d) => (d.aliases?.length ? `${d.name} (alias: ${d.aliases.join(", ")})` : d.name))
    .join(", ");
}

/** Loads the chosen driver's module (the first time) and builds its product. */
export async function createDriver<K extends DriverKind>(kind: K, choice: DriverChoice, context: DriverContext): Promise<DriverProducts[K]> {
  const definition = findDriver(kind, choice.name);
  if (!definition) throw new Error(`unknown ${kind} driver ${choice.name} (valid: ${driverNames(kind)})`);
  const factory = await definition.load();
  return (await factory(choice.options, context)) as DriverProducts[K];
}
