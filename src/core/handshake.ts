import type { App } from "./app.ts";
import { AppStoreError, lookupApp } from "./app-store.ts";
import { CloseCode } from "./messages.ts";
import type { HandshakeContext } from "./context.ts";

export interface HandshakeRequest {
  /** The key from `/app/{key}`; undefined when the upgrade came on another path. */
  appKey?: string;
  /** The raw `protocol` query value, or null when absent. */
  protocol: string | null;
  origin: string | null;
}

export type HandshakeOutcome = { app: App } | { code: number; message: string; appId?: string };

/**
 * The checks of spec §1.2, in order. The quota check happens after, atomically in the adapter.
 * `nodeFull`: the node already held MAX_NODE_CONNECTIONS sockets, handshakes in flight included,
 * when this socket opened (the server counts them; see SocketLifecycle.openSocket).
 */
export async function checkHandshake(server: HandshakeContext, request: HandshakeRequest, nodeFull = false): Promise<HandshakeOutcome> {
  if (request.appKey === undefined) return { code: CloseCode.PathNotFound, message: "Path not found" };
  if (server.refusesSockets) return { code: CloseCode.Reconnect, message: "Server is shutting down, reconnect" };
  const { protocol } = request;
  if (protocol === null || protocol === "") {
    if (server.settings.requireProtocolParam) return { code: CloseCode.NoProtocol, message: "No protocol version supplied" };
  } else {
    if (!/^\d+$/.test(protocol)) return { code: CloseCode.InvalidVersion, message: "Invalid version string format" };
    const version = Number(protocol);
    if (version < 4 || version > 7) return { code: CloseCode.UnsupportedProtocol, message: "Unsupported protocol version" };
  }
  let app: App | undefined;
  try {
    app = await lookupApp(server.apps, server.timers, "key", request.appKey);
  } catch (error) {
    if (!(error instanceof AppStoreError)) throw error;
    server.logger.warn(`handshake refused: ${error.message}`, error.cause);
    return { code: CloseCode.AppStoreUnavailable, message: "Application store unavailable, reconnect" };
  }
  if (!app) return { code: CloseCode.AppNotFound, message: "Application does not exist" };
  if (!app.enabled) return { code: CloseCode.AppDisabled, message: "Application disabled", appId: app.id };
  if (!originAllowed(app.allowedOrigins, request.origin)) return { code: CloseCode.Unauthorized, message: "Origin not allowed", appId: app.id };
  if (nodeFull) return { code: CloseCode.OverCapacity, message: "Over capacity", appId: app.id };
  return { app };
}

/**
 * Entries are hosts ("example.com", any scheme), origins ("https://example.com": scheme, host and
 * port must all match, so it does not admit http://example.com) or wildcards ("*.example.com").
 */
export function originAllowed(allowed: string[], origin: string | null): boolean {
  if (allowed.length === 0 || allowed.includes("*")) return true;
  if (!origin) return false;
  const url = parseUrl(origin);
  if (!url) return false;
  return allowed.some((entry) => {
    if (entry === origin || entry === url.host) return true;
    if (entry.startsWith("*.")) return url.host.endsWith(entry.slice(1));
    // An entry with a scheme is an origin; URL.origin also folds a default port (":443") away.
    return entry.includes("://") && parseUrl(entry)?.origin === url.origin;
  });
}

/** The URL, or undefined for text that is none (an Origin header of "null", a bare host entry). */
function parseUrl(text: string): URL | undefined {
  return URL.canParse(text) ? new URL(text) : undefined;
}
