"""`BufferedWSGI`: runs the mock's WSGI app under granian's RSGI interface, with the request
body read in full, under a deadline and a size bound, before the app sees the request.

Under granian's WSGI interface a body is read from the app's own thread: a client sending its
body at one byte a second holds that thread, and two such clients held both workers of
`mock-entra serve`. Here the body arrives on the worker's event loop, which waits
for any number of slow clients at once; the app runs only once the body is complete (or
answers 408 after `body_timeout`, 413 over `MAX_BODY_BYTES`). Slow headers never reach Python:
granian's HTTP/1 header read timeout (see `server.serve`) closes them. An answer the app asks
to hold back (`token.timeout`, through `wire.DEFER_ANSWER`) waits on the loop too, so a
stalled client's request delays nobody else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from mock_entra.web import error_bodies
from mock_entra.web.errorlog import log_unexpected
from mock_entra.web.front import WSGIApp
from mock_entra.web.wire import DEFER_ANSWER, MAX_BODY_BYTES

log = logging.getLogger(__name__)
BODY_TIMEOUT = 10.0  # seconds for a whole request body; an ordinary client needs milliseconds


class _TooLarge(Exception):
    pass


class BufferedWSGI:
    """An RSGI application wrapping a WSGI one (bodies buffered before the app is called)."""

    def __init__(self, app: WSGIApp, *, body_timeout: float = BODY_TIMEOUT) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":  # websockets are off (`server.serve`)
            return
        try:
            body = await asyncio.wait_for(self._body(scope, protocol), self.body_timeout)
        except _TooLarge:
            return _error(protocol, 413, error_bodies.TOO_LARGE)
        except TimeoutError:
            return _error(protocol, 408, "The request body did not arrive in time.")
        except RuntimeError:  # granian's RSGIProtocolClosed: the client left mid-body
            return None
        delays: list[float] = []
        status, headers, data = self._call(scope, body, delays.append)
        if delays:  # an answer held back (`token.timeout`): the loop serves others meanwhile
            await asyncio.sleep(max(delays))
        with contextlib.suppress(RuntimeError):  # the client has gone: nobody to answer
            protocol.response_bytes(status, headers, data)

    @staticmethod
    async def _body(scope: Any, protocol: Any) -> bytes:
        headers = scope.headers
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                raise _TooLarge
            return await protocol() if length != "0" else b""
        if "transfer-encoding" not in headers:
            return b""
        chunks, size = [], 0
        async for chunk in protocol:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _call(
        self, scope: Any, body: bytes, defer: Callable[[float], None]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The app's answer: status, headers, body."""
        started: list[Any] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            started[:] = [int(status[:3]), headers]
            return lambda data: None  # the legacy write(): unused by the mock

        try:
            environ = _environ(scope, body)
            environ[DEFER_ANSWER] = defer
            result = self.app(environ, start_response)
            try:
                data = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            trace = str(uuid.uuid4())
            log_unexpected(log, trace)
            answer = error_bodies.unexpected(trace)
            started[:] = [500, answer.header_list(trace)]
            data = answer.body
        status, headers = started
        return status, headers, data


def _environ(scope: Any, body: bytes) -> dict[str, Any]:
    server, _, port = scope.server.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(scope.path).decode("latin-1"),  # as WSGI servers do
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server.strip("[]"),
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name != "content-length":
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in environ:  # a repeated header, folded as RFC 9110 allows
                value = f"{environ[key]}{'; ' if name == 'cookie' else ','}{value}"
            environ[key] = value
    return environ


def _error(protocol: Any, status: int, description: str) -> None:
    trace = str(uuid.uuid4())
    answer = error_bodies.http_error(status, description, trace)
    with contextlib.suppress(RuntimeError):
        protocol.response_bytes(
            status, answer.header_list(trace, ("Connection", "close")), answer.body
        )
