// The version printed by --version. A JSON import, so the bundles and the compiled binary carry
// it inside them instead of reading package.json at run time.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
