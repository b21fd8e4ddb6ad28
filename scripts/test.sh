#!/usr/bin/env bash
# Runs every test (lint, typecheck, vitest) on a fresh machine: the README's second command,
# and exactly what CI runs (.ci/run).
#
# Needs Node.js >= 20.11, a Redis and a PostgreSQL. Where they are:
#   REDIS_URL              default redis://127.0.0.1:6379 (SPL_TEST_REDIS_URL overrides it for tests)
#   SPL_TEST_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/test; tests make their own
#                          schemas in it and drop them afterwards
# If Redis does not answer on this host and redis-server is installed, a throw-away one is
# started (no persistence) and stopped when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.8
REDIS_URL="${SPL_TEST_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379}}"
SPL_TEST_DATABASE_URL="${SPL_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REDIS_URL SPL_TEST_DATABASE_URL

say() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

ensure_node() {
  command -v node >/dev/null 2>&1 || die "Node.js 20 is needed: https://nodejs.org (or apt-get install nodejs)"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 11) ? 0 : 1)' ||
    die "Node.js >= 20.11 is needed; this is $(node --version)"
}

ensure_pnpm() {
  command -v pnpm >/dev/null 2>&1 && return
  say "pnpm not found; installing pnpm@$PNPM_VERSION"
  if command -v npm >/dev/null 2>&1 && npm i -g "pnpm@$PNPM_VERSION" >&2; then
    return
  fi
  command -v corepack >/dev/null 2>&1 || die "could not install pnpm: neither npm nor corepack works"
  # Corepack's bundled signing keys lag behind npm's; skip its signature check.
  export COREPACK_INTEGRITY_KEYS=0
  corepack enable pnpm && corepack prepare "pnpm@$PNPM_VERSION" --activate >&2 ||
    die "could not install pnpm with corepack"
}

# Prints one part (hostname, port) of a URL, with the scheme's default port.
url_part() {
  node -e '
    const u = new URL(process.argv[1]);
    const defaults = { "redis:": 6379, "rediss:": 6379, "postgres:": 5432, "postgresql:": 5432 };
    const part = process.argv[2];
    const value = part === "port" ? u.port || defaults[u.protocol] : u[part];
    process.stdout.write(String(value).replace(/^\[|\]$/g, ""));
  ' "$1" "$2"
}

# True when something accepts a TCP connection at host:port within two seconds.
tcp_answers() {
  node -e '
    const socket = require("node:net").connect({ host: process.argv[1], port: Number(process.argv[2]) });
    socket.setTimeout(2000, () => process.exit(1));
    socket.on("connect", () => process.exit(0)).on("error", () => process.exit(1));
  ' "$1" "$2"
}

redis_answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ]
  else
    tcp_answers "$(url_part "$REDIS_URL" hostname)" "$(url_part "$REDIS_URL" port)"
  fi
}

postgres_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -d "$SPL_TEST_DATABASE_URL" -t 3
  else
    tcp_answers "$(url_part "$SPL_TEST_DATABASE_URL" hostname)" "$(url_part "$SPL_TEST_DATABASE_URL" port)"
  fi
}

install_hint() {
  printf '\n' >&2
  printf '%s\n' "Install and start them, for example on Debian or Ubuntu:" \
    "  sudo apt-get install -y redis-server postgresql" \
    "  sudo -u postgres createdb test   # and allow the postgres user in (trust or a password in the URL)" \
    "or point REDIS_URL and SPL_TEST_DATABASE_URL at servers you have." >&2
}

ensure_redis() {
  redis_answers && return
  local host port
  host="$(url_part "$REDIS_URL" hostname)"
  port="$(url_part "$REDIS_URL" port)"
  if command -v redis-server >/dev/null 2>&1 && [[ "$host" == 127.0.0.1 || "$host" == localhost ]]; then
    REDIS_DIR="$(mktemp -d -t spl-test-redis.XXXXXX)"
    say "Redis not answering at $host:$port; starting a throw-away redis-server in $REDIS_DIR"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$REDIS_DIR" --save '' --appendonly no \
      --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
    trap stop_redis EXIT
    for _ in $(seq 1 50); do
      redis_answers && return
      sleep 0.1
    done
    die "the redis-server started in $REDIS_DIR does not answer; see $REDIS_DIR/redis.log"
  fi
  printf 'error: Redis does not answer at %s\n' "$REDIS_URL" >&2
  install_hint
  exit 1
}

stop_redis() {
  [[ -n "${REDIS_DIR:-}" ]] || return 0
  if [[ -f "$REDIS_DIR/redis.pid" ]]; then
    local pid
    pid="$(cat "$REDIS_DIR/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$REDIS_DIR"
}

ensure_postgres() {
  if ! postgres_answers; then
    printf 'error: PostgreSQL does not answer at %s\n' "$(url_part "$SPL_TEST_DATABASE_URL" host)" >&2
    install_hint
    exit 1
  fi
  # The server answers; a missing database or role would only show up as failing tests.
  if command -v psql >/dev/null 2>&1 && ! psql "$SPL_TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
    die "PostgreSQL answers but will not let SPL_TEST_DATABASE_URL in (no such database or role?); e.g. createdb -h $(url_part "$SPL_TEST_DATABASE_URL" hostname) -U postgres test"
  fi
}

# The deploy and status-page tests drive promtool, kubectl (kustomize), docker-compose and
# Chromium (scripts/install-test-tools.sh). When one is missing and this script may install
# Debian packages (root with apt-get), it does; otherwise it says how, and the tests that
# need promtool or kubectl fail saying so.
ensure_test_tools() {
  local missing=()
  for tool in promtool kubectl docker-compose; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
    [[ -n "${CHROMIUM_PATH:-}" ]] || missing+=(chromium)
  ((${#missing[@]} == 0)) && return
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing test tools (${missing[*]}): scripts/install-test-tools.sh"
    sh scripts/install-test-tools.sh >&2 || say "could not install ${missing[*]}; their tests will say so"
  else
    say "not installed: ${missing[*]}; install with: sudo sh scripts/install-test-tools.sh"
  fi
}

ensure_node
ensure_pnpm
ensure_test_tools
say "pnpm install --frozen-lockfile"
pnpm install --frozen-lockfile
ensure_redis
ensure_postgres
say "Redis and PostgreSQL answer; running pnpm test"
# Not exec: the EXIT trap must still stop a Redis this script started.
pnpm test
