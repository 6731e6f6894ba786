"""The mock's WSGI app under other TLS-capable servers, for `bench_mock.py --compare`.

`mock-entra serve` runs granian; this serves the very same app (`wsgi.create_app`) under
gunicorn (gthread workers, preloaded, Python's ssl) and cheroot (one process, a thread pool,
Python's ssl), so the choice of server is a measurement, not a guess.

    uv run python bench/servers.py gunicorn|cheroot --port P --state-dir DIR [--workers N]
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from mock_entra.core.config import DEFAULT_CONFIG
from mock_entra.core.pki.state import ensure_state
from mock_entra.web.wsgi import create_app


def run_gunicorn(app: Any, cert: Path, key: Path, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": [f"127.0.0.1:{port}"],
                "workers": workers,
                "worker_class": "gthread",
                "threads": 8,
                "certfile": str(cert),
                "keyfile": str(key),
                "keepalive": 75,
                "preload_app": True,
                "accesslog": None,
                "loglevel": "warning",
                "control_socket_disable": True,
            }
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return app

    Server().run()


def run_cheroot(app: Any, cert: Path, key: Path, port: int, workers: int) -> None:
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    server = wsgi.Server(("127.0.0.1", port), app, numthreads=8 * workers)
    server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    server.start()


SERVERS = {"gunicorn": run_gunicorn, "cheroot": run_cheroot}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", choices=sorted(SERVERS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    paths = ensure_state(args.state_dir)
    app = create_app(DEFAULT_CONFIG, state_dir=paths.root)
    SERVERS[args.server](app, paths.server_cert, paths.server_key, args.port, args.workers)


if __name__ == "__main__":
    sys.exit(main())
