import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Integration files each start their own server processes; 2 cores are plenty busy.
    maxWorkers: 2,
  },
});
