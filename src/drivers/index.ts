// Every backend kind's registration file, imported for its registerDriver calls. The config
// loader imports this module, so every driver's name and settings are known before parsing;
// the implementations stay unloaded until createDriver picks one.
import "./adapters.ts";
import "./app-stores.ts";
import "./caches.ts";
import "./queues.ts";
import "./rate-limiters.ts";

export * from "./registry.ts";
