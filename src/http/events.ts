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
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** Checks an idempotency key from a header or a body field; undefined when none was given. */
export function idempotencyKey(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value === "" || value.length > MAX_IDEMPOTENCY_KEY_LENGTH || /[\u0000-\u001f]/.test(value)) {
    throw new HttpError(400, `${where} must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters`);
  }
  return value;
}

/** Validates one event object of /events or /batch_events (spec §6.3, §6.4). */
export function validateEvent(app: App, body: Record<string, unknown>, batchItem: boolean): PublishRequest {
  const where = batchItem ? "batch item: " : "";
  const name = body.name;
  if (typeof name !== "string" || name === "") throw new HttpError(400, `${where}name is required`);
  if (name.length > app.maxEventNameLength) throw new HttpError(400, `${where}name is longer than ${app.maxEventNameLength} characters`);
  if (name.startsWith("pusher:") || name.startsWith("pusher_internal:")) {
    throw new HttpError(400, `${where}event names starting with pusher: are reserved`);
  }
  if (body.data === undefined || body.data === null) throw new HttpError(400, `${where}data is required`);
  const data = typeof body.data === "string" ? body.data : JSON.stringify(body.data);
  if (app.maxEventPayloadInKb >= 0 && data.length > (app.maxEventPayloadInKb * 1024) / 3 &&
      encoder.encode(data).length > app.maxEventPayloadInKb * 1024) {
    // Hosted Pusher's phrase first: SDK test suites (pusher-http-php) look for "content of this event".
    const bytes = app.maxEventPayloadInKb * 1024;
    throw new HttpError(413, `The data content of this event exceeds the allowed maximum (${bytes} bytes): ${where}data is larger than ${app.maxEventPayloadInKb} KB`);
  }
  let channels: unknown;
  if (Array.isArray(body.channels)) channels = body.channels;
  else if (typeof body.channel === "string") channels = [body.channel];
  else throw new HttpError(400, `${where}channels (array) or channel (string) is required`);
  const list = channels as unknown[];
  if (list.length === 0) throw new HttpError(400, `${where}channels must not be empty`);
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
  let socketId: string | undefined;
  if (body.socket_id !== undefined && body.socket_id !== null) {
    if (typeof body.socket_id !== "string" || !SOCKET_ID_RE.test(body.socket_id)) {
      throw new HttpError(400, `${where}socket_id must look like 123.456`);
    }
    socketId = body.socket_id;
  }
  let info: string[] = [];
  if (body.info !== undefined && body.info !== null) {
    if (typeof body.info !== "string") throw new HttpError(400, `${where}info must be a comma-separated string`);
    info = body.info.split(",").map((s) => s.trim()).filter(Boolean);
  }
  return { name, data, channels: unique, socketId, info, idempotencyKey: idempotencyKey(body.idempotency_key, `${where}idempotency_key`) };
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
