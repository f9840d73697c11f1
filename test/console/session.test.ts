import { describe, expect, it } from "vitest";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { cookieValue, readSession, sessionCookie, signSession, verifySession } from "../../src/console/session.ts";

const crypto = webCryptoProvider();

describe("console sessions", () => {
  it("round-trips an app session and an operator session", async () => {
    const app = await signSession(crypto, "secret", { kind: "app", appId: "a1", expires: 2000, id: "s1" });
    expect(readSession(app, 1000)).toEqual({ kind: "app", appId: "a1", expires: 2000, id: "s1" });
    expect(await verifySession(crypto, "secret", app)).toBe(true);
    const op = await signSession(crypto, "token", { kind: "operator", expires: 2000, id: "s2" });
    expect(readSession(op, 1000)).toEqual({ kind: "operator", expires: 2000, id: "s2" });
    expect(await verifySession(crypto, "token", op)).toBe(true);
  });

  it("refuses another key, an expired session, and garbage", async () => {
    const value = await signSession(crypto, "secret", { kind: "app", appId: "a1", expires: 2000, id: "s1" });
    expect(await verifySession(crypto, "other", value)).toBe(false);
    expect(readSession(value, 2000)).toBeUndefined();
    for (const junk of ["", ".", "abc", "%%%.x", `${btoa("[1]")}.x`, `${btoa('{"k":"app","e":9e15}')}.x`]) {
      expect(readSession(junk, 0)).toBeUndefined();
    }
  });

  it("holds no secret and makes an HttpOnly SameSite=Strict cookie", async () => {
    const value = await signSession(crypto, "very-secret", { kind: "app", appId: "a1", expires: 2000, id: "s1" });
    expect(value).not.toContain("very-secret");
    const header = sessionCookie(value, "/ws/console", 60, true);
    expect(header).toBe(`sb_console=${value}; Path=/ws/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure`);
    expect(cookieValue(`x=1; sb_console=${value}; y=2`)).toBe(value);
    expect(cookieValue("x=1")).toBeUndefined();
  });
});
