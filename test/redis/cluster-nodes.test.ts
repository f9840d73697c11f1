import { describe, expect, it } from "vitest";
import { parseClusterNodes } from "../../src/redis/cluster-nodes.ts";

describe("REDIS_CLUSTER_NODES", () => {
  it("takes host:port, redis:// and rediss:// (TLS) nodes", () => {
    expect(parseClusterNodes("10.0.0.1:7000, redis-b:7001")).toEqual({ nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "redis-b", port: 7001 }], tls: false });
    expect(parseClusterNodes("redis://a:7000")).toEqual({ nodes: [{ host: "a", port: 7000 }], tls: false });
    expect(parseClusterNodes("rediss://a:7000,rediss://b:7000")).toEqual({ nodes: [{ host: "a", port: 7000 }, { host: "b", port: 7000 }], tls: true });
  });

  it("refuses what it cannot connect to as written, naming the entry", () => {
    expect(() => parseClusterNodes("")).toThrow(/at least one/);
    expect(() => parseClusterNodes("a:7000,b")).toThrow(/"b" is not host:port/);
    expect(() => parseClusterNodes("rediss://a:7000,b:7000")).toThrow(/mixes rediss:\/\/ \(TLS\) and plain/);
  });
});
