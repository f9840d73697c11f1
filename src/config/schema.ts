import { z } from "zod";
import { bool, num } from "../core/coerce.ts";

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
  maxWebSocketMessageKb: num(z.number().positive()).default(64).describe("larger inbound frames close the socket with 1009"),
  httpMaxBodyKb: num(z.number().positive()).default(10240).describe("larger HTTP API bodies get 413"),
  maxSocketBufferKb: num(z.number().min(0)).default(4096)
    .describe("outgoing buffer per socket; a client that stops reading is closed with 4100 (0: no bound)"),
  maxNodeConnections: num(z.number().int().min(-1)).default(-1).describe("connections on this node, -1 unlimited (4100 above)"),
  shutdownGracePeriodMs: num(z.number().int().min(0)).default(3000)
    .describe("on SIGTERM: wait this long after closing sockets with 4200 (a balancer drains) before exiting"),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info").describe("debug, info, warn, error or silent"),
} as const;

export type ServerSettingKey = keyof typeof serverSettingsSchema;
export type ServerSettings = { [K in ServerSettingKey]: z.infer<(typeof serverSettingsSchema)[K]> };
export const SERVER_SETTING_KEYS = Object.keys(serverSettingsSchema) as ServerSettingKey[];
