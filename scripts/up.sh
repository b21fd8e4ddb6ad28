#!/usr/bin/env bash
# Starts the whole hub with its demo: the README's first command.
#
# Installs dependencies (pnpm itself too, if missing), then runs `pnpm start`, which starts
# the services and the demo upstream, loads demo/hub.yaml and writes the demo credentials to
# .spl/demo.json (mode 0600). Secrets are never printed. Needs Node.js >= 20.11 and a Redis
# at REDIS_URL (default redis://127.0.0.1:6379); without DATABASE_URL the registry uses its
# embedded PostgreSQL in .spl/data.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.8

say() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

command -v node >/dev/null 2>&1 || die "Node.js 20 is needed: https://nodejs.org (or apt-get install nodejs)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 11) ? 0 : 1)' ||
  die "Node.js >= 20.11 is needed; this is $(node --version)"

if ! command -v pnpm >/dev/null 2>&1; then
  say "pnpm not found; installing pnpm@$PNPM_VERSION"
  if ! { command -v npm >/dev/null 2>&1 && npm i -g "pnpm@$PNPM_VERSION" >&2; }; then
    command -v corepack >/dev/null 2>&1 || die "could not install pnpm: neither npm nor corepack works"
    # Corepack's bundled signing keys lag behind npm's; skip its signature check.
    export COREPACK_INTEGRITY_KEYS=0
    corepack enable pnpm && corepack prepare "pnpm@$PNPM_VERSION" --activate >&2 ||
      die "could not install pnpm with corepack"
  fi
fi

if [[ -f pnpm-lock.yaml ]]; then
  say "pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile
else
  say "no pnpm-lock.yaml; pnpm install"
  pnpm install
fi

say "starting the hub (pnpm start); demo credentials go to .spl/demo.json"
exec pnpm start
