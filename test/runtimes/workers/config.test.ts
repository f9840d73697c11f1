import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/load.ts";
import { ARGV_BINDING, FILES_BINDING, workerConfig } from "../../../runtimes/workers/config.ts";
import { appOfRequest } from "../../../runtimes/workers/worker.ts";
import { workerdConfig } from "../../../runtimes/workers/capnp.ts";

const APP = { APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret" };

describe("settings from a Worker's bindings", () => {
  it("reads the same names as the environment of every other runtime, ignoring non-string bindings", () => {
    const config = workerConfig({ ...APP, APP_ENABLE_CLIENT_MESSAGES: "true", ACTIVITY_TIMEOUT: "30", SWITCHBOARD: { idFromName() {} } });
    expect(config.apps[0]).toMatchObject({ id: "app-id", key: "app-key", enableClientMessages: true });
    expect(config.activityTimeout).toBe(30);
  });

  it("names the key of a bad value", () => {
    expect(() => workerConfig({ ...APP, ACTIVITY_TIMEOUT: "soon" })).toThrow(/ACTIVITY_TIMEOUT/);
  });

  it("refuses a driver that needs TCP, naming the setting and the driver", () => {
    expect(() => workerConfig({ ...APP, ADAPTER_DRIVER: "redis" })).toThrow(ConfigError);
    expect(() => workerConfig({ ...APP, ADAPTER_DRIVER: "redis" })).toThrow(/ADAPTER_DRIVER=redis is not available on Cloudflare Workers: it needs a TCP connection/);
    expect(() => workerConfig({ ...APP, APP_STORE_DRIVER: "postgres", DATABASE_URL: "postgres://x/y" })).toThrow(/APP_STORE_DRIVER=postgres/);
    expect(() => workerConfig({ ...APP, QUEUE_DRIVER: "sqs", SQS_QUEUE_URL: "https://sqs.example/q" })).toThrow(/QUEUE_DRIVER=sqs .*not in the Workers bundle/);
  });

  it("refuses to run without an app, rather than draw different credentials in every isolate", () => {
    expect(() => workerConfig({})).toThrow(/no app configured: set APP_ID, APP_KEY and APP_SECRET/);
  });

  it("takes the local launcher's command line and the files it read", () => {
    const file = JSON.stringify({ port: 7000, appId: "from-file", appKey: "k", appSecret: "s" });
    const config = workerConfig({ [ARGV_BINDING]: JSON.stringify(["--config", "/etc/sb.json"]), [FILES_BINDING]: JSON.stringify({ "/etc/sb.json": file }) });
    expect(config.apps[0]?.id).toBe("from-file");
    expect(config.port).toBe(7000);
  });
});

describe("routing a request to its app's object", () => {
  const config = workerConfig({ APPS: JSON.stringify([{ id: "one", key: "k1", secret: "s" }, { id: "two", key: "k2", secret: "s" }]), PATH_PREFIX: "/ws" });
  it("by key for sockets, by id for the API, else the first app", () => {
    expect(appOfRequest(config, "/ws/app/k2")).toBe("two");
    expect(appOfRequest(config, "/ws/app/unknown")).toBe("one");
    expect(appOfRequest(config, "/ws/apps/two/events")).toBe("two");
    expect(appOfRequest(config, "/ws/up/two")).toBe("two");
    expect(appOfRequest(config, "/ws/ready")).toBe("one");
  });
});

describe("the local workerd configuration", () => {
  it("escapes binding values as capnp text", () => {
    const text = workerdConfig({ address: "127.0.0.1:0", modules: ["worker.js"], bindings: { APP_WEBHOOKS: '[{"url":"x\\\\y"}]\n' }, storage: "/tmp/s" });
    expect(text).toContain('(name = "APP_WEBHOOKS", text = "[{\\"url\\":\\"x\\\\\\\\y\\"}]\\x0a")');
    expect(text).toContain('esModule = embed "bundle/worker.js"');
  });
});
