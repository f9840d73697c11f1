import { parseJsonObject } from "../core/frames.ts";
import type { Logger } from "../core/runtime.ts";
import { HttpError } from "./errors.ts";

const EMPTY = new Uint8Array(0);

/**
 * Reads the request body, failing with 413 as soon as it passes `maxBytes`. A body that breaks
 * off (the client aborted or went away mid-request) is the client's doing, not a server error:
 * one debug line and a 400 nobody may be left to read, never an error log with a stack (a client
 * could flood the logs with those).
 */
export async function readBody(request: Request, maxBytes: number, logger?: Pick<Logger, "debug">): Promise<Uint8Array> {
  try {
    return await read(request, maxBytes, logger);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    logger?.debug("HTTP request body broke off (client aborted?)", { path: new URL(request.url).pathname, error: error instanceof Error ? error.message : String(error) });
    throw new HttpError(400, "Request body incomplete");
  }
}

/**
 * 413 for a body whose Content-Length is past `maxBytes`, without reading any of it: called before
 * the app is looked up, so an unauthenticated client costs neither a store lookup nor the read.
 */
export function refuseDeclaredOversize(request: Request, maxBytes: number): void {
  if (declaredLength(request) > maxBytes) throw tooLarge(maxBytes);
}

function declaredLength(request: Request): number {
  return Number(request.headers.get("content-length") ?? "NaN");
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `Request body too large (at most ${Math.floor(maxBytes / 1024)} KB)`);
}

async function read(request: Request, maxBytes: number, logger?: Pick<Logger, "debug">): Promise<Uint8Array> {
  const declared = declaredLength(request);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  // With a declared length, arrayBuffer() lets @hono/node-server and Bun read the body natively
  // instead of materialising a ReadableStream (bench: ~1.6x REST publishes/s on Node).
  if (Number.isFinite(declared)) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > maxBytes) throw tooLarge(maxBytes);
    return body;
  }
  if (!request.body) return EMPTY;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // The answer is 413 whatever the cancel does; a failed cancel only means the peer is gone.
      await reader.cancel().catch((error: unknown) => logger?.debug("cancelling an oversized request body failed", error));
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const decoder = new TextDecoder();

/** A request body that must be a JSON object (400 otherwise); the Content-Type header is not trusted either way (spec §6.1). */
export function parseJsonBody(body: Uint8Array): Record<string, unknown> {
  const text = decoder.decode(body);
  const object = parseJsonObject(text);
  if (object) return object;
  // Only a refused body pays for telling the two failures apart.
  throw new HttpError(400, isJson(text) ? "Request body must be a JSON object" : "Request body is not valid JSON");
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
