// The Cloudflare Workers entrypoint: a stateless Worker that sends each request to the Durable
// Object of its app: `/app/:key` upgrades by the app's key, `/apps/:id/…` REST calls and
// `/up/:id` by its id, anything else (/, /ready, /usage) to the first app's object. Settings are
// the Worker's bindings (runtimes/workers/config.ts); wrangler.jsonc is the deploy template and
// `npm run start:workers` serves it locally under workerd (runtimes/workerd.ts).
import { ConfigError, type Config } from "../../src/config/load.ts";
import { jsonError } from "../../src/http/errors.ts";
import { workerConfig } from "./config.ts";
import { OBJECT_BINDING } from "./names.ts";

export { SwitchboardObject } from "./object.ts";


/**
 * The object that serves one app. Sharding an app over several objects later means choosing a
 * shard here (from the socket or channel) and having the objects share their channels; the core
 * needs no change for that, as each object is one node with its own adapter.
 */
export function objectName(appId: string): string {
  return `app:${appId}`;
}

/** The app a request belongs to, by the path the shared router serves it on. */
export function appOfRequest(config: Config, pathname: string): string | undefined {
  const prefix = config.pathPrefix.replace(/\/+$/, "");
  const path = prefix && pathname.startsWith(prefix) ? pathname.slice(prefix.length) : pathname;
  const segments = path.split("/");
  const first = config.apps[0]?.id;
  if (segments[1] === "app" && segments[2]) {
    const key = decodeURIComponent(segments[2]);
    // An unknown key still reaches an object, whose handshake refuses it with 4001.
    return config.apps.find((a) => a.key === key)?.id ?? first;
  }
  if ((segments[1] === "apps" || segments[1] === "up") && segments[2]) return decodeURIComponent(segments[2]);
  return first;
}

export default {
  async fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    let config: Config;
    try {
      config = workerConfig(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`switchboard: configuration error: ${error.message}`);
      return jsonError(500, `configuration error: ${error.message}`);
    }
    const namespace = env[OBJECT_BINDING] as DurableObjectNamespace | undefined;
    if (!namespace) return jsonError(500, `the ${OBJECT_BINDING} Durable Object binding is missing (see wrangler.jsonc)`);
    const appId = appOfRequest(config, new URL(request.url).pathname) ?? "none";
    return namespace.get(namespace.idFromName(objectName(appId))).fetch(request);
  },
};
