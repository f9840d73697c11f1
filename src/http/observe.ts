import type { MiddlewareHandler } from "hono";
import type { EventStream } from "../core/events.ts";

declare module "../core/events.ts" {
  interface FeatureEvents {
    /**
     * One HTTP request answered (not WebSocket upgrades); appId is the route's app id or "".
     * Bytes are the Content-Length of the request and of the response.
     */
    http_request: { method: string; path: string; status: number; ms: number; bytesIn: number; bytesOut: number; address?: string };
  }
}

const appIdOf = (path: string) => /\/apps\/([^/]+)/.exec(path)?.[1] ?? "";

/**
 * One `http_request` event per answered request, for http_calls_received_total and the request
 * log. Bytes are the Content-Length of each side; a response without one (a small page) is
 * measured from a clone. Skipped when nothing listens for http_request.
 */
export function observeRequests(events: EventStream, now: () => number, address: (c: Parameters<MiddlewareHandler>[0]) => string): MiddlewareHandler {
  return async (c, next) => {
    if (!events.wants("http_request")) return next();
    const started = now();
    await next();
    const res = c.res;
    const length = res.headers.get("content-length");
    let bytesOut = length === null ? -1 : Number(length);
    if (bytesOut < 0) bytesOut = res.body ? (await res.clone().arrayBuffer()).byteLength : 0;
    events.emit({
      kind: "http_request",
      appId: appIdOf(c.req.path),
      method: c.req.method,
      path: c.req.path,
      status: res.status,
      ms: now() - started,
      bytesIn: Number(c.req.header("content-length") ?? 0) || 0,
      bytesOut,
      address: address(c),
    });
  };
}
