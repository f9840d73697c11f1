// The listeners beside the main one, the same on every runtime: Prometheus metrics on their own
// port (METRICS_*), and with TLS the optional plain-HTTP port that redirects to https
// (SSL_HTTP_PORT). Each runtime supplies `serve`: a fetch handler on a host and port.
import { Hono } from "hono";
import type { Instance } from "../src/bootstrap.ts";
import type { Config } from "../src/config/load.ts";

export interface Served {
  port: number;
  close(): Promise<void>;
}

/** Serves a fetch handler over plain HTTP; resolves once listening (port 0 picks a free one). */
export type ServeFetch = (fetch: (request: Request) => Response | Promise<Response>, hostname: string, port: number) => Promise<Served>;

export interface Sidecars {
  metricsPort?: number;
  close(): Promise<void>;
}

export async function startSidecars(config: Config, instance: Instance, port: number, serve: ServeFetch): Promise<Sidecars> {
  const closers: (() => Promise<void> | void)[] = [];
  let metricsPort: number | undefined;
  let what = "metrics (METRICS_HOST/METRICS_PORT)";
  try {
    if (config.metricsEnabled) {
      const { createMetrics } = await import("../src/metrics/prometheus.ts");
      const metrics = await createMetrics({
        server: instance.server,
        webhooks: instance.webhooks,
        port,
        prefix: config.metricsPrefix,
        appIds: config.apps.map((a) => a.id),
        backends: instance.backends,
      });
      closers.push(() => metrics.stop());
      const app = new Hono();
      app.get("/metrics", async (c) => c.body(await metrics.render(), 200, { "content-type": metrics.contentType }));
      // As Soketi: a health check pointed at the metrics port (/usage, /ready, /) keeps working.
      instance.mountHealth(app);
      app.onError((error) => {
        instance.logger.error("rendering metrics failed", error);
        return new Response("metrics unavailable\n", { status: 500 });
      });
      const served = await serve(app.fetch, config.metricsHost, config.metricsPort);
      closers.push(() => served.close());
      metricsPort = served.port;
      // Not "listening on": test and bench helpers read the main port from that phrase.
      instance.logger.info(`metrics at http://${config.metricsHost}:${served.port}/metrics`);
    }
    if (config.sslEnabled && config.sslHttpPort >= 0) {
      what = "SSL_HTTP_PORT";
      const served = await serve(redirectToHttps(port), config.bindAddress, config.sslHttpPort);
      closers.push(() => served.close());
      instance.logger.info(`plain HTTP on port ${served.port} redirects to https on port ${port}`);
    }
  } catch (error) {
    await Promise.allSettled(closers.map((c) => c()));
    throw new Error(`${what} listener: ${describe(error, what)}`);
  }
  return {
    metricsPort,
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}

function describe(error: unknown, what: string): string {
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  if (code === "EADDRINUSE" || name === "AddrInUse") {
    return `port already in use (${what === "SSL_HTTP_PORT" ? "set SSL_HTTP_PORT" : "set METRICS_PORT, or METRICS_ENABLED=false"})`;
  }
  return message ?? String(error);
}

/** 301 to the same host and path on the TLS port; the request's own host name is kept. */
export function redirectToHttps(tlsPort: number): (request: Request) => Response {
  return (request) => {
    const url = new URL(request.url);
    url.protocol = "https:";
    url.port = tlsPort === 443 ? "" : String(tlsPort);
    return new Response(null, { status: 301, headers: { location: url.toString() } });
  };
}
