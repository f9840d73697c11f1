// A REST publish is delivered or refused (docs/operating.md, "When the API answers 503"): 2xx only once the
// event reached this node's subscribers and the bus took it for the others. With an idempotency
// key the publish is made once per key cluster-wide within IDEMPOTENCY_WINDOW_SECONDS, so a client
// that retries after a 503 or a timeout is never delivered twice: the key is claimed before the
// publish, recorded as done after it and released when it failed; and each node delivers a
// message carrying the key at most once (ClusterCallbacks.receive), in case the bus took it although
// the publish was answered 503.
import { ClusterUnavailableError } from "../core/adapter.ts";
import type { App } from "../core/app.ts";
import type { Switchboard } from "../core/server.ts";
import { HttpError } from "./errors.ts";
import { publishAll, type PublishRequest } from "./events.ts";

/**
 * A claim nobody settles (its node died mid-publish) lapses after this; a retry then publishes,
 * and the nodes that did deliver it drop the repeat by its key.
 */
const CLAIM_LAPSES_MS = 10_000;

export type PublishOutcome = "published" | "duplicate";

/** Publishes one request item; `key` is its idempotency key, when the client sent one. */
export async function publishOnce(server: Switchboard, app: App, request: PublishRequest, key: string | undefined): Promise<PublishOutcome> {
  try {
    if (key === undefined) {
      await publishAll(server, app, request);
      return "published";
    }
    return await publishKeyed(server, app, request, key);
  } catch (error) {
    if (error instanceof ClusterUnavailableError) {
      server.events.emit({ kind: "api_publish_refused", appId: app.id, reason: "unavailable", detail: error.message });
      throw new HttpError(503, `Event not published: ${error.message}. Retry it (with the same X-Idempotency-Key to have it delivered once)`, {
        "Retry-After": String(error.retryAfterSeconds),
      });
    }
    throw error;
  }
}

async function publishKeyed(server: Switchboard, app: App, request: PublishRequest, key: string): Promise<PublishOutcome> {
  const windowMs = server.settings.idempotencyWindowSeconds * 1000;
  const claim = await server.adapter.claimIdempotency(app.id, key, CLAIM_LAPSES_MS);
  if (claim === "done") {
    server.logger.debug(`HTTP API: publish with idempotency key ${key} of app ${app.id} was delivered already; not sent again`);
    server.events.emit({ kind: "api_publish_duplicate", appId: app.id, key });
    return "duplicate";
  }
  if (claim === "pending") {
    const detail = `a publish with idempotency key ${key} is in progress`;
    server.events.emit({ kind: "api_publish_refused", appId: app.id, reason: "in_progress", detail });
    throw new HttpError(409, `Event not published: ${detail}; retry after it`, { "Retry-After": "1" });
  }
  try {
    await publishAll(server, app, request, key);
  } catch (error) {
    // Released so that the retry the 503 asks for publishes it; a failed release only means the
    // claim lapses first.
    await server.adapter.settleIdempotency(app.id, key, false, windowMs).catch((releaseError: unknown) =>
      server.logger.warn(`HTTP API: releasing idempotency key ${key} of app ${app.id} failed; it lapses in ${CLAIM_LAPSES_MS} ms`, releaseError));
    throw error;
  }
  // The event was delivered: that is the answer even if recording it fails. A retry after the
  // claim lapsed is then dropped by every node that delivered it (their own memory of the key).
  await server.adapter.settleIdempotency(app.id, key, true, windowMs).catch((error: unknown) =>
    server.logger.warn(`HTTP API: recording idempotency key ${key} of app ${app.id} as delivered failed`, error));
  return "published";
}
