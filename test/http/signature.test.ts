// REST request authentication (spec §6.2) checked against the §10 vectors with a pinned clock:
// the signature vectors are only valid around auth_timestamp=1700000000.
import { describe, expect, it } from "vitest";
import { parseApp, type App } from "../../src/core/app.ts";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { canonicalQuery, parseQuery, verifyRequestSignature, type SignedRequest } from "../../src/http/signature.ts";

const crypto = webCryptoProvider();
const app = parseApp({ id: "1", key: "app-key", secret: "app-secret" });
const docsApp = parseApp({ id: "3", key: "278d425bdf160c739803", secret: "7ad3773142a6692b25b8" });
const NOW = 1700000000;
const utf8 = (s: string) => new TextEncoder().encode(s);

const B5_BODY = '{"name":"my-event","data":"{\\"hello\\":\\"world\\"}","channels":["my-channel"]}';
const B5_MD5 = "d7c48e936f1d67eaf07e79f7cb899c7a";
const B5_QUERY = `auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=${B5_MD5}`;
const B5_SIG = "55ff938725da80affc5690fd14e81e4225db8b896134f28455f0ebb5e0b49dbf";

function request(over: Partial<SignedRequest>): SignedRequest {
  return { method: "POST", path: "/apps/1/events", rawQuery: "", body: new Uint8Array(0), nowSeconds: NOW, ...over };
}
const b5 = (over: Partial<SignedRequest> = {}) =>
  request({ rawQuery: `?${B5_QUERY}&auth_signature=${B5_SIG}`, body: utf8(B5_BODY), ...over });
/** Re-signs a query the way an SDK would, for negative cases that need a correct signature. */
async function signed(method: string, path: string, query: string, forApp: App = app): Promise<string> {
  const sig = await crypto.hmacSha256Hex(forApp.secret, `${method}\n${path}\n${canonicalQuery(parseQuery(query))}`);
  return `?${query}&auth_signature=${sig}`;
}
const verify = (req: SignedRequest, forApp: App = app) => verifyRequestSignature(crypto, forApp, req);

describe("verifyRequestSignature: positive vectors", () => {
  it("A4 (Pusher documentation example)", async () => {
    const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
    const rawQuery = "?auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f" +
      "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c";
    expect(await verify(request({ path: "/apps/3/events", rawQuery, body: utf8(body), nowSeconds: 1353088179 }), docsApp)).toBeNull();
  });

  it("B5 POST /apps/1/events", async () => {
    expect(await verify(b5())).toBeNull();
  });

  it("B5 with the query parameters in another order and the signature first", async () => {
    const rawQuery = `?auth_signature=${B5_SIG}&body_md5=${B5_MD5}&auth_version=1.0&auth_timestamp=1700000000&auth_key=app-key`;
    expect(await verify(b5({ rawQuery }))).toBeNull();
  });

  it("B6 GET /apps/1/channels with filter_by_prefix and info, no body", async () => {
    const rawQuery = "?auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&filter_by_prefix=presence-&info=user_count" +
      "&auth_signature=985aebc7e3bd1977bb4ab10e11ad6eba7624244a20ac945c884f459dd1366359";
    expect(await verify(request({ method: "GET", path: "/apps/1/channels", rawQuery }))).toBeNull();
  });

  it("B7 POST terminate_connections with body {}", async () => {
    const rawQuery = "?auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=99914b932bd37a50b983c5e7c90ae93b" +
      "&auth_signature=bf3568fe3d8ad6907b10598d7707da0844518c02dc4157d77483c82055dda68a";
    expect(await verify(request({ path: "/apps/1/users/42/terminate_connections", rawQuery, body: utf8("{}") }))).toBeNull();
  });

  it("B8 POST /apps/1/batch_events", async () => {
    const body = '{"batch":[{"name":"a","channel":"ch-1","data":"{\\"n\\":1}"},{"name":"b","channel":"presence-room","data":"{\\"n\\":2}","info":"user_count"}]}';
    const rawQuery = "?auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=30099727431b084e056e0108e7082b50" +
      "&auth_signature=d083a11108b985368fb2969912296fb8a168438ac26afe77f931c3850156b4dd";
    expect(await verify(request({ path: "/apps/1/batch_events", rawQuery, body: utf8(body) }))).toBeNull();
  });

  it("B9 verifies with the comma sent raw (Node SDK) and as %2C (PHP SDK)", async () => {
    const base = "?auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0";
    const sig = "&auth_signature=7b8f506345e838744d943336f4e7e5cccb7dd9a24b1fc19dc63a90178c42917e";
    const path = "/apps/1/channels/presence-room";
    expect(await verify(request({ method: "GET", path, rawQuery: `${base}&info=user_count,subscription_count${sig}` }))).toBeNull();
    expect(await verify(request({ method: "GET", path, rawQuery: `${base}&info=user_count%2Csubscription_count${sig}` }))).toBeNull();
    expect(await verify(request({ method: "GET", path, rawQuery: `${base}&info=user_count%2csubscription_count${sig}` }))).toBeNull();
  });

  it("accepts a lower-case method (it is upper-cased before signing)", async () => {
    expect(await verify(b5({ method: "post" }))).toBeNull();
  });

  it("accepts exactly 600 s of skew in either direction (10.C boundary)", async () => {
    const past = `?auth_key=app-key&auth_timestamp=1699999400&auth_version=1.0&body_md5=${B5_MD5}` +
      "&auth_signature=19494ec4f8166c6095bff15d6e4de4ee138324ba43ace0dfc37b968f73e54f21";
    expect(await verify(b5({ rawQuery: past }))).toBeNull();
    const future = await signed("POST", "/apps/1/events", `auth_key=app-key&auth_timestamp=1700000600&auth_version=1.0&body_md5=${B5_MD5}`);
    expect(await verify(b5({ rawQuery: future }))).toBeNull();
  });

  it("accepts an empty body with body_md5 of the empty string, or with no body_md5 at all", async () => {
    const withMd5 = await signed("POST", "/apps/1/events", "auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=d41d8cd98f00b204e9800998ecf8427e");
    expect(await verify(request({ rawQuery: withMd5 }))).toBeNull();
    const without = await signed("POST", "/apps/1/events", "auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0");
    expect(await verify(request({ rawQuery: without }))).toBeNull();
  });
});

describe("verifyRequestSignature: negative vectors of §10.C (all 401)", () => {
  it("601 s old timestamp with its correct signature", async () => {
    const rawQuery = `?auth_key=app-key&auth_timestamp=1699999399&auth_version=1.0&body_md5=${B5_MD5}` +
      "&auth_signature=50d744a10351cc06effa0c984c68ef89b7b958c89bc1e639b8463f41ad4136ec";
    expect(await verify(b5({ rawQuery }))).toMatch(/600 seconds/);
  });

  it("601 s in the future", async () => {
    const rawQuery = await signed("POST", "/apps/1/events", `auth_key=app-key&auth_timestamp=1700000601&auth_version=1.0&body_md5=${B5_MD5}`);
    expect(await verify(b5({ rawQuery }))).toMatch(/600 seconds/);
  });

  it("the vector's own timestamp once the server clock has moved 601 s on", async () => {
    expect(await verify(b5({ nowSeconds: NOW + 601 }))).not.toBeNull();
    expect(await verify(b5({ nowSeconds: NOW + 600 }))).toBeNull();
  });

  it("body changed by one byte, query unchanged (body_md5 mismatch)", async () => {
    expect(await verify(b5({ body: utf8(B5_BODY.replace("world", "worle")) }))).toMatch(/body_md5/);
  });

  it("auth_key=other-key re-signed with the same secret", async () => {
    const rawQuery = await signed("POST", "/apps/1/events", `auth_key=other-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=${B5_MD5}`);
    expect(await verify(b5({ rawQuery }))).toMatch(/auth_key/);
  });

  it("upper-cased auth_signature", async () => {
    expect(await verify(b5({ rawQuery: `?${B5_QUERY}&auth_signature=${B5_SIG.toUpperCase()}` }))).toMatch(/Invalid signature/);
  });

  it("a signature made with another secret", async () => {
    const other = parseApp({ id: "1", key: "app-key", secret: "not-the-secret" });
    const rawQuery = await signed("POST", "/apps/1/events", B5_QUERY, other);
    expect(await verify(b5({ rawQuery }))).toMatch(/Invalid signature/);
  });

  it("a correct signature presented for another path or method", async () => {
    expect(await verify(b5({ path: "/apps/1/batch_events" }))).toMatch(/Invalid signature/);
    expect(await verify(b5({ path: "/prefix/apps/1/events" }))).toMatch(/Invalid signature/);
    expect(await verify(b5({ method: "PUT" }))).toMatch(/Invalid signature/);
  });

  it("an extra query parameter not covered by the signature", async () => {
    expect(await verify(b5({ rawQuery: `?${B5_QUERY}&auth_signature=${B5_SIG}&info=user_count` }))).toMatch(/Invalid signature/);
  });

  it.each(["auth_key", "auth_timestamp", "auth_version", "auth_signature"])("missing %s", async (param) => {
    const params = new URLSearchParams(`${B5_QUERY}&auth_signature=${B5_SIG}`);
    params.delete(param);
    expect(await verify(b5({ rawQuery: `?${params}` }))).not.toBeNull();
  });

  it("a non-empty body without body_md5, even when correctly signed", async () => {
    const rawQuery = await signed("POST", "/apps/1/events", "auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0");
    expect(await verify(b5({ rawQuery }))).toMatch(/body_md5/);
  });

  it("auth_version other than 1.0, correctly signed", async () => {
    const rawQuery = await signed("POST", "/apps/1/events", `auth_key=app-key&auth_timestamp=1700000000&auth_version=2.0&body_md5=${B5_MD5}`);
    expect(await verify(b5({ rawQuery }))).toMatch(/auth_version/);
  });

  it.each(["1700000000.5", "abc", "-1700000000", "1.7e9"])("non-integer auth_timestamp %s, correctly signed", async (ts) => {
    const rawQuery = await signed("POST", "/apps/1/events", `auth_key=app-key&auth_timestamp=${ts}&auth_version=1.0&body_md5=${B5_MD5}`);
    expect(await verify(b5({ rawQuery }))).toMatch(/600 seconds/);
  });

  it("an upper-case body_md5", async () => {
    const rawQuery = await signed("POST", "/apps/1/events", `auth_key=app-key&auth_timestamp=1700000000&auth_version=1.0&body_md5=${B5_MD5.toUpperCase()}`);
    expect(await verify(b5({ rawQuery }))).toMatch(/body_md5/);
  });
});

describe("canonical query (§6.2)", () => {
  it("decodes keys and values (+ is a space), lower-cases keys, sorts, drops auth_signature", () => {
    const params = parseQuery("?Z=1&b=hello+world&A=%41%2C&auth_signature=x&info=user_count%2Csubscription_count");
    expect(canonicalQuery(params)).toBe("a=A,&b=hello world&info=user_count,subscription_count&z=1");
  });

  it("keeps an empty value and a key without =", () => {
    expect(canonicalQuery(parseQuery("b=&a"))).toBe("a=&b=");
  });

  it("keeps a value that is not valid percent-encoding as sent", () => {
    expect(canonicalQuery(parseQuery("a=%zz"))).toBe("a=%zz");
  });

  it("handles an empty query", () => {
    expect(parseQuery("")).toEqual([]);
    expect(parseQuery("?")).toEqual([]);
  });
});
