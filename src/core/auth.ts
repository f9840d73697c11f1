import type { App } from "./app.ts";
import { timingSafeEqual } from "./crypto.ts";
import type { CryptoProvider } from "./runtime.ts";

/**
 * Verifies an auth token "<key>:<hex signature>" over `stringToSign` (spec §4.2).
 * Returns null when valid, otherwise the reason.
 */
export async function verifyAuthToken(
  crypto: CryptoProvider, app: App, auth: unknown, stringToSign: string,
): Promise<string | null> {
  if (typeof auth !== "string" || auth.length === 0) return "Missing auth token";
  const colon = auth.indexOf(":");
  if (colon < 0) return "Malformed auth token: expected <key>:<signature>";
  if (auth.slice(0, colon) !== app.key) return "Auth token was signed for another app key";
  const expected = await crypto.hmacSha256Hex(app.secret, stringToSign);
  if (!timingSafeEqual(auth.slice(colon + 1), expected)) {
    return `Invalid signature: expected HMAC SHA256 hex digest of ${stringToSign}`;
  }
  return null;
}
