// Webhooks through AWS: QUEUE_DRIVER=sqs against local-aws-sqs (started here, on 127.0.0.1), and
// Lambda targets against a local endpoint that speaks the Lambda Invoke API. Both check that what
// arrives is the signed body, with the official pusher SDK.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createSqsServer } from "local-aws-sqs";
import PusherServer from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rawClient, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { startReceiver, tally, type Receiver } from "../helpers/webhook-receiver.ts";
import { freePort, subscribe } from "../adapters/cluster.ts";

const APP = { appId: "app-id", key: "app-key", secret: "app-secret" };
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };
const pusher = new PusherServer({ ...APP, host: "127.0.0.1" });

const servers: TestServer[] = [];
const clients: RawClient[] = [];
async function client(server: TestServer): Promise<RawClient> {
  const c = await rawClient(server);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe("webhooks with QUEUE_DRIVER=sqs (local-aws-sqs)", () => {
  let sqsServer: Server;
  let endpoint: string;
  let sqs: SQSClient;
  let receiver: Receiver;
  beforeAll(async () => {
    const port = await freePort();
    sqsServer = await createSqsServer({ port, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
    endpoint = `http://127.0.0.1:${port}`;
    sqs = new SQSClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    receiver = await startReceiver(APP);
  });
  afterAll(async () => {
    sqs?.destroy();
    await receiver?.close();
    await new Promise((r) => sqsServer?.close(r));
  });

  async function queue(name: string): Promise<string> {
    return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  }

  async function sqsNode(extra: Record<string, string> = {}): Promise<TestServer> {
    const s = await startServer({
      env: {
        ...CREDENTIALS,
        QUEUE_DRIVER: "sqs",
        SQS_QUEUE_URL: await queue(`hooks-${Math.random().toString(36).slice(2, 8)}`),
        SQS_ENDPOINT: endpoint,
        SQS_REGION: "us-east-1",
        // local-aws-sqs answers a long poll only when it is full or over, so keep polls short.
        SQS_WAIT_TIME_SECONDS: "1",
        LOG_LEVEL: "debug",
        APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["channel_occupied", "channel_vacated"] }]),
        ...extra,
      },
    });
    servers.push(s);
    return s;
  }

  it("delivers through the queue, retrying while the endpoint answers 503", async () => {
    let refusals = 0;
    receiver.answer = () => (refusals++ < 2 ? 503 : 200);
    const s = await sqsNode();
    const c = await client(s);
    await subscribe(s, c, "sqs-a");
    c.close();
    // A standard SQS queue keeps no order between bodies: the retried occupied may come after vacated.
    const has = (all: { name: string; channel?: string }[], name: string) => all.some((e) => e.name === name && e.channel === "sqs-a");
    const events = await receiver.waitFor((all) => has(all, "channel_vacated") && has(all, "channel_occupied"), 30_000);
    expect(tally(events.filter((e) => e.channel === "sqs-a"))).toEqual({ "channel_occupied sqs-a": 1, "channel_vacated sqs-a": 1 });
    expect(receiver.received.every((r) => r.valid)).toBe(true);
    expect(s.output()).toMatch(/failed: HTTP 503/);
  });

  it("moves a body still failing at the end of the window to SQS_DEAD_LETTER_QUEUE_URL", async () => {
    receiver.answer = () => 503;
    const dlq = await queue(`hooks-dlq-${Math.random().toString(36).slice(2, 8)}`);
    const s = await sqsNode({ SQS_DEAD_LETTER_QUEUE_URL: dlq, WEBHOOK_RETRY_WINDOW_MS: "1500" });
    const c = await client(s);
    await subscribe(s, c, "sqs-doomed");
    let letters: { job: { body: string; appId: string }; reason: string }[] = [];
    const deadline = Date.now() + 15_000;
    while (letters.length === 0 && Date.now() < deadline) {
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      letters = (res.Messages ?? []).map((m) => JSON.parse(m.Body!));
    }
    expect(letters).toHaveLength(1);
    expect(letters[0]!.job.appId).toBe("app-id");
    expect(JSON.parse(letters[0]!.job.body).events).toEqual([{ name: "channel_occupied", channel: "sqs-doomed" }]);
    expect(letters[0]!.reason).toMatch(/HTTP 503/);
    expect(s.output()).toMatch(/webhook dead-lettered: app app-id, target http:\/\/127\.0\.0\.1:\d+\/pusher\/webhooks, 1 events/);
    receiver.answer = () => 200;
  });
});

interface Invocation {
  functionName: string;
  invocationType: string;
  authorization: string;
  payload: { headers: Record<string, string>; body: string; payload: unknown };
}

/** A local endpoint for the Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations). */
async function startLambda(fail: (n: number) => boolean): Promise<{ endpoint: string; invocations: Invocation[]; close(): Promise<void> }> {
  const invocations: Invocation[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? "");
      if (req.method !== "POST" || !m) {
        res.writeHead(404).end();
        return;
      }
      const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
      const call: Invocation = {
        functionName: decodeURIComponent(m[1]!), invocationType: type, authorization: String(req.headers.authorization ?? ""),
        payload: JSON.parse(Buffer.concat(chunks).toString("utf8")),
      };
      if (fail(n++)) {
        res.writeHead(200, { "Content-Type": "application/json", "X-Amz-Function-Error": "Unhandled" })
          .end(JSON.stringify({ errorMessage: "boom", errorType: "Error" }));
        return;
      }
      invocations.push(call);
      if (type === "Event") res.writeHead(202).end();
      else res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe("webhooks to AWS Lambda (Invoke API)", () => {
  it("invokes sync and async functions with the signed body; a function error is retried", async () => {
    const lambda = await startLambda((n) => n === 0); // the first invocation fails
    try {
      const clientOptions = { endpoint: lambda.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
      const s = await startServer({
        env: {
          LOG_LEVEL: "debug",
          APP_WEBHOOKS: JSON.stringify([
            { lambda_function: "sync-hook", lambda: { async: false, region: "eu-west-1", client_options: clientOptions }, event_types: ["channel_occupied"] },
            { lambda_function: "async-hook", lambda: { async: true, client_options: clientOptions }, event_types: ["channel_occupied"] },
          ]),
        },
      });
      servers.push(s);
      const c = await client(s);
      await subscribe(s, c, "lambda-a");
      const deadline = Date.now() + 10_000;
      while (lambda.invocations.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const byName = Object.fromEntries(lambda.invocations.map((i) => [i.functionName, i]));
      expect(Object.keys(byName).sort()).toEqual(["async-hook", "sync-hook"]);
      expect(byName["sync-hook"]!.invocationType).toBe("RequestResponse");
      expect(byName["async-hook"]!.invocationType).toBe("Event");
      for (const inv of lambda.invocations) {
        expect(inv.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\//); // SigV4-signed by the SDK
        const headers = Object.fromEntries(Object.entries(inv.payload.headers).map(([k, v]) => [k.toLowerCase(), v]));
        expect(pusher.webhook({ headers, rawBody: inv.payload.body }).isValid()).toBe(true);
        expect(inv.payload.payload).toEqual(JSON.parse(inv.payload.body));
        expect(JSON.parse(inv.payload.body).events).toEqual([{ name: "channel_occupied", channel: "lambda-a" }]);
      }
      expect(byName["sync-hook"]!.authorization).toContain("/eu-west-1/lambda/");
      expect(s.output()).toMatch(/webhook to lambda:(sync|async)-hook for app app-id failed: function error Unhandled/);
    } finally {
      await lambda.close();
    }
  });
});
