import { ExpiringMap } from "./expiring-map.ts";
import { md5Hex } from "./md5.ts";
import type { CryptoProvider } from "./runtime.ts";

const encoder = new TextEncoder();

function toHex(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += bytes[i]!.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Imported HMAC keys kept at most, and for how long. Apps' secrets are few, but secrets also come
 * from outside (a console sign-in's guess, apps of a database store that come and go): each key
 * lapses and is imported again when next needed, which costs microseconds.
 */
const MAX_KEYS = 1000;
const KEY_TTL_MS = 10 * 60_000;

/** Web Crypto implementation, the same on every runtime. Keys are imported once per secret while in use. */
export function webCryptoProvider(subtle: SubtleCrypto = globalThis.crypto.subtle, now: () => number = Date.now): CryptoProvider & { readonly cachedKeys: number } {
  const keys = new ExpiringMap<Promise<CryptoKey>>(MAX_KEYS, now);
  const keyFor = (secret: string) => {
    let key = keys.get(secret);
    if (!key) {
      key = subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      keys.set(secret, key, KEY_TTL_MS);
    }
    return key;
  };
  return {
    async hmacSha256Hex(secret, message) {
      return toHex(await subtle.sign("HMAC", await keyFor(secret), encoder.encode(message)));
    },
    md5Hex,
    /** Keys held now, lapsed ones not yet dropped included; for tests of memory bounds. */
    get cachedKeys() {
      return keys.size;
    },
  };
}

/** Compares two strings without short-circuiting on the first difference. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Random integer in [0, 10^10), the range Pusher's SDKs expect for each half of a socket id. */
export function randomSocketIdPart(): string {
  // One buffer of random words, refilled when used up: no typed array per call (two per socket).
  if (wordsUsed >= randomWords.length) {
    globalThis.crypto.getRandomValues(randomWords);
    wordsUsed = 0;
  }
  // Two 5-digit halves: small-integer arithmetic and formatting only (a 2^53 double's modulo and
  // String() were ~3 µs of a handshake in the connect profile). Bias of 2^32 mod 10^5: < 10^-4.
  const high = randomWords[wordsUsed]! % 100_000;
  const low = randomWords[wordsUsed + 1]! % 100_000;
  wordsUsed += 2;
  return high === 0 ? String(low) : String(high) + String(low).padStart(5, "0");
}
const randomWords = new Uint32Array(256);
let wordsUsed = randomWords.length;

export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buf);
  let hex = "";
  for (const b of buf) hex += b.toString(16).padStart(2, "0");
  return hex;
}
