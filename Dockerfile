# syntax=docker/dockerfile:1
# The netcheck image: `netcheck worker` by default; the same image runs `netcheck setup`,
# `netcheck simulator` and `netcheck codec-server` (docker-compose.yml).
#
#   docker build -t netcheck .
#   docker run --rm -e TEMPORAL_ADDRESS=… -e VONAGE_APPLICATION_ID=… \
#     -e VONAGE_PRIVATE_KEY_PATH=/run/secrets/private.key -v "$PWD/private.key:/run/secrets/private.key:ro" netcheck
#
# Debian (glibc) base: the Temporal SDK's native core ships glibc builds only.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript and bundle the workflow code once ------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY cli ./cli
COPY simulator ./simulator
COPY scripts ./scripts
# dist/ for the runtime, then the workflow bundle from the compiled workflows: the worker loads
# it (NETCHECK_WORKFLOW_BUNDLE) instead of running webpack at every start.
RUN npm run build && npm run build:bundle -- --out dist/workflow-bundle.js

# --- runtime: production dependencies, dist/ and the bundle; runs as the non-root user `node` ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NETCHECK_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    NETCHECK_STATE_DIR=/var/lib/netcheck
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY simulator/example-scenarios.json ./simulator/example-scenarios.json
# `netcheck` on PATH; a state folder the user owns (the simulator's key pair lives there).
RUN chmod 755 dist/cli/main.js \
 && ln -s /app/dist/cli/main.js /usr/local/bin/netcheck \
 && mkdir -p /var/lib/netcheck \
 && chown node:node /var/lib/netcheck
USER node
# SIGTERM (docker stop) stops polling and lets the worker drain before it exits (docs/production.md).
STOPSIGNAL SIGTERM
ENTRYPOINT ["netcheck"]
CMD ["worker"]
