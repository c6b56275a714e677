#!/bin/sh
# First start: a UTF-8 cluster (as the official image; psycopg returns bytes from SQL_ASCII ones)
# with one password-protected superuser and one database; then postgres.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pw="${POSTGRES_PASSWORD:-}"
  [ -n "${POSTGRES_PASSWORD_FILE:-}" ] && pw="$(cat "$POSTGRES_PASSWORD_FILE")"
  [ -n "$pw" ] || { echo "set POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD)" >&2; exit 1; }
  printf '%s\n' "$pw" > /tmp/pw
  initdb -U "$POSTGRES_USER" --pwfile=/tmp/pw --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -w -o "-c listen_addresses=''" start >/dev/null
  [ "$POSTGRES_DB" = postgres ] || createdb -U "$POSTGRES_USER" "$POSTGRES_DB"
  pg_ctl -w stop >/dev/null
fi
exec postgres -c listen_addresses="${PG_LISTEN:-*}" -p "$PGPORT"
