"""gunicorn settings for the client app: one place, read by every launcher.

`client-app` (`client_app.cli`) applies them; a plain gunicorn reads the same module:

    gunicorn -c python:client_app.gunicorn_conf --bind 0.0.0.0:8000 client_app.wsgi:app

gunicorn has no deadline for reading a request's headers or body: a client that sends them
slowly holds a worker thread until it finishes. Threads bound how many such clients it takes
to stall the app, nothing more: keep the app behind a proxy that buffers whole requests
before passing them on (App Service's front end, nginx, Azure Front Door), as in production.
"""

from __future__ import annotations

from typing import Any

# Threads, not processes, per worker: a request mostly waits on the IdP or Graph, and a slow
# client ties up one thread rather than the whole worker (the sync worker would serve nobody).
worker_class = "gthread"
threads = 8
# gthread's heartbeat comes from its main loop, not from requests (which run in threads, each
# bounded by HTTP_TIMEOUT towards the IdP): this only catches a wedged worker.
timeout = 30
# On SIGTERM, finish requests in flight for up to 8 s: within the 10 s Docker and most
# platforms give before SIGKILL.
graceful_timeout = 8
# Idle keep-alive connections wait in the poller (no thread) this long for the next request:
# enough for a browser's page and its follow-up, or a proxy's pooled connection.
keepalive = 5
# The app is built before the workers fork: a configuration error is reported once, and a
# generated development SECRET_KEY is shared by all workers.
preload_app = True
# No access log: callback URLs carry authorization codes.
accesslog = None
# No control socket: concurrent servers would share ~/.gunicorn, and nothing uses it.
control_socket_disable = True

NAMES = (
    "worker_class",
    "threads",
    "timeout",
    "graceful_timeout",
    "keepalive",
    "preload_app",
    "accesslog",
    "control_socket_disable",
)


def settings() -> dict[str, Any]:
    """This module's gunicorn settings as a dict, for an embedding launcher."""
    return {name: globals()[name] for name in NAMES}
