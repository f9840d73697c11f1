#!/bin/sh
# Installs Soketi 1.6.1 into DIR (default ../soketi, outside the project) for side-by-side runs.
# Soketi's uWebSockets.js dependency points at GitHub, which an npm-only network cannot reach; the
# same v20 binaries come from npm's uws-pack (Node 18, 20, 21, 22 only), loaded through a small
# CommonJS shim since uws-pack is ESM-only. Then, with Node 20 or 22 on PATH:
#   node DIR/node_modules/@soketi/soketi/bin/server.js start --port=6001 &
#   node_modules/.bin/bun bench/run.ts --external 127.0.0.1:6001 --pid $! --app-id app-id \
#     --app-key app-key --app-secret app-secret --fresh --scenarios connect --connections 5000 --connect-rounds 3
set -eu
DIR=${1:-../soketi}
mkdir -p "$DIR/shim/uws"
cd "$DIR"
npm pack --silent uws-pack@20.0.8 >/dev/null
tar xzf uws-pack-20.0.8.tgz
rm -rf shim/uws/bin && mv package/dist/bin shim/uws/bin && rm -rf package uws-pack-20.0.8.tgz
printf '{ "name": "uWebSockets.js", "version": "20.0.8", "main": "index.js" }\n' > shim/uws/package.json
printf 'module.exports = require(`./bin/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);\n' > shim/uws/index.js
cat > package.json <<'JSON'
{ "name": "soketi-bench", "private": true,
  "dependencies": { "@soketi/soketi": "1.6.1" },
  "overrides": { "uWebSockets.js": "file:./shim/uws" } }
JSON
npm install --no-audit --no-fund --silent
echo "Soketi installed in $DIR"
