import type { Context } from "hono";
import { requestBodyLimitBytes, type App } from "../core/app.ts";
import type { Switchboard } from "../core/server.ts";
import { readBody, refuseDeclaredOversize } from "./body.ts";
import { HttpError } from "./errors.ts";
import { idempotencyKey } from "./events.ts";
import { findApp } from "./find-app.ts";
import { verifyRequestSignature } from "./signature.ts";

/** A signed HTTP API request, as every endpoint receives it. */
export interface ApiRequest {
  app: App;
  body: Uint8Array;
  query: URLSearchParams;
  /** Rate-limit headers to add to the response. */
  headers: Record<string, string>;
  /** The X-Idempotency-Key (or Idempotency-Key) header, when given. */
  idempotencyKey?: string;
}

/**
 * Route → declared length (413) → app (404) → body (413) → signature (401) → enabled (403), as
 * spec §6.1 orders them. The body is read only up to the smaller of HTTP_MAX_BODY_KB and what the
 * app's own limits admit: an unsigned client cannot make the server hold more than that.
 */
export async function authenticate(server: Switchboard, c: Context): Promise<ApiRequest> {
  const serverLimit = server.settings.httpMaxBodyKb * 1024;
  refuseDeclaredOversize(c.req.raw, serverLimit);
  const app = await findApp(server, c.req.param("appId") ?? "");
  if (!app) throw new HttpError(404, "Unknown app id");
  const body = await readBody(c.req.raw, Math.min(serverLimit, requestBodyLimitBytes(app) ?? Infinity), server.logger);
  const url = new URL(c.req.url);
  const failure = await verifyRequestSignature(server.crypto, app, {
    method: c.req.method,
    path: url.pathname,
    rawQuery: url.search,
    body,
    nowSeconds: Math.floor(server.timers.now() / 1000),
  });
  if (failure) throw new HttpError(401, failure);
  if (!app.enabled) throw new HttpError(403, "Application disabled");
  const key = c.req.header("x-idempotency-key") ?? c.req.header("idempotency-key");
  return { app, body, query: url.searchParams, headers: {}, idempotencyKey: idempotencyKey(key, "X-Idempotency-Key") };
}
