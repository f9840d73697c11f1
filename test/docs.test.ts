// README.md and docs/ speak about the product: what it does, how to run it. They never speak about
// how it was built (tickets, work sessions, "this machine", commit hashes in prose), and every
// relative link reaches a file and heading that exist. The scanner is tested on samples first, so
// a broken pattern cannot pass the real pages silently.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/server.ts";

/** Pages written alongside these ones: a link to one is allowed while it is absent, and checked once it exists. */
const WRITTEN_ALONGSIDE = new Set(["docs/cloudflare-workers.md"]);

const PROCESS_WORDS: [string, RegExp][] = [
  ["issue", /\bissues?\b/i],
  ["session", /\bsessions?\b/i],
  ["this machine", /\bthis machine\b/i],
  ["commit hash", /\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b/],
];

/** The prose of a Markdown page: fenced blocks, inline code and link targets removed. */
export function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return "";
    }
    if (fenced) return "";
    return line.replace(/`[^`]*`/g, " ").replace(/\]\([^)]*\)/g, "]").replace(/<!--.*?-->/g, " ");
  });
}

/** "README.md:12: issue (issue 17 …)" for each process word in the page's prose. */
export function processWords(file: string, markdown: string): string[] {
  const found: string[] = [];
  prose(markdown).forEach((line, i) => {
    for (const [name, pattern] of PROCESS_WORDS) {
      const match = pattern.exec(line);
      if (match) found.push(`${file}:${i + 1}: ${name} (${line.trim().slice(Math.max(0, match.index - 30), match.index + 40)})`);
    }
  });
  return found;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Every relative link of a page that leads nowhere: "docs/a.md: b.md#c". */
export function brokenLinks(file: string, markdown: string, read: (file: string) => string | undefined): string[] {
  const broken: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const [, target] of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [rel, anchor] = target!.split("#");
      const resolved = rel ? path.posix.normalize(path.posix.join(path.posix.dirname(file), rel)) : file;
      const text = read(resolved);
      if (text === undefined) {
        if (!WRITTEN_ALONGSIDE.has(resolved)) broken.push(`${file}: ${target}`);
        continue;
      }
      if (anchor && resolved.endsWith(".md") && !anchors(text).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  return broken;
}

const readRepo = (file: string): string | undefined => {
  const full = path.join(ROOT, file);
  if (!existsSync(full)) return undefined;
  return readdirSync(path.dirname(full)).includes(path.basename(full)) && !file.endsWith("/") ? readFileSync(full, "utf8") : undefined;
};

function pages(): string[] {
  const docs = readdirSync(path.join(ROOT, "docs"), { recursive: true }).map(String).filter((f) => f.endsWith(".md"));
  return ["README.md", ...docs.map((f) => `docs/${f}`)];
}

describe("the documentation's checks", () => {
  it("find each process word and commit hash in prose, and not in code", () => {
    const sample = [
      "Fixed in issue 17 after the session.", "Measured on this machine.", "Passed at 91abf12.",
      "Run `npm test` with `CONSOLE_SESSION_HOURS` and `--console-session-hours`.",
      "```sh", "git show 675add4  # see issue #5", "```",
      "The `issue 17` and `91abf12` in code are not prose, nor is [a link](https://x.test/issues/91abf12).",
    ].join("\n");
    const found = processWords("x.md", sample);
    expect(found.map((f) => f.split(": ")[1]!.split(" (")[0])).toEqual(["issue", "session", "this machine", "commit hash"]);
    expect(found.every((f) => /^x\.md:[123]: /.test(f))).toBe(true);
    expect(processWords("y.md", "The console keeps a sign-in for 8 hours; 1,024 KB; ids like 1234567.")).toEqual([]);
  });

  it("find links to missing pages and headings", () => {
    const files: Record<string, string> = { "docs/a.md": "# A\n\n## Rate limits\n", "README.md": "" };
    const read = (f: string) => files[f];
    const page = "[ok](a.md) [ok](a.md#rate-limits) [up](../README.md) [web](https://example.com) [gone](b.md) [bad](a.md#nope) `[code](c.md)`";
    expect(brokenLinks("docs/x.md", page, read)).toEqual(["docs/x.md: b.md", "docs/x.md: a.md#nope (no such heading)"]);
    expect(slug("Graceful stop (SIGTERM)")).toBe("graceful-stop-sigterm");
    expect(slug("Read, but not acted on")).toBe("read-but-not-acted-on");
  });
});

describe("README.md and docs/", () => {
  it("README.md reads in five minutes: at most 250 lines", () => {
    expect(readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });

  it("speak about the product, not about how it was built", () => {
    expect(pages().flatMap((file) => processWords(file, readFileSync(path.join(ROOT, file), "utf8")))).toEqual([]);
  });

  it("link only to files and headings that exist", () => {
    expect(pages().flatMap((file) => brokenLinks(file, readFileSync(path.join(ROOT, file), "utf8"), readRepo))).toEqual([]);
  });

  it("reach every page of docs/ from README.md", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const file of pages().filter((f) => f.startsWith("docs/") && f !== "docs/README.md")) expect(readme, file).toContain(`](${file}`);
  });
});
