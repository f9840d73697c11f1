import type { App } from "../core/app.ts";
import { timingSafeEqual } from "../core/crypto.ts";
import type { CryptoProvider } from "../core/runtime.ts";

const MAX_SKEW_SECONDS = 600;

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

/** Parses a raw query string the way spec §6.2 canonicalizes it: decoded, keys lower-cased. */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery.startsWith("?")) rawQuery = rawQuery.slice(1);
  if (rawQuery === "") return [];
  return rawQuery.split("&").filter((part) => part !== "").map((part) => {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    return [decodeComponent(key).toLowerCase(), decodeComponent(value)];
  });
}

export function canonicalQuery(params: [string, string][]): string {
  return params
    .filter(([key]) => key !== "auth_signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

export interface SignedRequest {
  method: string;
  path: string;
  rawQuery: string;
  body: Uint8Array;
  /** Server time in seconds. */
  nowSeconds: number;
}

/** Verifies a signed HTTP API request. Returns null when valid, else the reason (all 401). */
export async function verifyRequestSignature(crypto: CryptoProvider, app: App, req: SignedRequest): Promise<string | null> {
  const params = parseQuery(req.rawQuery);
  const get = (key: string) => params.find(([k]) => k === key)?.[1];
  const authKey = get("auth_key");
  const timestamp = get("auth_timestamp");
  const version = get("auth_version");
  const signature = get("auth_signature");
  if (!authKey || !timestamp || !version || !signature) {
    return "Missing auth_key, auth_timestamp, auth_version or auth_signature";
  }
  if (authKey !== app.key) return "auth_key does not match the app";
  if (version !== "1.0") return "Unsupported auth_version";
  if (!/^\d+$/.test(timestamp) || Math.abs(req.nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS) {
    return `auth_timestamp is more than ${MAX_SKEW_SECONDS} seconds away from the server time`;
  }
  const bodyMd5 = get("body_md5");
  if (req.body.length > 0 && bodyMd5 === undefined) return "body_md5 is required when there is a body";
  if (bodyMd5 !== undefined && bodyMd5 !== crypto.md5Hex(req.body)) return "body_md5 does not match the body";
  const toSign = `${req.method.toUpperCase()}\n${req.path}\n${canonicalQuery(params)}`;
  const expected = await crypto.hmacSha256Hex(app.secret, toSign);
  if (!timingSafeEqual(signature, expected)) return "Invalid signature";
  return null;
}
