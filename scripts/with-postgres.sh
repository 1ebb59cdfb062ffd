#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster on a free loopback port.
#   scripts/with-postgres.sh cargo test
# The cluster lives in a temporary directory and is stopped and deleted on exit. The
# command sees AURA_TEST_POSTGRES_URL (an admin URL; tests create their own databases) and
# AURA_TEST_POSTGRES_BIN (the cluster's binaries, for pg_dump and pg_restore).
set -euo pipefail
source "$(dirname "$0")/env.sh"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
if [[ -z "$PG_BIN" ]]; then
  echo "with-postgres: PostgreSQL server binaries not found; install Debian's postgresql package" >&2
  exit 1
fi

DIR=$(mktemp -d /tmp/aura-pg.XXXXXX)
PORT=$(free_port)

# PostgreSQL refuses to run as root; use the postgres system user when we are root.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [[ $(id -u) -eq 0 ]]; then chown postgres: "$DIR"; fi

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync -E UTF8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
# Durability is irrelevant for a throwaway test cluster; speed is not.
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }

echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
AURA_TEST_POSTGRES_BIN="$PG_BIN" AURA_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/postgres" "$@"
