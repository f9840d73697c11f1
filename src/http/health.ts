// Health and usage routes for load balancers and operators: the same on the main listener and on
// the metrics listener (as Soketi serves them on both, so a health check on :9601/usage or /ready
// keeps working after switching).
import type { Hono } from "hono";
import type { MemoryStats } from "../core/runtime.ts";
import type { Switchboard } from "../core/server.ts";
import { findApp } from "./find-app.ts";
import { jsonError } from "./errors.ts";

export interface HealthDeps {
  server: Switchboard;
  memoryUsage?: () => MemoryStats;
  /** Bytes of memory the machine has: /accept-traffic compares the RSS with it. */
  totalMemory?: () => number;
  /** Percent of totalMemory above which /accept-traffic answers 503. */
  acceptTrafficThreshold?: number;
}

/** GET /, /ready, /up, /up/{app_id}, /accept-traffic and /usage. */
export function mountHealth(app: Hono, { server, memoryUsage, totalMemory, acceptTrafficThreshold }: HealthDeps): void {
  app.get("/", (c) => c.text("OK"));
  app.get("/ready", (c) => (server.isShuttingDown ? c.json({ ready: false }, 503) : c.json({ ready: true })));
  app.get("/up", (c) => (server.isShuttingDown ? c.json({ error: "Shutting down" }, 503) : c.json({ ok: true })));
  app.get("/up/:appId", async (c) => {
    const found = await findApp(server, c.req.param("appId"));
    if (!found) return jsonError(404, "Unknown app id");
    if (!found.enabled) return jsonError(403, "Application disabled");
    return server.isShuttingDown ? jsonError(503, "Shutting down") : c.json({ ok: true });
  });
  // For load balancers (as Soketi): stop sending new traffic to a node low on memory.
  app.get("/accept-traffic", (c) => {
    if (server.isShuttingDown) return jsonError(503, "Shutting down");
    const rss = memoryUsage?.().rss;
    const total = totalMemory?.();
    const threshold = acceptTrafficThreshold ?? 100;
    if (rss !== undefined && total) {
      const percent = (rss / total) * 100;
      if (percent > threshold) {
        server.logger.debug("refusing traffic: memory above the threshold", { rss, total, percent, threshold });
        return jsonError(503, `Memory usage ${percent.toFixed(1)} % is above ${threshold} %`);
      }
    }
    return c.text("OK");
  });
  app.get("/usage", (c) => {
    const memory = memoryUsage?.();
    return c.json({ memory: memory ?? null, connections: server.connectionCount });
  });
}
