import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { AttemptResult } from "./target.ts";

// An AWS Lambda target (Soketi's lambda_function + lambda {async, region, client_options}). The
// function gets {headers, body, payload}: `body` is the exact signed string, so the function can
// verify X-Pusher-Signature (e.g. pusher.webhook({headers, rawBody: body}).isValid()); `payload`
// is the same body parsed, the shape Soketi's functions read. Async = an Event invocation
// (accepted = success); sync = RequestResponse, where a function error counts as a failure.

type Sdk = typeof import("@aws-sdk/client-lambda");

let sdk: Promise<Sdk> | undefined;
/** One client per (region, options): clients hold connection pools and credential caches. */
const clients = new Map<string, LambdaClient>();

interface LambdaTarget {
  functionName: string;
  async: boolean;
  region?: string;
  clientOptions?: Record<string, unknown>;
}

export async function invokeLambda(target: LambdaTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  let client: LambdaClient;
  let lib: Sdk;
  try {
    // Loaded on the first Lambda webhook only.
    lib = await (sdk ??= import("@aws-sdk/client-lambda"));
    client = clientFor(lib, target);
  } catch (error) {
    return { ok: false, error: `cannot set up the Lambda client: ${(error as Error).message}` };
  }
  const payload = JSON.stringify({ headers, body, payload: JSON.parse(body) as unknown });
  try {
    const res = await client.send(new lib.InvokeCommand({
      FunctionName: target.functionName,
      InvocationType: target.async ? "Event" : "RequestResponse",
      Payload: new TextEncoder().encode(payload),
    }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    const status = res.StatusCode ?? 0;
    if (res.FunctionError) {
      const detail = res.Payload ? new TextDecoder().decode(res.Payload).slice(0, 1024) : "";
      return { ok: false, status, error: `function error ${res.FunctionError}${detail ? `: ${detail}` : ""}` };
    }
    if (status < 200 || status >= 300) return { ok: false, status, error: `Lambda answered ${status}` };
    return { ok: true, status };
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    const message = e.name === "TimeoutError" || e.name === "AbortError" ? `no answer within ${timeoutMs} ms` : `${e.name}: ${e.message}`;
    return { ok: false, status: e.$metadata?.httpStatusCode, error: message };
  }
}

function clientFor(lib: Sdk, target: LambdaTarget): LambdaClient {
  const options = { region: target.region ?? "us-east-1", maxAttempts: 1, ...(target.clientOptions ?? {}) };
  const key = JSON.stringify(options);
  let client = clients.get(key);
  if (!client) {
    client = new lib.LambdaClient(options);
    clients.set(key, client);
  }
  return client;
}

/** Closes the cached clients' connections (shutdown). */
export function closeLambdaClients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}
