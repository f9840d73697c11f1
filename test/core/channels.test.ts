// Channel classification decides auth, presence, caching and client-event rules; the name
// grammar decides what may be subscribed or published to (spec §2.1, §2.2).
import { describe, expect, it } from "vitest";
import { classifyChannel, isValidChannelName, isValidUserId, SOCKET_ID_RE, type ChannelKind } from "../../src/core/channels.ts";

const none: ChannelKind = { authorized: false, presence: false, cache: false, encrypted: false, serverToUser: false, clientEvents: false };

describe("classifyChannel (first matching prefix of §2.1 wins)", () => {
  it.each<[string, Partial<ChannelKind>]>([
    ["#server-to-user-42", { serverToUser: true }],
    ["private-encrypted-cache-room", { authorized: true, encrypted: true, cache: true, clientEvents: true }],
    ["private-encrypted-room", { authorized: true, encrypted: true, clientEvents: true }],
    ["private-cache-room", { authorized: true, cache: true, clientEvents: true }],
    ["private-room", { authorized: true, clientEvents: true }],
    ["presence-cache-room", { authorized: true, presence: true, cache: true, clientEvents: true }],
    ["presence-room", { authorized: true, presence: true, clientEvents: true }],
    ["cache-ticker", { cache: true }],
    ["my-channel", {}],
  ])("%s", (name, expected) => {
    expect(classifyChannel(name)).toEqual({ ...none, ...expected });
  });

  it("matches longer prefixes before shorter ones", () => {
    // private-encrypted-cache- must not be mistaken for plain private-encrypted- or private-.
    expect(classifyChannel("private-encrypted-cache-x").cache).toBe(true);
    expect(classifyChannel("private-encrypted-x").cache).toBe(false);
    // "private-encrypted" without the trailing dash is just a private channel.
    expect(classifyChannel("private-encryptedx").encrypted).toBe(false);
    expect(classifyChannel("private-encryptedx").authorized).toBe(true);
    expect(classifyChannel("presence-cachex").cache).toBe(false);
  });

  it("anchors prefixes at the start of the name (Soketi's unanchored regexes are a bug)", () => {
    for (const name of ["my-private-channel", "x-presence-room", "xcache-foo", "a-private-encrypted-b", "server-to-user-42"]) {
      expect(classifyChannel(name)).toEqual(none);
    }
  });

  it("has no presence-encrypted type: it is a presence channel", () => {
    expect(classifyChannel("presence-encrypted-x")).toEqual({ ...none, authorized: true, presence: true, clientEvents: true });
  });

  it("is case-sensitive", () => {
    expect(classifyChannel("Private-room")).toEqual(none);
    expect(classifyChannel("PRESENCE-room")).toEqual(none);
  });
});

describe("isValidChannelName (§2.2)", () => {
  it("accepts every allowed character", () => {
    expect(isValidChannelName("AZaz09_-=@,.;", 200)).toBe(true);
    expect(isValidChannelName("a", 200)).toBe(true);
  });

  it("accepts 200 characters and rejects 201 at the default limit", () => {
    expect(isValidChannelName("a".repeat(200), 200)).toBe(true);
    expect(isValidChannelName("a".repeat(201), 200)).toBe(false);
    expect(isValidChannelName(`private-${"a".repeat(192)}`, 200)).toBe(true);
    expect(isValidChannelName(`private-${"a".repeat(193)}`, 200)).toBe(false);
  });

  it("honours a stricter per-app maxChannelNameLength (e.g. Pusher's 164)", () => {
    expect(isValidChannelName("a".repeat(164), 164)).toBe(true);
    expect(isValidChannelName("a".repeat(165), 164)).toBe(false);
  });

  it.each(["", "with space", "colon:name", "slash/name", "hash#name", "#foo", "star*", "quote\"", "ünïcode", "tab\t", "new\nline", "percent%20"])(
    "rejects %j", (name) => {
      expect(isValidChannelName(name, 200)).toBe(false);
    });

  it("rejects non-strings", () => {
    for (const value of [undefined, null, 42, {}, ["a"]]) expect(isValidChannelName(value, 200)).toBe(false);
  });

  it("accepts #server-to-user- only with a valid user id of 1..128 characters", () => {
    expect(isValidChannelName("#server-to-user-42", 200)).toBe(true);
    expect(isValidChannelName("#server-to-user-user@example.com", 200)).toBe(true);
    expect(isValidChannelName(`#server-to-user-${"u".repeat(128)}`, 200)).toBe(true);
    expect(isValidChannelName(`#server-to-user-${"u".repeat(129)}`, 200)).toBe(false);
    expect(isValidChannelName("#server-to-user-", 200)).toBe(false);
    expect(isValidChannelName("#server-to-user-a#b", 200)).toBe(false);
    expect(isValidChannelName("#server-to-user-a b", 200)).toBe(false);
    expect(isValidChannelName("#server-to-userx42", 200)).toBe(false);
  });
});

describe("isValidUserId", () => {
  it("uses the channel-name character class and at most 128 characters", () => {
    expect(isValidUserId("42")).toBe(true);
    expect(isValidUserId("a".repeat(128))).toBe(true);
    expect(isValidUserId("a".repeat(129))).toBe(false);
    expect(isValidUserId("")).toBe(false);
    expect(isValidUserId("a:b")).toBe(false);
  });
});

describe("SOCKET_ID_RE (§0)", () => {
  it.each(["123.456", "0.0", "6423791831.3301457962"])("accepts %s", (id) => expect(SOCKET_ID_RE.test(id)).toBe(true));
  it.each(["abc", "123", "123.", ".456", "1.2.3", "-1.2", "1.2a", " 1.2", "1.2\n", "1,2"])("rejects %j", (id) => {
    expect(SOCKET_ID_RE.test(id)).toBe(false);
  });
});
