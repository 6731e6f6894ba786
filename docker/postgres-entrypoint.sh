#!/bin/sh
# Postgres for the shared mock (docker/postgres.Dockerfile): on the first start (an empty
# PGDATA) make the cluster, the role POSTGRES_USER with the password POSTGRES_PASSWORD (asked
# for, scram-sha-256, from any address) and the database POSTGRES_DB it owns; then run
# Postgres as PID 1, listening on every interface of the container.
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (the mock replicas' MOCK_ENTRA_STORE holds it)}"
  # The superuser `postgres` gets no password: it logs in only through the local socket (peer).
  initdb --pgdata="$PGDATA" --username=postgres --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # SQL string literal of the password: quotes doubled.
  password=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
  # Single-user mode: no server, no socket, one statement per line.
  postgres --single -D "$PGDATA" postgres >/dev/null <<SQL
CREATE ROLE "$POSTGRES_USER" LOGIN PASSWORD '$password';
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
  echo "postgres-entrypoint: made the cluster, role $POSTGRES_USER and database $POSTGRES_DB"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
