// Writes docs/configuration.md from the settings schemas (src/config/reference-markdown.ts).
//   npm run docs:config            # rewrite the page
//   npm run docs:config -- --check # exit 1 when the page is out of date
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { referenceMarkdown } from "../src/config/reference-markdown.ts";

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../docs/configuration.md");
const page = referenceMarkdown();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch (error) {
    console.error(`docs:config: cannot read ${file}: ${(error as Error).message}`);
  }
  if (current !== page) {
    console.error("docs:config: docs/configuration.md is out of date: run npm run docs:config");
    process.exit(1);
  }
} else {
  writeFileSync(file, page);
  console.log(`docs:config: wrote ${path.relative(process.cwd(), file)}`);
}
