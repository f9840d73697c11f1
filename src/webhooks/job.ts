import type { App, WebhookConfig } from "../core/app.ts";
import type { CryptoProvider } from "../core/runtime.ts";
import { webhookBody, type WebhookEvent } from "./payload.ts";

// A job is one signed body for one target. It is complete in itself (body, signature, headers),
// so a durable queue can hand it to any node, and the app secret never enters the queue.

export type JobTarget =
  | { url: string }
  /** Lambda client options (possibly credentials) stay in the app config and are looked up at send time. */
  | { lambdaFunction: string; async: boolean; region?: string };

export interface WebhookJob {
  /** Unique: log correlation, and keeps two identical bodies apart in a Redis sorted set. */
  id: string;
  appId: string;
  target: JobTarget;
  headers: Record<string, string>;
  body: string;
  /** How many events the body carries. */
  events: number;
  /** Distinct channels in the body; the memory queue keeps each channel's bodies in order. */
  channels: string[];
  createdAt: number;
}

const USER_AGENT = "Switchboard-webhooks/1.0";
/** Headers a webhook's own `headers` may not set (spec §7.1), lowercased. */
const RESERVED = new Set(["x-pusher-key", "x-pusher-signature", "content-type"]);

function jobTarget(webhook: WebhookConfig): JobTarget {
  if (webhook.url !== undefined) return { url: webhook.url };
  return { lambdaFunction: webhook.lambda_function!, async: webhook.lambda?.async ?? false, region: webhook.lambda?.region };
}

/** For logs: a URL without its query (it may hold a token), or the Lambda function. */
export function targetLabel(target: JobTarget): string {
  if ("url" in target) {
    const q = target.url.search(/[?#]/);
    return q < 0 ? target.url : target.url.slice(0, q);
  }
  return `lambda:${target.lambdaFunction}`;
}

/** The request headers: the webhook's own first, then the three the receiver verifies. */
export function webhookHeaders(app: App, signature: string, custom: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = { "User-Agent": USER_AGENT };
  for (const [name, value] of Object.entries(custom ?? {})) {
    if (!RESERVED.has(name.toLowerCase())) headers[name] = value;
  }
  headers["Content-Type"] = "application/json"; // no charset: the Node SDK compares the whole value
  headers["X-Pusher-Key"] = app.key;
  headers["X-Pusher-Signature"] = signature;
  return headers;
}

let sequence = 0;

/** Builds and signs the job for `events` (already filtered for this webhook). */
export async function buildJob(
  crypto: CryptoProvider, app: App, webhook: WebhookConfig, events: readonly WebhookEvent[], now: number,
): Promise<WebhookJob> {
  const body = webhookBody(now, events);
  // Signed after filtering: the signature covers exactly the bytes sent (Soketi gets this wrong).
  const signature = await crypto.hmacSha256Hex(app.secret, body);
  return {
    id: `${now.toString(36)}-${(sequence++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    appId: app.id,
    target: jobTarget(webhook),
    headers: webhookHeaders(app, signature, webhook.headers),
    body,
    events: events.length,
    channels: [...new Set(events.map((e) => e.channel))],
    createdAt: now,
  };
}
