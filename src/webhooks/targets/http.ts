import type { AttemptResult } from "./target.ts";

// POST to an http(s) URL (spec §7.1). Redirects are not followed (a webhook endpoint that moved
// must be reconfigured, not silently chased, and a redirect must not carry the signed body
// elsewhere). At most RESPONSE_PEEK_BYTES of the answer are read, for the log; the rest is dropped.

const RESPONSE_PEEK_BYTES = 1024;

export async function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal });
  } catch (error) {
    const e = error as Error;
    return { ok: false, error: e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `${e.message}${causeOf(e)}` };
  }
  const peek = await readSome(res, signal);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  if (res.status >= 300 && res.status < 400) return { ok: false, status: res.status, error: `redirect to ${res.headers.get("location") ?? "?"} not followed` };
  // An opaque redirect (status 0) is how some runtimes report a manual redirect.
  if (res.type === "opaqueredirect") return { ok: false, status: 0, error: "redirect not followed" };
  return { ok: false, status: res.status, error: `HTTP ${res.status}${peek ? `: ${peek}` : ""}` };
}

/** Up to RESPONSE_PEEK_BYTES of the body as text; the connection is released either way. */
async function readSome(res: Response, signal: AbortSignal): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_PEEK_BYTES && !signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body that fails mid-read does not change the status we already have.
    return "";
  } finally {
    reader.cancel().catch(() => undefined); // releases the socket; an error here has nothing to tell
  }
  const bytes = new Uint8Array(Math.min(size, RESPONSE_PEEK_BYTES));
  let at = 0;
  for (const c of chunks) {
    const take = Math.min(c.length, bytes.length - at);
    bytes.set(c.subarray(0, take), at);
    at += take;
    if (at >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes).replace(/\s+/g, " ").trim();
}

/** undici hides the real reason (ECONNREFUSED, ...) in error.cause. */
function causeOf(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (!cause) return "";
  return ` (${cause.code ?? cause.message ?? String(cause)})`;
}
