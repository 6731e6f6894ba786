"""A real HTTP listener standing in for an app's redirect URI: it answers "captured" and
keeps the parameters the browser brought (query string or form_post body)."""

from __future__ import annotations

import functools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class RedirectCatcher:
    def __init__(self) -> None:
        self._latest: dict[str, str] = {}
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, raw: str) -> None:
                if urlsplit(self.path).path == "/callback":  # not /favicon.ico
                    catcher._latest.clear()
                    catcher._latest.update({k: v[0] for k, v in parse_qs(raw).items()})
                body = b"captured"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer(urlsplit(self.path).query)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self._answer(self.rfile.read(length).decode())

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://localhost:{self._server.server_address[1]}/callback"

    def expect(self) -> dict[str, str]:
        """Forget what came before; the dict returned fills when the next request lands."""
        self._latest = {}
        return self._latest


@functools.cache
def shared_catcher() -> RedirectCatcher:
    """The one catcher of the run: its URL is registered on the session's live mock (see
    `mock_entra_config` in this folder's conftest), whichever module starts that mock first."""
    return RedirectCatcher()
