#!/usr/bin/env node
// The `switchboard` command of the npm package (npm install -g, npx): the built server,
// dist/node.js, which `npm pack` builds first (prepack).
import { main } from "../dist/node.js";

main();
