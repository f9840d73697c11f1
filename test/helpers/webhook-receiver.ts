// A real HTTP webhook endpoint for integration tests: records every request and checks each with
// the official pusher SDK's webhook(...).isValid(), the way an application backend would.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import PusherServer from "pusher";

export interface WebhookEventBody {
  name: string;
  channel: string;
  [field: string]: unknown;
}

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** What pusher.webhook({headers, rawBody}).isValid() said. */
  valid: boolean;
  time_ms: number;
  events: WebhookEventBody[];
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Every event of every request, in arrival order. */
  events(filter?: (e: WebhookEventBody) => boolean): WebhookEventBody[];
  /** Decides the status per request (default 200); may delay or never answer. */
  answer: (req: ReceivedWebhook, res: ServerResponse) => void | number;
  /** Resolves when `done(events)` holds, or rejects after timeoutMs with what arrived. */
  waitFor(done: (events: WebhookEventBody[]) => boolean, timeoutMs?: number): Promise<WebhookEventBody[]>;
  close(): Promise<void>;
}

export async function startReceiver(app: { appId: string; key: string; secret: string }): Promise<Receiver> {
  const pusher = new PusherServer({ appId: app.appId, key: app.key, secret: app.secret, host: "127.0.0.1" });
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const hook = pusher.webhook({ headers: req.headers as Record<string, string>, rawBody });
      let body: { time_ms?: number; events?: WebhookEventBody[] } = {};
      try {
        body = JSON.parse(rawBody);
      } catch {
        // recorded as invalid below
      }
      const entry: ReceivedWebhook = {
        path: req.url ?? "", headers: req.headers, rawBody, valid: hook.isValid(), time_ms: body.time_ms ?? 0, events: body.events ?? [], at: Date.now(),
      };
      const status = receiver.answer(entry, res);
      if (typeof status === "number") {
        if (status >= 200 && status < 300) {
          received.push(entry);
          for (const w of [...waiters]) w();
        }
        res.writeHead(status, { "Content-Type": "text/plain" }).end(status < 300 ? "ok" : "try later");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const allEvents = (filter?: (e: WebhookEventBody) => boolean) => received.flatMap((r) => r.events).filter(filter ?? (() => true));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/pusher/webhooks`,
    port,
    received,
    events: allEvents,
    answer: () => 200,
    waitFor(done, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(allEvents())) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(allEvents());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhooks not received within ${timeoutMs} ms; got ${JSON.stringify(allEvents())}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return receiver;
}

/** Counts of each "name channel [user]" line, for exactly-once checks. */
export function tally(events: WebhookEventBody[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) {
    const key = [e.name, e.channel, e.user_id].filter((x) => x !== undefined).join(" ");
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}
