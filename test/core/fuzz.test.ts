// Property-based fuzzing (fast-check) of everything that reads client or operator input: frames
// through the in-process harness, channel names and auth tokens, REST bodies and configuration.
// Whatever comes in, nothing throws past the handlers, the sender gets the protocol's answer, and
// no other connection is affected.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { verifyAuthToken } from "../../src/core/auth.ts";
import { classifyChannel, isValidChannelName } from "../../src/core/channels.ts";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { frameData, parseFrame } from "../../src/core/frames.ts";
import { HttpError } from "../../src/http/errors.ts";
import { validateEvent } from "../../src/http/events.ts";
import { verifyRequestSignature } from "../../src/http/signature.ts";
import { Harness, settle } from "../helpers/harness.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
// A fixed seed keeps CI repeatable; FUZZ_SEED=random explores (a failure prints its seed to replay).
if (process.env.FUZZ_SEED !== "random") fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261202) });

/** JSON-ish values, including the shapes handlers look into. */
const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: "small" },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.constantFrom("", "presence-x", "private-x", "#server-to-user-u"),
    fc.array(tie("any"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom("channel", "auth", "channel_data", "user_data", "user_id", "data", "event", "x"), tie("any"), { maxKeys: 4 }),
  ),
})).any;

const event = fc.constantFrom(
  "pusher:subscribe", "pusher:unsubscribe", "pusher:signin", "pusher:ping", "pusher:pong", "client-x", "pusher:other", "", "x",
);

/** Frames as a hostile client might send them: structured, JSON of anything, or plain text. */
const frame = fc.oneof(
  fc.record({ event, channel: fc.option(value, { nil: undefined }), data: fc.option(fc.oneof(value, value.map((v) => JSON.stringify(v))), { nil: undefined }) })
    .map((f) => JSON.stringify(f)),
  value.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

describe("fuzz: frames", () => {
  it("parseFrame and frameData never throw", () => {
    fc.assert(fc.property(fc.string(), (text) => {
      const f = parseFrame(text);
      if (f) frameData(f);
    }), { numRuns: RUNS * 5 });
  });

  it("random frames never throw past the handlers, always get an answer or nothing, and leave other connections alone", async () => {
    const h = await new Harness().start();
    const bystander = await h.connect();
    await bystander.subscribe("presence-room", { user_id: "bystander" });
    await bystander.subscribe("private-room");
    const before = JSON.stringify([...bystander.frames]);
    await fc.assert(fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
      const c = await h.connect();
      for (const f of frames) c.send(f);
      await settle();
      await settle();
      // Invalid input gets the protocol's errors; the socket stays open unless a close code applies.
      for (const f of c.frames.slice(1)) expect(typeof f.event).toBe("string");
      if (c.socket.closed) expect(c.socket.closed.code).toBeGreaterThanOrEqual(4000);
      c.close();
      await settle();
    }), { numRuns: RUNS });
    expect(h.logs.filter((l) => l.level === "error")).toEqual([]);
    // The bystander saw no frame of the fuzzing connections except presence joins they could make.
    const unexpected = bystander.frames.slice(JSON.parse(before).length)
      .filter((f) => !["pusher_internal:member_added", "pusher_internal:member_removed"].includes(f.event));
    expect(unexpected).toEqual([]);
    expect(bystander.socket.closed).toBeUndefined();
    await h.stop();
  });
});

/** Names near the rules' edges: every prefix of spec §2.1 (and near misses), allowed and other characters, lengths around the limits. */
const PREFIXES = ["", "private-", "private-encrypted-", "private-cache-", "private-encrypted-cache-", "presence-", "presence-cache-", "cache-",
  "#server-to-user-", "#", "privat-", "Private-", "presence", "cache"];
const NAME_CHARS = [..."azAZ09_-=@,.;", " ", "#", ":", "é", "/", "*"];
const channelName = fc.tuple(
  fc.constantFrom(...PREFIXES),
  fc.oneof(fc.string({ unit: fc.constantFrom(...NAME_CHARS), maxLength: 12 }), fc.string({ unit: fc.constantFrom("a", "-"), minLength: 120, maxLength: 210 })),
).map(([prefix, rest]) => prefix + rest);

/** Spec §2, written out independently of src/core/channels.ts. */
function specValid(name: unknown, max: number): boolean {
  if (typeof name !== "string") return false;
  const allowed = (s: string) => /^[A-Za-z0-9_\-=@,.;]*$/.test(s);
  if (name.startsWith("#server-to-user-")) {
    const id = name.slice("#server-to-user-".length);
    return id.length >= 1 && id.length <= 128 && allowed(id);
  }
  return name.length >= 1 && name.length <= max && allowed(name);
}

/** The kind spec §2.1 gives a name: the first matching prefix. */
function specKind(name: string): string {
  const table: [string, string][] = [["#server-to-user-", "server-to-user"], ["private-encrypted-cache-", "encrypted cache"],
    ["private-encrypted-", "encrypted"], ["private-cache-", "private cache"], ["private-", "private"], ["presence-cache-", "presence cache"],
    ["presence-", "presence"], ["cache-", "cache"]];
  return table.find(([prefix]) => name.startsWith(prefix))?.[1] ?? "public";
}

/** The kind classifyChannel's flags describe, in specKind's words. */
function kindOf(name: string): string {
  const k = classifyChannel(name);
  if (k.serverToUser) return "server-to-user";
  const base = k.encrypted ? "encrypted" : k.presence ? "presence" : k.authorized ? "private" : "";
  return [base, k.cache ? "cache" : ""].filter(Boolean).join(" ") || "public";
}

describe("fuzz: channels and auth", () => {
  it("channel checks agree with spec §2: validity, the kind each prefix gives, and what each kind allows", () => {
    let valid = 0;
    fc.assert(fc.property(fc.oneof(channelName, fc.string(), value), fc.constantFrom(164, 200), (name, max) => {
      const ok = isValidChannelName(name, max);
      expect(ok).toBe(specValid(name, max));
      if (!ok) return;
      valid++;
      const channel = name as string;
      expect(kindOf(channel)).toBe(specKind(channel));
      const k = classifyChannel(channel);
      // Client events and a signed token go together; the server's own channels take neither.
      expect(k.clientEvents).toBe(k.authorized);
      if (k.serverToUser) expect(k.authorized || k.cache || k.presence).toBe(false);
    }), { numRuns: RUNS * 5 });
    // The property must not hold only because every name was refused.
    expect(valid).toBeGreaterThan(RUNS);
  });

  it("auth tokens of any shape are refused with a reason, never thrown", async () => {
    const crypto = webCryptoProvider();
    const app = new Harness().app;
    await fc.assert(fc.asyncProperty(value, fc.string(), async (auth, signed) => {
      const failure = await verifyAuthToken(crypto, app, auth, signed);
      expect(typeof failure).toBe("string");
    }), { numRuns: RUNS });
  });
});

describe("fuzz: REST", () => {
  it("event bodies either validate or fail with an HTTP error", () => {
    const app = new Harness().app;
    fc.assert(fc.property(fc.dictionary(fc.constantFrom("name", "data", "channel", "channels", "socket_id", "info", "x"), value), fc.boolean(), (body, batch) => {
      try {
        validateEvent(app, body, batch);
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        expect([400, 413]).toContain((error as HttpError).status);
      }
    }), { numRuns: RUNS * 5 });
  });

  it("signed requests with any query and body get a verdict, never an exception", async () => {
    const crypto = webCryptoProvider();
    const app = new Harness().app;
    await fc.assert(fc.asyncProperty(fc.string(), fc.uint8Array({ maxLength: 64 }), fc.string(), async (query, body, path) => {
      const failure = await verifyRequestSignature(crypto, app, { method: "POST", path, rawQuery: query, body, nowSeconds: 1_700_000_000 });
      expect(typeof failure).toBe("string");
    }), { numRuns: RUNS });
  });
});

describe("fuzz: configuration", () => {
  it("any value for any setting loads or fails with a ConfigError", () => {
    const keys = ["PORT", "ACTIVITY_TIMEOUT", "ADAPTER_DRIVER", "APP_STORE_DRIVER", "QUEUE_DRIVER", "CACHE_DRIVER", "APPS", "APP_MAX_CONNECTIONS",
      "APP_ENABLE_CLIENT_MESSAGES", "APP_WEBHOOKS", "REDIS_URL", "NATS_SERVERS", "PATH_PREFIX", "DATABASE_URL", "APP_ALLOWED_ORIGINS"];
    let loaded = 0;
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.string(), value.map((v) => JSON.stringify(v)))), (env) => {
      try {
        loadConfig({ argv: [], env: { APP_ID: "a", APP_KEY: "k", APP_SECRET: "s", ENV_FILE: "", ...env }, readFile: () => "{}" });
        loaded++;
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
      }
    }), { numRuns: RUNS * 2 });
    expect(loaded).toBeGreaterThan(0); // the property must not hold only because everything is refused
  });
});
