// The console's page and assets as strings in the source, so every runtime and the single binary
// built by `bun build --compile` serve them without reading files.
export { CONSOLE_HTML } from "./page.ts";
export { CONSOLE_CSS } from "./style.ts";
export { CONSOLE_JS } from "./script.ts";
