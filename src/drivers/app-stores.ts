// App store drivers: where apps (id, key, secret, limits) come from.
// Each implementation is imported only when APP_STORE_DRIVER selects it (see registry.ts).
import { z } from "zod";
import { defineKind, registerDriver } from "./registry.ts";

defineKind({ kind: "app-store", default: "memory", help: "where apps come from" });

registerDriver({
  kind: "app-store",
  name: "memory",
  aliases: ["array", "local"],
  help: "apps from flags, environment or config file (APP_*, APPS, apps[])",
  load: async () => {
    const { MemoryAppStore } = await import("../app-stores/memory.ts");
    return (_, { apps }) => new MemoryAppStore(apps);
  },
});

registerDriver({
  kind: "app-store",
  name: "file",
  help: "apps from a JSON file, re-read while running",
  options: z.object({
    appStoreFile: z.string().min(1).describe("JSON file of apps (an array, or {\"apps\": [...]})"),
  }),
  load: async () => {
    const { FileAppStore } = await import("../app-stores/file.ts");
    return async (o, { readTextFile, logger, timers }) => {
      const store = new FileAppStore(o.appStoreFile, readTextFile, logger, timers.now);
      await store.load();
      return store;
    };
  },
});
