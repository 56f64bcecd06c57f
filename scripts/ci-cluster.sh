#!/usr/bin/env bash
# The cluster test of issue #14 as CI runs it: PostgreSQL (Debian package, installed if missing),
# Temporal Server 1.29.1 and its SQL tool (built once with go install, reused afterwards), then
# test/deploy/cluster.test.ts with NETCHECK_CLUSTER_TEST=1. Safe to run again; runs as root (the
# cluster then runs PostgreSQL as the `postgres` user) or as any user who can install packages.
# Prints the wall time of each step. Needs Go 1.24+ and Node, like the rest of CI.
#
# Usage: scripts/ci-cluster.sh       (NETCHECK_CLUSTER_TEST_SIZE=<n> for a smaller batch; default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."

step_started=0
step() {
  step_started=$(date +%s)
  echo "== cluster: $1"
}
done_step() {
  echo "== cluster: $1 took $(($(date +%s) - step_started)) s"
}
all_started=$(date +%s)
trap 'echo "== cluster: exit $? after $(($(date +%s) - all_started)) s in all"' EXIT

step "PostgreSQL"
if [ -n "${NETCHECK_PG_BIN:-}" ] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "present: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ' ')${NETCHECK_PG_BIN:-}"
else
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
# As root, PostgreSQL runs as `postgres`, which the Debian package creates.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "running as root but there is no postgres user: install Debian's postgresql package" >&2
  exit 1
fi
done_step "PostgreSQL"

if [ ! -d node_modules ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
  done_step "npm ci"
fi

step "Temporal CLI (for the compose jobs; reused when present)"
npm run -s temporal:install
done_step "Temporal CLI"

step "Temporal Server 1.29.1 binaries (reused when present, else go install)"
command -v go >/dev/null || { echo "Go 1.24+ is needed to build Temporal Server" >&2; exit 1; }
npm run -s cluster -- --build-only
done_step "Temporal Server binaries"

step "test/deploy/cluster.test.ts (batch of ${NETCHECK_CLUSTER_TEST_SIZE:-2000})"
NETCHECK_CLUSTER_TEST=1 npx vitest run test/deploy/cluster.test.ts
done_step "cluster test"
