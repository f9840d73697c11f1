// `switchboard config`: the effective configuration with each value's source, secrets masked.
import { describe, expect, it } from "vitest";
import { runCommand } from "../../src/commands/index.ts";
import { mask } from "../../src/commands/config.ts";

async function config(argv: string[], env: Record<string, string>, files: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const readFileSync = (path: string) => {
    if (path in files) return files[path]!;
    throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
  };
  const code = await runCommand(["config", ...argv], { env, readFileSync, readTextFile: async (p) => readFileSync(p) }, {
    out: (t) => (out += `${t}\n`),
    err: (t) => (err += `${t}\n`),
  });
  return { code, out, err };
}

describe("switchboard config", () => {
  it("prints each setting's value and source: flag, variable, .env, file or default; secrets masked", async () => {
    const files = {
      "./.env": "LOG_LEVEL=warn\nREDIS_PASSWORD=hunter2\n",
      "/sb.json": JSON.stringify({ server: { port: 7000 }, applications: [{ app_id: "1", app_key: "k1", app_secret: "topsecret" }] }),
    };
    const { code, out } = await config(["--config", "/sb.json", "--adapter-driver", "redis"], { REDIS_URL: "redis://cache:6379" }, files);
    expect(code).toBe(0);
    expect(out).toMatch(/port\s+7000\s+server\.port in \/sb\.json/);
    expect(out).toMatch(/logLevel\s+warn\s+LOG_LEVEL in \.\/\.env/);
    expect(out).toMatch(/activityTimeout\s+120\s+default/);
    expect(out).toContain("adapter driver: redis (--adapter-driver)");
    expect(out).toMatch(/redisUrl\s+redis:\/\/:\*\*\*\*@cache:6379\s+REDIS_URL \+ REDIS_PASSWORD in \.\/\.env \(Sockudo\)/);
    expect(out).toContain("id=1 key=k1 secret=****");
    expect(out).not.toContain("topsecret");
    expect(out).not.toContain("hunter2");
  });

  it("--json, with the warnings", async () => {
    const { code, out } = await config(["--json"], { APP_ID: "1", APP_KEY: "k", APP_SECRET: "s", SOKETI_MODE: "full" });
    expect(code).toBe(0);
    const parsed = JSON.parse(out);
    expect(parsed.settings.port).toEqual({ value: 6001, source: "default" });
    expect(parsed.apps[0]).toEqual({ source: "APP_ID", settings: { id: "1", key: "k", secret: "****" } });
    expect(parsed.warnings).toEqual([expect.stringMatching(/SOKETI_MODE \(Soketi\) accepted but not acted on/)]);
  });

  it("a bad setting is the usual configuration error and exit 78", async () => {
    const { code, err } = await config([], { PORT: "many" });
    expect(code).toBe(78);
    expect(err).toMatch(/switchboard config: configuration error: invalid value for PORT/);
  });

  it("masks secrets by name and passwords inside URLs", () => {
    expect(mask("databaseMysqlPassword", "pw")).toBe("****");
    expect(mask("databaseUrl", "postgres://u:pw@db:5432/x")).toBe("postgres://u:****@db:5432/x");
    expect(mask("redisUrl", "redis://cache:6379")).toBe("redis://cache:6379");
  });
});
