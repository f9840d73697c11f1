// POST /events and /batch_events (spec §6.3, §6.4), and the console's trigger form, which publishes
// through triggerEvent so it meets the same validation and the app's rate limit as the API.
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { Switchboard } from "../core/server.ts";
import type { ApiRequest } from "./authenticate.ts";
import { parseJsonBody } from "./body.ts";
import { HttpError } from "./errors.ts";
import { channelAttributes, validateEvent, type PublishRequest } from "./events.ts";
import { publishOnce, type PublishOutcome } from "./publish-once.ts";
import { chargeAppBudget } from "./rate-limits.ts";

/** What a publish reads of a request: the console's trigger form has no query string. */
export type PublishingRequest = Pick<ApiRequest, "app" | "body" | "headers" | "idempotencyKey">;

export async function triggerEvent(server: Switchboard, limiter: RateLimiter, req: PublishingRequest): Promise<unknown> {
  const event = validateEvent(req.app, parseJsonBody(req.body), false);
  await chargeAppBudget(limiter, req, "backend", event.channels.length, req.app.maxBackendEventsPerSecond);
  // Read before publishing (a publish changes no count): a read the cluster cannot answer is a 503
  // with nothing sent, never a 503 for an event that went out.
  const channels: Record<string, Record<string, number>> = {};
  for (const channel of event.info.length > 0 ? event.channels : []) channels[channel] = await channelAttributes(server, req.app, channel, event.info);
  const outcome = await publishOnce(server, req.app, event, req.idempotencyKey ?? event.idempotencyKey);
  return answered(req, [outcome], event.info.length > 0 ? { channels } : {});
}

export async function triggerBatch(server: Switchboard, limiter: RateLimiter, req: PublishingRequest): Promise<unknown> {
  const body = parseJsonBody(req.body);
  if (!Array.isArray(body.batch)) throw new HttpError(400, "batch must be an array of events");
  const max = req.app.maxEventBatchSize;
  if (body.batch.length === 0) throw new HttpError(400, "batch must not be empty");
  // Hosted Pusher's phrase first: SDK test suites (pusher-http-php) look for it.
  if (max >= 0 && body.batch.length > max) throw new HttpError(400, `Batch too large: batch holds more than ${max} events`);
  // All-or-nothing: every item is validated before anything is published.
  const events: PublishRequest[] = body.batch.map((item: unknown) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new HttpError(400, "batch items must be objects");
    return validateEvent(req.app, item as Record<string, unknown>, true);
  });
  const points = events.reduce((sum, e) => sum + e.channels.length, 0);
  await chargeAppBudget(limiter, req, "backend", points, req.app.maxBackendEventsPerSecond);
  const wantsInfo = events.some((e) => e.info.length > 0);
  const batch = [];
  for (const event of wantsInfo ? events : []) batch.push(await channelAttributes(server, req.app, event.channels[0]!, event.info));
  // One at a time, in order: a 503 part-way leaves the rest unsent, and the retry (with keys)
  // skips the items already delivered.
  const outcomes: PublishOutcome[] = [];
  for (const [i, event] of events.entries()) {
    const key = event.idempotencyKey ?? (req.idempotencyKey === undefined ? undefined : `${req.idempotencyKey}#${i}`);
    outcomes.push(await publishOnce(server, req.app, event, key));
  }
  return answered(req, outcomes, wantsInfo ? { batch } : {});
}

/** The answer to a publish; a retry whose every item was delivered before says so. */
function answered(req: PublishingRequest, outcomes: PublishOutcome[], body: Record<string, unknown>): Record<string, unknown> {
  if (!outcomes.every((o) => o === "duplicate")) return body;
  req.headers["Idempotent-Replayed"] = "true";
  return { ...body, duplicate: true };
}
