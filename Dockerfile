# One image for both services of entra-lab:
#   * the client app: the default CMD (what Azure App Service runs), gunicorn on
#     0.0.0.0:${PORT:-8000}; on App Service set the app setting WEBSITES_PORT=8000;
#   * the mock Entra ID: `mock-entra serve --host 0.0.0.0 --port 8443` (see compose.yaml),
#     keeping its CA and keys in /state (MOCK_ENTRA_STATE_DIR).
#
# Shape of astral-sh/uv-docker-example: dependencies and project installed by
# `uv sync --locked` in two cached steps (dependencies change less often than the code),
# no dev dependencies, a non-root user.
#
# Build: docker build -t entra-lab .   (BuildKit, the default builder: RUN --mount needs it)
# No `# syntax=` line: the built-in frontend has RUN --mount, and a syntax line would make
# every build fetch a frontend image from Docker Hub (impossible behind a mirror or offline).

# uv from its official image, pinned to the version this project's uv.lock is made with. Only
# mounted while `uv sync` runs (uv's Docker guide): the 39 MB binary stays out of the image.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11-slim-bookworm

# The user the services run as, and /state (the mock's state dir) owned by it, so that a
# named volume mounted there starts out writable (Docker copies the ownership into it).
RUN groupadd --system --gid 999 nonroot \
 && useradd --system --gid 999 --uid 999 --create-home nonroot \
 && install --directory --owner=nonroot --group=nonroot /state

WORKDIR /app

# `--extra app`: the mock and the app (gunicorn, MSAL, Flask-Session), not the conformance
# suites' Playwright and pytest.
# Compile .pyc at build time (faster start); copy out of the cache mount (a hard link across
# file systems is impossible); no dev dependency group; use the image's Python, never download.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_DEV=1 \
    UV_PYTHON_DOWNLOADS=0

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
