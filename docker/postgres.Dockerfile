# Postgres for compose.yaml's `shared` profile (the store both mock replicas share), built from
# the same Debian base as the mock's image with Debian's own package: no Postgres image is
# pulled, so it builds where only Debian's archive and PyPI are reachable.
#
# Build context: this folder (compose.yaml: `build: {context: docker, dockerfile: ...}`).
# The cluster is made on the first start into PGDATA (a named volume in compose), with one role
# and one database named by POSTGRES_USER/POSTGRES_DB and the role's password from
# POSTGRES_PASSWORD (docker/postgres-entrypoint.sh), then Postgres listens on all interfaces
# of the container: compose's network, never a host port.

FROM python:3.11-slim-bookworm

# Bookworm's Postgres 15. The package's own cluster (/var/lib/postgresql/15/main) is dropped:
# the entrypoint makes one in PGDATA, owned by the volume. The stable archive carries one
# version of each package, so none is pinned (DL3008).
# The user is made first, with a fixed uid/gid (999, as in the mock's image), so that USER can
# name it by number; the package's postinst keeps an existing system user.
# hadolint ignore=DL3008
RUN groupadd --system --gid 999 postgres \
 && useradd --system --gid 999 --uid 999 --home-dir /var/lib/postgresql --shell /bin/sh postgres \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql \
 && pg_dropcluster 15 main \
 && rm -rf /var/lib/apt/lists/* \
 && install --directory --owner=postgres --group=postgres --mode=0700 /var/lib/postgresql/data

COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint

ENV PATH="/usr/lib/postgresql/15/bin:$PATH" \
    PGDATA=/var/lib/postgresql/data \
    POSTGRES_USER=mock_entra \
    POSTGRES_DB=mock_entra

USER 999:999

EXPOSE 5432

# Healthy: the server accepts connections for the database (pg_isready: no password needed).
HEALTHCHECK --interval=2s --timeout=5s --start-period=30s --retries=15 \
    CMD ["sh", "-c", "pg_isready -q -h 127.0.0.1 -d \"$POSTGRES_DB\""]

# exec form; the script execs postgres, so it is PID 1 and gets `docker stop`'s SIGTERM.
CMD ["postgres-entrypoint"]
