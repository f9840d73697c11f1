import { z } from "zod";
import type { App } from "../core/app.ts";
import { classifyChannel, isValidChannelName, SOCKET_ID_RE } from "../core/channels.ts";
import type { Switchboard } from "../core/server.ts";
import { HttpError } from "./errors.ts";

const encoder = new TextEncoder();

/** One validated event publish: a name and data for one or more channels. */
export interface PublishRequest {
  name: string;
  data: string;
  channels: string[];
  socketId?: string;
  info: string[];
  /** The body's `idempotency_key` (Sockudo's name), when given. */
  idempotencyKey?: string;
}

/** Longest idempotency key accepted; a client's UUID or hash fits many times over. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

const KEY_RULE = `must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters`;
const idempotencyKeySchema = z.string({ error: KEY_RULE }).min(1, KEY_RULE).max(MAX_IDEMPOTENCY_KEY_LENGTH, KEY_RULE)
  .regex(/^[^\u0000-\u001f]*$/, KEY_RULE);

/** Checks an idempotency key from a header or a body field; undefined when none was given. */
export function idempotencyKey(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const checked = idempotencyKeySchema.safeParse(value);
  if (!checked.success) throw new HttpError(400, `${where} ${KEY_RULE}`);
  return checked.data;
}

const CHANNELS_REQUIRED = "channels (array) or channel (string) is required";

/**
 * The shape of one event of /events or /batch_events (spec §6.3, §6.4), with the message each
 * refusal gets; the app's own limits (name length, payload size, channel names) are checked after.
 */
const eventSchema = z.object({
  name: z.string({ error: "name is required" }).min(1, "name is required")
    .refine((n) => !n.startsWith("pusher:") && !n.startsWith("pusher_internal:"), "event names starting with pusher: are reserved"),
  data: z.unknown().refine((d) => d !== undefined && d !== null, "data is required")
    .transform((d) => (typeof d === "string" ? d : JSON.stringify(d))),
  channels: z.array(z.unknown(), { error: CHANNELS_REQUIRED }).min(1, "channels must not be empty").optional(),
  channel: z.string({ error: CHANNELS_REQUIRED }).optional(),
  socket_id: z.string().regex(SOCKET_ID_RE).nullish().catch(() => INVALID_SOCKET_ID),
  info: z.string({ error: "info must be a comma-separated string" }).nullish(),
  idempotency_key: z.unknown().optional(),
}).refine((e) => e.channels !== undefined || e.channel !== undefined, CHANNELS_REQUIRED);

/** zod's catch keeps the other fields' issues; this marker then names the socket_id's. */
const INVALID_SOCKET_ID = "\u0000invalid";

/** Validates one event object of /events or /batch_events (spec §6.3, §6.4). */
export function validateEvent(app: App, body: Record<string, unknown>, batchItem: boolean): PublishRequest {
  const where = batchItem ? "batch item: " : "";
  const parsed = eventSchema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, `${where}${parsed.error.issues[0]!.message}`);
  const e = parsed.data;
  if (e.socket_id === INVALID_SOCKET_ID) throw new HttpError(400, `${where}socket_id must look like 123.456`);
  if (e.name.length > app.maxEventNameLength) throw new HttpError(400, `${where}name is longer than ${app.maxEventNameLength} characters`);
  const data = e.data;
  if (app.maxEventPayloadInKb >= 0 && data.length > (app.maxEventPayloadInKb * 1024) / 3 &&
      encoder.encode(data).length > app.maxEventPayloadInKb * 1024) {
    // Hosted Pusher's phrase first: SDK test suites (pusher-http-php) look for "content of this event".
    const bytes = app.maxEventPayloadInKb * 1024;
    throw new HttpError(413, `The data content of this event exceeds the allowed maximum (${bytes} bytes): ${where}data is larger than ${app.maxEventPayloadInKb} KB`);
  }
  const list = e.channels ?? [e.channel!];
  if (app.maxEventChannelsAtOnce >= 0 && list.length > app.maxEventChannelsAtOnce) {
    throw new HttpError(400, `${where}more than ${app.maxEventChannelsAtOnce} channels`);
  }
  for (const channel of list) {
    if (!isValidChannelName(channel, app.maxChannelNameLength)) {
      // JSON of the value, not String(): an object without a prototype has no string form at all.
      const shown = typeof channel === "string" ? channel : JSON.stringify(channel) ?? typeof channel;
      throw new HttpError(400, `${where}invalid channel name: ${shown.slice(0, 210)}`);
    }
  }
  const unique = [...new Set(list as string[])];
  if (unique.length > 1 && unique.some((c) => classifyChannel(c).encrypted)) {
    throw new HttpError(400, `${where}an encrypted channel cannot be triggered together with other channels`);
  }
  const info = e.info ? e.info.split(",").map((s) => s.trim()).filter(Boolean) : [];
  return {
    name: e.name, data, channels: unique, socketId: e.socket_id ?? undefined, info,
    idempotencyKey: idempotencyKey(e.idempotency_key, `${where}idempotency_key`),
  };
}

/** Per-channel `info` attributes; attributes that do not apply to a channel are omitted. */
export async function channelAttributes(server: Switchboard, app: App, channel: string, info: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const wantsUsers = info.includes("user_count") && classifyChannel(channel).presence;
  const wantsSubs = info.includes("subscription_count");
  if (!wantsUsers && !wantsSubs) return out;
  const stats = await server.adapter.channelStats(app.id, channel);
  if (wantsUsers) out.user_count = stats.userCount;
  if (wantsSubs) out.subscription_count = stats.subscriptionCount;
  return out;
}

/** Publishes to every channel of the request; `key` (an idempotency key) makes each node deliver it once. */
export async function publishAll(server: Switchboard, app: App, request: PublishRequest, key?: string): Promise<void> {
  server.events.emit({
    kind: "api_publish", appId: app.id, channels: request.channels, event: request.name, bytes: request.data.length, socketId: request.socketId,
  });
  await Promise.all(request.channels.map((channel) =>
    server.publish(app, channel, request.name, request.data, request.socketId, key === undefined ? undefined : `${key}\n${channel}`)));
}
