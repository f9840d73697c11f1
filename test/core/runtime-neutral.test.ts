// src/core runs unchanged on Node, Deno, Bun and in the compiled binary, so it may use only
// web-standard APIs: everything platform-specific comes in through src/core/runtime.ts. This scans
// the source text, so a violation fails here on Node before it breaks another runtime.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/server.ts";

const CORE = path.join(ROOT, "src/core");

/** Bare packages the core may import: pure JavaScript that runs the same everywhere. */
const ALLOWED_PACKAGES = new Set(["zod"]);

const FORBIDDEN: { pattern: RegExp; why: string }[] = [
  { pattern: /\bDeno\s*\./, why: "Deno global" },
  { pattern: /\bBun\s*\./, why: "Bun global" },
  { pattern: /\brequire\s*\(/, why: "CommonJS require" },
  { pattern: /\bprocess\s*\./, why: "Node's process global" },
  { pattern: /(?<![\w.])Buffer\b/, why: "Node's Buffer (use Uint8Array)" },
  { pattern: /\b__(dirname|filename)\b/, why: "CommonJS path globals" },
  { pattern: /\bsetImmediate\s*\(/, why: "Node-only timer" },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|js|mts|mjs)$/.test(entry.name) ? [full] : [];
  });
}

/** Drops comments so prose like "Bun's server.publish" is not flagged (strings are kept). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const SPECIFIER = /\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

/** Every problem in one file's text, as "line N: reason". */
function violations(source: string): string[] {
  const found: string[] = [];
  const lines = stripComments(source).split("\n");
  lines.forEach((line, i) => {
    for (const match of line.matchAll(SPECIFIER)) {
      const spec = match[1]!;
      if (spec.startsWith(".")) continue;
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
      if (!ALLOWED_PACKAGES.has(pkg)) found.push(`line ${i + 1}: imports "${spec}" (only relative imports and ${[...ALLOWED_PACKAGES].join(", ")})`);
    }
    for (const { pattern, why } of FORBIDDEN) {
      if (pattern.test(line)) found.push(`line ${i + 1}: ${why}: ${line.trim()}`);
    }
  });
  return found;
}

describe("src/core is runtime-neutral", () => {
  const files = sourceFiles(CORE);

  it("finds the core's source files", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it("imports nothing runtime-specific and touches no platform global", () => {
    const problems = files.flatMap((file) => violations(readFileSync(file, "utf8")).map((v) => `${path.relative(ROOT, file)} ${v}`));
    expect(problems).toEqual([]);
  });

  it("the scan catches each kind of violation", () => {
    const bad = [
      'import { createHmac } from "node:crypto";',
      'import WebSocket from "ws";',
      "const { serve } = await import('bun');",
      'import { upgradeWebSocket } from "hono/deno";',
      "const text = Deno.readTextFileSync(path);",
      "Bun.serve({ fetch });",
      'const fs = require("fs");',
      "const port = process.env.PORT;",
      "const bytes = Buffer.from(text);",
      "setImmediate(() => flush());",
    ];
    for (const line of bad) expect(violations(line), line).not.toEqual([]);
    const fine = [
      'import { z } from "zod";',
      'import type { App } from "./app.ts";',
      "// Bun.serve and process.env are the runtime's business",
      "const view = new Uint8Array(new ArrayBuffer(16));",
      'const url = "http://example.com"; // process.exit is not called',
    ];
    for (const line of fine) expect(violations(line), line).toEqual([]);
  });
});
