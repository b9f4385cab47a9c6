#!/bin/sh
# Make the cluster on the empty volume (user $POSTGRES_USER with $POSTGRES_PASSWORD, database $POSTGRES_DB), then
# run the server in the foreground. Later starts find the cluster and only run the server.
set -eu
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
  echo "error: set POSTGRES_PASSWORD (docker-compose.yml passes CITEBOT_DB_PASSWORD)" >&2
  exit 1
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "citebot-postgres: new cluster in $PGDATA" >&2
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  # The Unix socket (in /tmp, inside this container only) trusts: that is how `docker compose exec postgres
  # pg_dump -h /tmp -U citebot citebot` backs up without the password. Over TCP, always the password.
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --auth-local=trust --auth-host=scram-sha-256
  rm -f "$pwfile"
  # initdb's rules cover only loopback; the replicas connect from the compose network.
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /tmp" -w start
  psql -v ON_ERROR_STOP=1 -h /tmp -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  pg_ctl -D "$PGDATA" -m fast -w stop
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -k /tmp
