import { Hono } from "hono";
import { setSignedCookie } from "hono/cookie";
import { describe, expect, it } from "vitest";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { clearSessionCookie, COOKIE, isSignedWith, readClaim, setSessionCookie, type Session } from "../../src/console/session.ts";

const crypto = webCryptoProvider();
const OPTIONS = { path: "/ws/console", secure: true };
const APP: Session = { kind: "app", appId: "a1", expires: 2000, id: "s1" };

/** The Set-Cookie header for `session` signed with `credential`. */
async function issue(credential: string, session: Session): Promise<string> {
  const app = new Hono().get("/", async (c) => {
    await setSessionCookie(c, crypto, credential, session, 60, OPTIONS);
    return c.text("");
  });
  return (await app.request("http://localhost/")).headers.get("set-cookie")!;
}

/** What the server makes of a Cookie header at `now`: the claim, and whether `credential` signed it. */
async function check(cookie: string, credential: string, now = 1000) {
  const app = new Hono().get("/", async (c) => {
    const claim = readClaim(c, now);
    return c.json({ session: claim?.session ?? null, signed: claim ? await isSignedWith(c, crypto, credential, claim) : false });
  });
  return (await (await app.request("http://localhost/", { headers: { cookie } })).json()) as { session: Session | null; signed: boolean };
}

const pair = (setCookie: string) => setCookie.split(";")[0]!;

describe("console sessions", () => {
  it("round-trip an app session and an operator session", async () => {
    expect(await check(pair(await issue("secret", APP)), "secret")).toEqual({ session: APP, signed: true });
    const op: Session = { kind: "operator", expires: 2000, id: "s2" };
    expect(await check(`x=1; ${pair(await issue("token", op))}; y=2`, "token")).toEqual({ session: op, signed: true });
  });

  it("refuse another key, an expired session, a changed claim, and garbage", async () => {
    const cookie = pair(await issue("secret", APP));
    expect((await check(cookie, "other")).signed).toBe(false);
    expect((await check(cookie, "secret", 2000)).session).toBeNull();
    const [payload, signature] = decodeURIComponent(cookie.slice(COOKIE.length + 1)).split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const other = Buffer.from(JSON.stringify({ ...claims, a: "a2" })).toString("base64url");
    expect(await check(`${COOKIE}=${encodeURIComponent(`${other}.${signature}`)}`, "secret")).toEqual({ session: { ...APP, appId: "a2" }, signed: false });
    for (const junk of ["", ".", "abc", "%%%.x", `${btoa("[1]")}.x`, `${btoa('{"k":"app","e":9e15}')}.x`]) {
      expect((await check(`${COOKIE}=${junk}`, "secret")).session).toBeNull();
    }
  });

  it("sign with a key derived from the credential, not the credential itself", async () => {
    const app = new Hono().get("/", async (c) => {
      await setSignedCookie(c, COOKIE, Buffer.from(JSON.stringify({ k: "app", a: "a1", e: 2000, s: "s1" })).toString("base64url"), "secret");
      return c.text("");
    });
    const raw = pair((await app.request("http://localhost/")).headers.get("set-cookie")!);
    expect(await check(raw, "secret")).toEqual({ session: APP, signed: false });
  });

  it("hold no secret, make an HttpOnly SameSite=Strict cookie, and clear it", async () => {
    const header = await issue("very-secret", APP);
    expect(header).not.toContain("very-secret");
    expect(header).toMatch(new RegExp(`^${COOKIE}=[^;]+; Max-Age=60; Path=/ws/console; HttpOnly; Secure; SameSite=Strict$`));
    const app = new Hono().get("/", (c) => {
      clearSessionCookie(c, OPTIONS);
      return c.text("");
    });
    expect((await app.request("http://localhost/")).headers.get("set-cookie")).toBe(`${COOKIE}=; Max-Age=0; Path=/ws/console; HttpOnly; Secure; SameSite=Strict`);
  });
});
