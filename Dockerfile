# syntax=docker/dockerfile:1
# Switchboard on Node 24 (LTS). Stage 1 builds dist/node.js (and its lazily loaded dist/chunks/) with the dev toolchain (bun bundles it);
# stage 2 installs production dependencies only; the final image holds just those two plus Node.
#   docker build -t switchboard .
#   docker run -p 6001:6001 -e APP_ID=app-id -e APP_KEY=app-key -e APP_SECRET=app-secret switchboard
# Without APP_* it runs on embedded defaults: port 6001 and a development app whose random
# credentials are printed at start-up. Every flag is also an environment variable (docs/configuration.md).
# A smaller image from the single binary, without Node: Dockerfile.binary.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY runtimes ./runtimes
RUN npm run build

FROM node:24-alpine AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: production dependencies are plain JavaScript.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-alpine
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/node.js ./dist/node.js
COPY --from=build /app/dist/chunks ./dist/chunks
COPY package.json ./
COPY config ./config
# The node image's unprivileged user; nothing in /app needs to be writable.
USER node
# 6001: WebSocket and HTTP API; 9601: Prometheus metrics (METRICS_PORT)
EXPOSE 6001 9601
# Honours PORT and PATH_PREFIX when they are set for the server.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 6001}${process.env.PATH_PREFIX || ''}/up`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: sockets get 4200 and the process exits.
CMD ["node", "dist/node.js"]
