// Every backend kind's registration file, imported for its registerDriver calls. The config
// loader imports this module, so every driver's name and settings are known before parsing;
// the implementations stay unloaded until createDriver picks one.
import "./register-adapters.ts";
import "./register-app-stores.ts";
import "./register-caches.ts";
import "./register-queues.ts";
import "./register-rate-limiters.ts";

export * from "./registry.ts";
