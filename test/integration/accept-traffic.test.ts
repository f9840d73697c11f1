// /accept-traffic (as Soketi): 503 once the process uses more than HTTP_ACCEPT_TRAFFIC_MEMORY_THRESHOLD
// percent of the machine's memory, so a load balancer stops sending it new clients.
import { describe, expect, it } from "vitest";
import { runtimeFeatures, startServer } from "../helpers/server.ts";

describe.runIf(runtimeFeatures.memoryFigures)("/accept-traffic", () => {
  it("answers 200 below the threshold and 503 above it", async () => {
    const [fine, full] = await Promise.all([
      startServer({ env: { ADAPTER_DRIVER: "local" } }),
      startServer({ env: { ADAPTER_DRIVER: "local", HTTP_ACCEPT_TRAFFIC_MEMORY_THRESHOLD: "0.0001" } }),
    ]);
    try {
      const ok = await fetch(`http://127.0.0.1:${fine.port}/accept-traffic`);
      expect(ok.status).toBe(200);
      const refused = await fetch(`http://127.0.0.1:${full.port}/accept-traffic`);
      expect(refused.status).toBe(503);
      expect((await refused.json()).error).toMatch(/Memory usage .* is above 0\.0001 %/);
      // The other health routes are unaffected.
      expect((await fetch(`http://127.0.0.1:${full.port}/up`)).status).toBe(200);
    } finally {
      await Promise.all([fine.stop(), full.stop()]);
    }
  });
});
