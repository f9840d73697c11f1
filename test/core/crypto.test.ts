// The Web Crypto provider signs every channel auth, sign-in, REST request and webhook on Deno,
// Bun and (optionally) Node, so it is checked against the spec's §10 vectors verbatim.
import { describe, expect, it } from "vitest";
import { randomHex, randomSocketIdPart, timingSafeEqual, webCryptoProvider } from "../../src/core/crypto.ts";
import { md5Hex } from "../../src/core/md5.ts";
import { parseApp } from "../../src/core/app.ts";
import { verifyAuthToken } from "../../src/core/auth.ts";

const DOCS_SECRET = "7ad3773142a6692b25b8"; // Pusher documentation credentials (§10.A)
const SECRET = "app-secret"; // project credentials (§10.B)

const provider = webCryptoProvider();
const sig = (auth: string) => auth.slice(auth.indexOf(":") + 1);

describe("webCryptoProvider.hmacSha256Hex: channel and user auth vectors", () => {
  it.each([
    ["A1 private", DOCS_SECRET, "1234.1234:private-foobar", "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"],
    ["A2 user sign-in", DOCS_SECRET, '1234.1234::user::{"id":"12345"}', "278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"],
    ["A3 presence", DOCS_SECRET, '1234.1234:presence-foobar:{"user_id":10,"user_info":{"name":"Mr. Pusher"}}', "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"],
    ["A3' presence", DOCS_SECRET, '1234.1234:presence-foobar:{"user_id":10,"user_info":{"name":"Mr. Channels"}}', "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"],
    ["B1 private", SECRET, "123.456:private-chat", "app-key:a7c346ce71461aa41a09098989b01e141b55302b3116bc5642e23a723a97678c"],
    ["B2 presence", SECRET, '123.456:presence-room:{"user_id":"42","user_info":{"name":"Ada"}}', "app-key:fed5b1847c9e0cdaf7d3c9f70cb5cc51d4a02401d99dfbfe0b7d4427ce564440"],
    ["B2b presence via signed-in user", SECRET, "123.456:presence-room", "app-key:a66cfd7c5a095101b56f99f8ad5a22a3c89ebcf9face1e28e7f84de548717765"],
    ["B3 encrypted", SECRET, "123.456:private-encrypted-chat", "app-key:26384c664b594373e120528e5709957db2412f9fe390515c1b971b91e04e1e7c"],
    ["B4 user sign-in", SECRET, '123.456::user::{"id":"42","user_info":{"name":"Ada"},"watchlist":["7","8"]}', "app-key:30c767a65a7962b97135b28d9f555056c2a96c10b26dc6eed5faaec491c1fd80"],
  ])("%s", async (_name, secret, toSign, auth) => {
    const hex = await provider.hmacSha256Hex(secret, toSign);
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(hex).toBe(sig(auth));
  });

  it("signs the exact channel_data string: one extra space changes the signature", async () => {
    const spaced = await provider.hmacSha256Hex(SECRET, '123.456:presence-room:{"user_id": "42","user_info":{"name":"Ada"}}');
    expect(spaced).not.toBe("fed5b1847c9e0cdaf7d3c9f70cb5cc51d4a02401d99dfbfe0b7d4427ce564440");
  });
});

describe("webCryptoProvider.hmacSha256Hex: REST and webhook vectors", () => {
  it("A4 HTTP API request", async () => {
    const toSign = "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f";
    expect(await provider.hmacSha256Hex(DOCS_SECRET, toSign)).toBe("da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c");
  });

  it("B10 / B11 webhook bodies", async () => {
    expect(await provider.hmacSha256Hex(SECRET, '{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"my-channel"}]}'))
      .toBe("fec9fff324b82111ea03affc886e951bec5ee7a9e365bfd05cf254414c990a1a");
    const b11 = '{"time_ms":1700000000000,"events":[{"name":"client_event","channel":"presence-room","event":"client-typing","data":"{\\"typing\\":true}","socket_id":"123.456","user_id":"42"}]}';
    expect(await provider.hmacSha256Hex(SECRET, b11)).toBe("c66154e7822a3d1e6187dee17845239c58cc526d43393c6f9c55b72bf0c8ff4f");
  });

  it("keeps imported keys apart when secrets are interleaved (per-secret key cache)", async () => {
    const [a, b, a2] = await Promise.all([
      provider.hmacSha256Hex(SECRET, "123.456:private-chat"),
      provider.hmacSha256Hex(DOCS_SECRET, "1234.1234:private-foobar"),
      provider.hmacSha256Hex(SECRET, "123.456:private-chat"),
    ]);
    expect(a).toBe("a7c346ce71461aa41a09098989b01e141b55302b3116bc5642e23a723a97678c");
    expect(b).toBe("58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4");
    expect(a2).toBe(a);
  });

  it("hashes UTF-8 secrets and messages", async () => {
    const { createHmac } = await import("node:crypto");
    const expected = createHmac("sha256", "sécret-🔑").update("123.456:presence-ünïcode").digest("hex");
    expect(await provider.hmacSha256Hex("sécret-🔑", "123.456:presence-ünïcode")).toBe(expected);
  });

  it("exposes the pure MD5 implementation", () => {
    expect(provider.md5Hex).toBe(md5Hex);
    expect(provider.md5Hex(new TextEncoder().encode("{}"))).toBe("99914b932bd37a50b983c5e7c90ae93b");
  });
});

describe("timingSafeEqual", () => {
  const good = "a7c346ce71461aa41a09098989b01e141b55302b3116bc5642e23a723a97678c";
  it("accepts identical strings", () => {
    expect(timingSafeEqual(good, good)).toBe(true);
    expect(timingSafeEqual("", "")).toBe(true);
  });
  it("rejects a difference in the first, a middle or the last character", () => {
    expect(timingSafeEqual(good, "b" + good.slice(1))).toBe(false);
    expect(timingSafeEqual(good, good.slice(0, 30) + "0" + good.slice(31))).toBe(false);
    expect(timingSafeEqual(good, good.slice(0, -1) + "d")).toBe(false);
  });
  it("rejects prefixes, extensions and case changes", () => {
    expect(timingSafeEqual(good, good.slice(0, -1))).toBe(false);
    expect(timingSafeEqual(good, good + "0")).toBe(false);
    expect(timingSafeEqual(good, "")).toBe(false);
    expect(timingSafeEqual(good, good.toUpperCase())).toBe(false);
  });
});

describe("random identifiers", () => {
  it("socket id halves are decimal integers in [0, 10^10]", () => {
    for (let i = 0; i < 200; i++) {
      const part = randomSocketIdPart();
      expect(part).toMatch(/^(0|[1-9]\d{0,9})$/);
      expect(Number(part)).toBeLessThanOrEqual(10_000_000_000);
    }
    // With ~10^10 values, 50 draws colliding would mean the generator is broken.
    expect(new Set(Array.from({ length: 50 }, randomSocketIdPart)).size).toBe(50);
  });
  it("randomHex yields 2 hex characters per byte", () => {
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
    expect(randomHex(16)).not.toBe(randomHex(16));
  });
});

describe("verifyAuthToken (spec §4.2) with the Web Crypto provider", () => {
  const app = parseApp({ id: "1", key: "app-key", secret: SECRET });
  const B1 = "app-key:a7c346ce71461aa41a09098989b01e141b55302b3116bc5642e23a723a97678c";
  const B2 = "app-key:fed5b1847c9e0cdaf7d3c9f70cb5cc51d4a02401d99dfbfe0b7d4427ce564440";
  const B2b = "app-key:a66cfd7c5a095101b56f99f8ad5a22a3c89ebcf9face1e28e7f84de548717765";
  const B2_DATA = '{"user_id":"42","user_info":{"name":"Ada"}}';

  it("accepts B1, B2 and B2b over their own strings to sign", async () => {
    expect(await verifyAuthToken(provider, app, B1, "123.456:private-chat")).toBeNull();
    expect(await verifyAuthToken(provider, app, B2, `123.456:presence-room:${B2_DATA}`)).toBeNull();
    expect(await verifyAuthToken(provider, app, B2b, "123.456:presence-room")).toBeNull();
  });

  it("rejects B1 for another channel, B2 without channel_data and B2b with it", async () => {
    expect(await verifyAuthToken(provider, app, B1, "123.456:private-chat2")).toMatch(/Invalid signature/);
    expect(await verifyAuthToken(provider, app, B2, "123.456:presence-room")).toMatch(/Invalid signature/);
    expect(await verifyAuthToken(provider, app, B2b, `123.456:presence-room:${B2_DATA}`)).toMatch(/Invalid signature/);
  });

  it("rejects a token whose key part is another key, or that is empty or has no colon", async () => {
    expect(await verifyAuthToken(provider, app, B1.replace("app-key:", "wrong-key:"), "123.456:private-chat")).toMatch(/another app key/);
    expect(await verifyAuthToken(provider, app, "", "123.456:private-chat")).not.toBeNull();
    expect(await verifyAuthToken(provider, app, undefined, "123.456:private-chat")).not.toBeNull();
    expect(await verifyAuthToken(provider, app, B1.replace(":", ""), "123.456:private-chat")).not.toBeNull();
    expect(await verifyAuthToken(provider, app, B1.toUpperCase().replace("APP-KEY", "app-key"), "123.456:private-chat")).toMatch(/Invalid signature/);
  });

  it("never echoes the expected signature in the failure reason", async () => {
    const reason = await verifyAuthToken(provider, app, "app-key:00", "123.456:private-chat");
    expect(reason).not.toContain(sig(B1));
  });
});

describe("webCryptoProvider: imported keys", () => {
  it("keeps at most 1000 of them, each for 10 minutes, however many secrets it is handed", async () => {
    let now = 1_700_000_000_000;
    const bounded = webCryptoProvider(globalThis.crypto.subtle, () => now);
    for (let i = 0; i < 5000; i++) await bounded.hmacSha256Hex(`guess-${i}`, "message");
    expect(bounded.cachedKeys).toBe(1000);
    // A key still in use signs the same after it lapsed and was imported again.
    const before = await bounded.hmacSha256Hex(SECRET, "123.456:private-chat");
    now += 10 * 60_000 + 1;
    expect(await bounded.hmacSha256Hex(SECRET, "123.456:private-chat")).toBe(before);
    expect(bounded.cachedKeys).toBe(1);
  });
});
