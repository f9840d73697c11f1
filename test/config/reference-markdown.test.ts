// docs/configuration.md is generated from the schemas: it must be what they say now, and the
// generator must cover every setting --help lists, so a new setting cannot ship undocumented.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ALIASES, NOT_ACTED_ON } from "../../src/config/formats/aliases.ts";
import { helpText } from "../../src/config/help.ts";
import { referenceMarkdown } from "../../src/config/reference-markdown.ts";
import { settingsReference } from "../../src/config/reference.ts";
import { SERVER_SETTING_KEYS } from "../../src/config/schema.ts";
import { APP_SETTING_KEYS } from "../../src/core/app.ts";
import { driverSettings } from "../../src/drivers/index.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const upperSnake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

describe("docs/configuration.md", () => {
  it("is what `npm run docs:config` writes from the schemas now", () => {
    const committed = readFileSync(path.join(ROOT, "docs/configuration.md"), "utf8");
    // Not toBe on the whole page: the first differing line says what changed.
    const want = referenceMarkdown().split("\n");
    const have = committed.split("\n");
    const first = want.findIndex((line, i) => line !== have[i]);
    expect(first === -1 && want.length === have.length ? "" : `line ${first + 1}: ${have[first]} (want: ${want[first]}); run npm run docs:config`).toBe("");
  });

  it("has a row for every server, driver and app setting, with its variable", () => {
    const page = referenceMarkdown();
    for (const key of [...SERVER_SETTING_KEYS, ...driverSettings().keys()]) expect(page, key).toContain(`\`${upperSnake(key)}\` | \`${key}\``);
    for (const key of APP_SETTING_KEYS) expect(page, key).toContain(`\`APP_${upperSnake(key)}\` | \`app.${key}\``);
  });

  it("names every other server's alias, and every name read but not acted on", () => {
    const page = referenceMarkdown();
    for (const alias of [...Object.values(ALIASES).flat(), ...NOT_ACTED_ON]) expect(page, alias.name).toContain(`\`${alias.name}\``);
    expect(page).toMatch(/`SOKETI_PORT` \(Soketi\)/);
    expect(page).toMatch(/`--app-manager`, `APP_MANAGER`, `appManager` \(Socket Rush\)/);
  });

  it("shares its source with --help: every entry's flag and variable are in both", () => {
    const help = helpText();
    for (const section of settingsReference()) {
      for (const entry of section.entries) {
        const head = [entry.flag, entry.env].filter(Boolean).join(", ");
        expect(help, head).toContain(`  ${head}`);
        for (const alias of entry.aliases) expect(help, alias).toContain(alias);
      }
    }
  });
});
