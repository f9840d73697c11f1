import { z } from "zod";
import { DEFAULT_HTTP_MAX_BODY_KB } from "../core/app.ts";
import { bool, num } from "../core/coerce.ts";
import { parseProxyTrust } from "../http/client-address.ts";

const parseError = (value: string): string => {
  try {
    parseProxyTrust(value);
    return "";
  } catch (error) {
    return (error as Error).message;
  }
};
const parses = (value: string): boolean => parseError(value) === "";

// Server-wide settings. Each key is reachable as --kebab-case flag, UPPER_SNAKE environment
// variable and camelCase config-file key; per-app settings use the app prefix (see load.ts).
// Each .describe() is that setting's line in --help. Backend settings (ADAPTER_DRIVER, REDIS_URL,
// APP_STORE_FILE, ...) belong to their drivers: src/drivers/.

export const serverSettingsSchema = {
  port: num(z.number().int().min(0).max(65535)).default(6001).describe("TCP port to listen on (0 picks a free one)"),
  bindAddress: z.string().min(1).default("0.0.0.0").describe("address to listen on"),
  pathPrefix: z.string().regex(/^(\/[A-Za-z0-9_\-.~/]*)?$/, "must be empty or start with /").default("")
    .describe("prefix for /app/{key} and /apps/{id} (e.g. /ws)"),
  activityTimeout: num(z.number().int().min(1)).default(120)
    .describe("seconds; announced to clients, the server pings a socket silent this long"),
  pongTimeout: num(z.number().positive()).default(30).describe("seconds to wait for a pong before closing with 4201"),
  requireProtocolParam: bool.default(false).describe("refuse connections without ?protocol= (4008)"),
  userAuthenticationTimeout: num(z.number().positive()).default(30)
    .describe("seconds a socket has to sign in when its app requires it (4009)"),
  cacheTtlSeconds: num(z.number().int().min(1)).default(1800).describe("lifetime of a cache channel's last event"),
  idempotencyWindowSeconds: num(z.number().int().min(1).max(3600)).default(300)
    .describe("seconds a publish's idempotency key (X-Idempotency-Key) is remembered: a retry within it is not delivered again"),
  maxWebSocketMessageKb: num(z.number().positive()).default(64).describe("larger inbound frames close the socket with 1009"),
  httpMaxBodyKb: num(z.number().positive()).default(DEFAULT_HTTP_MAX_BODY_KB)
    .describe(`larger HTTP API bodies get 413, refused before the app is looked up (unset: what the configured apps' limits admit, ${DEFAULT_HTTP_MAX_BODY_KB} with the defaults)`),
  maxSocketBufferKb: num(z.number().min(0)).default(4096)
    .describe("outgoing buffer per socket; a client that stops reading is closed with 4100 (0: no bound)"),
  maxInboundBacklogKb: num(z.number().positive()).default(4096)
    .describe("inbound frames one socket may have waiting to be handled; past it the socket is closed with 4100"),
  maxNodeConnections: num(z.number().int().min(-1)).default(-1).describe("connections on this node, -1 unlimited (4100 above)"),
  shutdownGracePeriodMs: num(z.number().int().min(0)).default(3000)
    .describe("on SIGTERM: /ready answers 503 at once while the API, sockets and bus keep serving this long (a balancer drains), then sockets close with 4200"),
  shutdownCloseSpreadMs: num(z.number().int().min(0).max(60_000)).default(1000)
    .describe("after the grace period: close the sockets with 4200 over this window, so their clients do not all reconnect at once"),
  // --- Webhooks (spec §7; docs/webhooks.md); the queue's own settings belong to its driver (QUEUE_DRIVER).
  webhookBatching: bool.default(false).describe("several events per body for the same app and webhook within the window (apps may override)"),
  webhookBatchingDurationMs: num(z.number().int().min(1).max(60_000)).default(50).describe("ms; the batching window"),
  webhookVacateDelayMs: num(z.number().int().min(0).max(600_000)).default(0)
    .describe("ms to hold channel_vacated/member_removed; a re-add within it cancels both (page reloads)"),
  webhookConcurrency: num(z.number().int().min(1).max(1000)).default(10).describe("webhook deliveries in flight at once on this node"),
  webhookTimeoutMs: num(z.number().int().min(1).max(120_000)).default(10_000).describe("ms per delivery attempt (Pusher: 10 s)"),
  webhookRetryWindowMs: num(z.number().int().min(0).max(86_400_000)).default(300_000)
    .describe("ms after the first attempt when retries stop and the batch is dead-lettered (Pusher: 5 min)"),
  webhookMemoryQueueSize: num(z.number().int().min(1)).default(10_000)
    .describe("jobs waiting in memory at most (the memory queue, or while a queue backend is away); beyond it they are dead-lettered"),
  webhookDeadLetterLimit: num(z.number().int().min(0)).default(1000).describe("dead letters kept (memory ring, Redis list)"),
  // --- Debug console (docs/console.md; src/console/).
  consoleEnabled: z.preprocess((v) => (typeof v === "string" && v.trim().toLowerCase() === "auto" ? "auto" : v), z.union([z.literal("auto"), bool]))
    .default("auto").describe("serve the debug console at /console: true, false, or auto (on only for the development app made when no app is configured)"),
  consoleToken: z.string().refine((s) => s === "" || s.length >= 16, "must be empty or at least 16 characters").default("")
    .describe("operator token: signs in to the console for every app (empty: only app id + secret sign-ins)"),
  consoleSessionHours: num(z.number().positive().max(24 * 30)).default(8).describe("hours a console sign-in lasts"),
  consoleBufferEvents: num(z.number().int().min(10).max(100_000)).default(500)
    .describe("events waiting for one slow console browser; beyond it they are dropped and counted"),
  consoleClusterEventsPerSecond: num(z.number().int().min(1)).default(1000)
    .describe("events per second and app one node forwards to consoles on other nodes; beyond it they are dropped and counted"),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info").describe("debug, info, warn, error or silent"),
  // --- Seeing and securing a running server (docs/operating.md).
  debug: bool.default(false).describe("same as LOG_LEVEL=debug (Sockudo's name)"),
  logFormat: z.enum(["pretty", "json"]).default("pretty").describe("pretty (one readable line) or json (one object per line)"),
  ignoreLoggerMiddleware: bool.default(false).describe("no debug line per HTTP request (Socket Rush's name)"),
  metricsEnabled: bool.default(true).describe("serve Prometheus metrics on their own listener"),
  metricsHost: z.string().min(1).default("0.0.0.0").describe("address of the metrics listener (unset: BIND_ADDRESS when that is given)"),
  metricsPort: num(z.number().int().min(0).max(65535)).default(9601).describe("port of the metrics listener (GET /metrics; 0 picks a free one)"),
  metricsPrefix: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/, "must be a Prometheus name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)").default("switchboard_")
    .describe("prefix of every series name (sockudo_ or soketi_ fits their dashboards)"),
  sslEnabled: bool.default(false).describe("serve https:// and wss:// on PORT (needs SSL_CERT_PATH and SSL_KEY_PATH)"),
  sslCertPath: z.string().default("").describe("PEM certificate (chain) file; reloaded on SIGHUP"),
  sslKeyPath: z.string().default("").describe("PEM private key file; reloaded on SIGHUP"),
  sslPassphrase: z.string().default("").describe("passphrase of an encrypted private key"),
  sslCaPath: z.string().default("").describe("PEM file of CA certificates to send with the chain"),
  sslHttpPort: num(z.number().int().min(-1).max(65535)).default(-1)
    .describe("with SSL: also serve plain HTTP on this port, redirecting to https (-1: off)"),
  corsOrigins: z.string().default("*").describe("origins allowed to call the HTTP API from a browser, comma separated (* any)"),
  corsMethods: z.string().default("GET,POST,OPTIONS").describe("methods a CORS preflight allows, comma separated"),
  corsHeaders: z.string().default("Content-Type,Authorization,X-Requested-With")
    .describe("request headers a CORS preflight allows, comma separated"),
  corsCredentials: bool.default(false).describe("let browsers send cookies (Access-Control-Allow-Credentials; needs explicit origins)"),
  rateLimiterEnabled: bool.default(false)
    .describe("per-IP limits on HTTP API requests (429) and WebSocket connections (refused before the upgrade); RATE_LIMITER_DRIVER picks the store"),
  trustProxy: z.preprocess((v) => (typeof v === "boolean" || typeof v === "number" ? String(v) : v), z.string()
    .refine((v) => parses(v), { error: (issue) => `${parseError(String(issue.input))}` }))
    .default("false")
    .describe("proxies in front of the node whose X-Forwarded-For entries count: false, true (one hop), a hop count, or their addresses/CIDRs (comma separated)"),
  warmupHandshakes: num(z.number().int().min(0).max(20_000)).default(2000)
    .describe("Node: at most this many WebSocket handshakes run over loopback against a throwaway app at start-up, before the port opens (about 0.85 s of CPU), so the first reconnect storm after a deploy meets a warmed process (0: off)"),
  httpAcceptTrafficMemoryThreshold: num(z.number().min(0).max(100)).default(85)
    .describe("percent of the machine's memory this process may use before /accept-traffic answers 503"),
} as const;

export type ServerSettingKey = keyof typeof serverSettingsSchema;
export type ServerSettings = { [K in ServerSettingKey]: z.infer<(typeof serverSettingsSchema)[K]> };
export const SERVER_SETTING_KEYS = Object.keys(serverSettingsSchema) as ServerSettingKey[];
