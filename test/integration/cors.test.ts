// CORS on the HTTP API and pages (docs/operating.md, CORS), through hono's cors middleware.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient, sdk } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const preflight = (server: TestServer, origin: string, path = "/apps/app-id/events") =>
  fetch(`http://127.0.0.1:${server.port}${path}`, {
    method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
  });

describe("CORS, default (any origin)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it("answers a preflight with the allowed methods and headers", async () => {
    const res = await preflight(server, "https://app.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,OPTIONS");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
  });

  it("adds the headers to API answers, errors included, and to the health pages", async () => {
    const denied = await fetch(`http://127.0.0.1:${server.port}/apps/app-id/channels`, { headers: { Origin: "https://app.example" } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe("*");
    expect(denied.headers.get("access-control-expose-headers")).toContain("Retry-After");
    const up = await fetch(`http://127.0.0.1:${server.port}/up`, { headers: { Origin: "https://app.example" } });
    expect(up.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("leaves the SDK and WebSocket paths working", async () => {
    expect((await sdk(server).trigger("c", "e", {})).status).toBe(200);
    (await rawClient(server)).close();
  });
});

describe("CORS_ORIGINS list with credentials", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { CORS_ORIGINS: "https://a.example, https://b.example", CORS_CREDENTIALS: "true" } });
  });
  afterAll(() => server?.stop());

  it("allows only the listed origins, echoing the one that asked", async () => {
    const ok = await preflight(server, "https://b.example");
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://b.example");
    expect(ok.headers.get("access-control-allow-credentials")).toBe("true");
    const other = await preflight(server, "https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
