// Pusher request signing (protocol spec §4.2 and §6.2), done here rather than through the pusher
// SDK so the publisher's own overhead stays small and visible.
import { createHash, createHmac } from "node:crypto";
import type { AppCredentials } from "./server.ts";

export function hmacHex(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message).digest("hex");
}

/** Auth token for a private or presence subscription: "<key>:<hmac(socket_id:channel[:channel_data])>". */
export function channelAuth(app: AppCredentials, socketId: string, channel: string, channelData?: string): string {
  const toSign = channelData ? `${socketId}:${channel}:${channelData}` : `${socketId}:${channel}`;
  return `${app.key}:${hmacHex(app.secret, toSign)}`;
}

/** Path and signed query string for one REST call (keys already lower-case and sorted). */
export function signedPath(app: AppCredentials, method: string, path: string, body: string): string {
  const params: [string, string][] = [
    ["auth_key", app.key],
    ["auth_timestamp", String(Math.floor(Date.now() / 1000))],
    ["auth_version", "1.0"],
  ];
  if (body.length > 0) params.push(["body_md5", createHash("md5").update(body).digest("hex")]);
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = params.map(([k, v]) => `${k}=${v}`).join("&");
  const signature = hmacHex(app.secret, `${method}\n${path}\n${query}`);
  return `${path}?${query}&auth_signature=${signature}`;
}

/** Publishes events through POST /apps/{id}/events over keep-alive HTTP. */
export class Publisher {
  private readonly base: string;
  private readonly path: string;
  /** The last network error (a status of 0), for the report. */
  lastError = "";

  constructor(host: string, port: number, private readonly app: AppCredentials) {
    this.base = `http://${host}:${port}`;
    this.path = `/apps/${app.id}/events`;
  }

  /** Returns the HTTP status (0 on a network error). */
  async trigger(channel: string, name: string, data: string): Promise<number> {
    const body = JSON.stringify({ name, channel, data });
    try {
      const res = await fetch(this.base + signedPath(this.app, "POST", this.path, body), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch (error) {
      this.lastError = (error as Error).message;
      return 0;
    }
  }
}
