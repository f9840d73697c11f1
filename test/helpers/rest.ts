// REST helpers for integration tests: outcomes of official-SDK calls, and hand-signed requests
// for what the SDK refuses to send (malformed JSON, stale timestamps, wrong body_md5, ...).
// Signing here uses node:crypto directly so it never shares code with the server under test.
import { createHash, createHmac } from "node:crypto";
import { authToken, byEvent, rawClient, type RawClient } from "./clients.ts";
import type { TestServer } from "./server.ts";

export interface Outcome {
  status: number;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: any;
  text: string;
}

/** Resolves an SDK call (trigger, get, post, ...) to its status and body, errors included. */
export async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    const res = (await call) as { status: number; text(): Promise<string> };
    const text = await res.text();
    return { status: res.status, text, json: parse(text) };
  } catch (error) {
    const e = error as { status?: number; body?: string; message: string };
    if (e.status === undefined) throw error;
    return { status: e.status, text: e.body ?? "", json: parse(e.body ?? "") };
  }
}

function parse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface SignOptions {
  appId?: string;
  key?: string;
  secret?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Extra query parameters, signed like the SDKs sign them. */
  params?: Record<string, string>;
  /** Override body_md5 (null: omit it even with a body). */
  bodyMd5?: string | null;
  /** Post-process the finished query string (e.g. to tamper with the signature). */
  mutateQuery?: (query: string) => string;
  headers?: Record<string, string>;
}

export interface RawResponse extends Outcome {
  headers: Headers;
}

/** Sends a request signed per spec §6.2 to `/apps/{appId}{apiPath}` (apiPath like "/events"). */
export async function signedRequest(server: TestServer, method: "GET" | "POST", apiPath: string, body?: string, opts: SignOptions = {}): Promise<RawResponse> {
  const path = `/apps/${opts.appId ?? server.appId}${apiPath}`;
  const params: Record<string, string> = {
    auth_key: opts.key ?? server.key,
    auth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: "1.0",
    ...opts.params,
  };
  const md5 = opts.bodyMd5 === undefined ? (body ? createHash("md5").update(body).digest("hex") : undefined) : opts.bodyMd5;
  if (md5 !== undefined && md5 !== null) params.body_md5 = md5;
  const query = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join("&");
  const signature = createHmac("sha256", opts.secret ?? server.secret).update(`${method}\n${path}\n${query}`).digest("hex");
  let full = `${query}&auth_signature=${signature}`;
  if (opts.mutateQuery) full = opts.mutateQuery(full);
  return send(server, method, `${path}?${full}`, body, opts.headers);
}

/** An unsigned request to any path. */
export async function send(server: TestServer, method: string, pathAndQuery: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(`http://${server.host}:${server.port}${pathAndQuery}`, {
    method,
    body,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parse(text) };
}

/** A raw WebSocket subscribed to `channel`; private/presence channels are signed for its socket id. */
export async function subscribed(server: TestServer, channel: string, member?: { user_id: string; user_info?: unknown }): Promise<RawClient> {
  const client = await rawClient(server);
  await subscribe(server, client, channel, member);
  return client;
}

export async function subscribe(server: TestServer, client: RawClient, channel: string, member?: { user_id: string; user_info?: unknown }): Promise<void> {
  const data: Record<string, string> = { channel, auth: "" };
  if (channel.startsWith("private-") || channel.startsWith("presence-")) {
    const channelData = member ? JSON.stringify(member) : undefined;
    data.auth = authToken(server, `${client.socketId}:${channel}${channelData ? `:${channelData}` : ""}`);
    if (channelData) data.channel_data = channelData;
  }
  client.send({ event: "pusher:subscribe", data });
  await client.next(byEvent("pusher_internal:subscription_succeeded", channel));
}

/**
 * POSTs `body` through the SDK's own signing and transport (`pusher.post`), bypassing its client-side
 * validation. The SDK JSON-encodes `body` itself although its typings say string.
 */
export function sdkPost(client: { post(opts: { path: string; body: any }): Promise<unknown> }, apiPath: string, body: unknown): Promise<Outcome> {
  return outcome(client.post({ path: apiPath, body }));
}

/** GET through the SDK (`pusher.get`), with query parameters it signs. */
export function sdkGet(client: { get(opts: { path: string; params?: any }): Promise<unknown> }, apiPath: string, params?: Record<string, string>): Promise<Outcome> {
  return outcome(client.get({ path: apiPath, params }));
}
