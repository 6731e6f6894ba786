"""`client-app [--host 127.0.0.1] [--port 5000] [--workers N]`: serve the app with gunicorn.

Without the `entra-lab[app]` extra it says so in one line and exits 2. Reads the
configuration once (a `SettingsError` is printed and exits 2), refuses to start on a
port that is already taken (exit 1), and serves with the gunicorn settings of
`client_app.gunicorn_conf` (threaded workers, timeouts). gunicorn's arbiter handles SIGINT
(quick) and SIGTERM (graceful) shutdown and exits 0.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence

from client_app import gunicorn_conf
from client_app.extra import missing_extra
from client_app.logs import configure_logging
from client_app.settings import Settings, SettingsError

logger = logging.getLogger("client_app")


def _version() -> str:
    """The installed entra-lab distribution's version, for `--version`."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("entra-lab")
    except PackageNotFoundError:
        return "(not installed)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: host, port, number of worker processes."""
    parser = argparse.ArgumentParser(
        prog="client-app", description="Serve the entra-lab client app with gunicorn."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default 5000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1..65535, got {args.port}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    return args


def port_is_free(host: str, port: int) -> bool:
    """Whether `host:port` can be bound now (with SO_REUSEADDR, as gunicorn binds)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `client-app` console script; returns the exit status."""
    args = parse_args(argv)
    problem = missing_extra("client-app", "app")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # Only now: the `app` extra's packages (gunicorn, MSAL, flask-session) are there.
    from client_app import create_app
    from client_app.identity import quiet_query_mode_advice
    from client_app.serving import GunicornServer

    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as error:
        print(f"client-app: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    quiet_query_mode_advice(settings)

    try:
        free = port_is_free(args.host, args.port)
    except OSError as error:
        print(f"client-app: cannot bind {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    if not free:
        print(
            f"client-app: port {args.port} on {args.host} is already in use; "
            f"choose another one with --port",
            file=sys.stderr,
        )
        return 1

    try:
        app = create_app(settings)  # refuses a SESSION_DIR that is not the app's own
    except SettingsError as error:
        print(f"client-app: {error}", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{args.port}"

    def when_ready(_server: object) -> None:
        logger.info("client_app listening on %s", url)

    options = {
        **gunicorn_conf.settings(),
        "bind": f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
        "workers": args.workers,
        "loglevel": settings.log_level.lower(),
        "when_ready": when_ready,
    }
    GunicornServer(app, options).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
