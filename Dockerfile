# Two images from one file:
#   * the default target (`app`): both services of entra-lab in one image,
#     - the client app: the default CMD (what Azure App Service runs), gunicorn on
#       0.0.0.0:${PORT:-8000}; on App Service set the app setting WEBSITES_PORT=8000;
#     - the mock Entra ID: `mock-entra serve --host 0.0.0.0 --port 8443` (see compose.yaml),
#       keeping its CA and keys in /state (MOCK_ENTRA_STATE_DIR);
#   * `--target mock`: the mock alone (no app extra, no browser), `mock-entra serve` on
#     0.0.0.0:8443 as its CMD, a HEALTHCHECK, its CA at /ca.pem; configured by a mounted file
#     or MOCK_ENTRA_CONFIG holding the config itself (docs/containers.md, "The mock alone").
#
# Shape of astral-sh/uv-docker-example: dependencies and project installed by
# `uv sync --locked` in two cached steps (dependencies change less often than the code),
# no dev dependencies, a non-root user.
#
# Build: docker build -t entra-lab .   (BuildKit, the default builder: RUN --mount needs it)
#        docker build --target mock -t mock-entra .
# No `# syntax=` line: the built-in frontend has RUN --mount, and a syntax line would make
# every build fetch a frontend image from Docker Hub (impossible behind a mirror or offline).

# uv from its official image, pinned to the version this project's uv.lock is made with. Only
# mounted while `uv sync` runs (uv's Docker guide): the 39 MB binary stays out of the image.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11-slim-bookworm AS base

# The user the services run as, and /state (the mock's state dir) owned by it, so that a
# named volume mounted there starts out writable (Docker copies the ownership into it).
RUN groupadd --system --gid 999 nonroot \
 && useradd --system --gid 999 --uid 999 --create-home nonroot \
 && install --directory --owner=nonroot --group=nonroot /state

WORKDIR /app

# Compile .pyc at build time (faster start); copy out of the cache mount (a hard link across
# file systems is impossible); no dev dependency group; use the image's Python, never download.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_DEV=1 \
    UV_PYTHON_DOWNLOADS=0

# --- the mock alone -----------------------------------------------------------------------------
FROM base AS mock

# The mock's own dependencies (Flask, PyJWT, cryptography, granian) and the `postgres` extra
# (psycopg, whose binary wheel brings libpq: 10 MB), so that replicas can share a store
# (`MOCK_ENTRA_STORE=postgresql://...`, compose.yaml's `shared` profile); no app, no browser.
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-install-project --extra postgres

COPY . /app
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --extra postgres

# `mock-entra serve` and `mock-entra info` read their options from these (docs/reference.md):
# all interfaces, 8443, the state in /state. MOCK_ENTRA_CONFIG (a path or the config's text)
# and MOCK_ENTRA_PUBLIC_URL (when published on another port) are the caller's to set.
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    MOCK_ENTRA_STATE_DIR=/state \
    MOCK_ENTRA_HOST=0.0.0.0 \
    MOCK_ENTRA_PORT=8443

# The CA at a fixed place, whatever is mounted at /state: `docker cp -L ID:/ca.pem .`,
# `docker exec ID cat /ca.pem`. It exists once the mock has made its state (first start).
RUN ln -s /state/ca.pem /ca.pem

USER 999:999

EXPOSE 8443

# Healthy: its discovery document answers over TLS, verified with its own CA, for the config it
# serves (`info --check` reads what `serve` recorded in /state). The summary (it names the demo
# users' passwords) is not kept in the health log.
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "mock-entra info --check > /dev/null"]

# exec form: the server is PID 1 and gets `docker stop`'s SIGTERM.
CMD ["mock-entra", "serve"]

# --- the app and the mock (the default target: last) ---------------------------------------------
FROM base AS app

# `--extra app`: the mock and the app (gunicorn, MSAL, Flask-Session), not the conformance
# suites' Playwright and pytest.

# Dependencies only: this layer stays cached until uv.lock or pyproject.toml change.
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-install-project --extra app

# Then the project itself (see .dockerignore for what stays out).
COPY . /app
RUN --mount=from=uv,source=/uv,target=/bin/uv \
    --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --extra app

ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    MOCK_ENTRA_STATE_DIR=/state

# Numeric, so a runtime can tell it is not root without reading /etc/passwd (DL3066).
USER 999:999

EXPOSE 8000

# The client app. sh expands ${PORT:-8000} (App Service sets PORT to WEBSITES_PORT); exec makes
# gunicorn PID 1, so `docker stop`'s SIGTERM reaches it. Its settings (threads, timeouts,
# preload, no access log: callback URLs carry codes) are client_app.gunicorn_conf's, the ones
# `client-app` uses; two worker processes per container.
CMD ["sh", "-c", "exec gunicorn -c python:client_app.gunicorn_conf --bind \"0.0.0.0:${PORT:-8000}\" --workers 2 client_app.wsgi:app"]
