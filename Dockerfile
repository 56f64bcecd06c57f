# syntax=docker/dockerfile:1
# The netcheck image: `netcheck worker` by default; the same image runs `netcheck setup`,
# `netcheck simulator` and `netcheck codec-server` (docker-compose.yml).
#
#   docker build -t netcheck .
#   docker run --rm -e TEMPORAL_ADDRESS=… -e VONAGE_APPLICATION_ID=… \
#     -e VONAGE_PRIVATE_KEY_PATH=/run/secrets/private.key -v "$PWD/private.key:/run/secrets/private.key:ro" netcheck
#
# Debian (glibc) base: the Temporal SDK's native core ships glibc builds only. Node 20's last
# release, by exact version (test/deploy/compose.test.ts requires a digest or this exemption).
# pin-exemption: node — no registry is reachable where this file is tested, so no digest could be verified; pin it with `docker buildx imagetools inspect node:20.20.2-bookworm-slim` → docker build --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:<digest> (or edit the line below)
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: compile TypeScript and bundle the workflow code once ------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY index.ts ./index.ts
COPY common ./common
COPY codec ./codec
COPY testing ./testing
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY cli ./cli
COPY simulator ./simulator
COPY scripts ./scripts
# dist/ for the runtime, then the workflow bundle from the compiled workflows: the worker loads
# it (NETCHECK_WORKFLOW_BUNDLE) instead of running webpack at every start. Built with the
# encrypting failure converter, so workers with NETCHECK_ENCRYPTION_KEYS(_FILE) take it as it is
# (without it they would bundle again at every start); keyless workers run it just the same.
RUN npm run build && npm run build:bundle -- --out dist/workflow-bundle.js --encrypt-failures

# --- runtime: production dependencies, dist/ and the bundle; runs as the non-root user `node` ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NETCHECK_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    NETCHECK_STATE_DIR=/var/lib/netcheck \
    NETCHECK_HEALTH_PORT=9465
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/image-dependencies.mjs ./scripts/
# A production install leaves out optional peer dependencies, and the worker's (@temporalio/worker,
# the tracing packages) are optional for applications that only start checks: they become
# dependencies here first, at the versions the lock file holds.
RUN npm ci --omit=dev --no-audit --no-fund \
 && node scripts/image-dependencies.mjs && npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force
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
# `netcheck worker` serves /healthz and /readyz on NETCHECK_HEALTH_PORT (127.0.0.1 in the
# container): healthy while it polls. Other commands of the image set their own (compose does).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.NETCHECK_HEALTH_PORT || '9465') + '/readyz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["netcheck"]
CMD ["worker"]
