"""`BufferedWSGI` (what `mock-entra serve` hands granian): the WSGI environ it builds, bodies
read in full before the app runs, 413 over the limit, 408 when a body does not come."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from mock_entra.web.rsgi import BufferedWSGI
from mock_entra.web.wire import MAX_BODY_BYTES
from tests.event_loop import run_coroutine


class Headers(dict):
    def items(self):  # granian's headers: lower-case names, a repeated one listed twice
        return self._pairs

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs


@dataclass
class Scope:
    headers: Headers
    method: str = "POST"
    path: str = "/t/caf%C3%A9/x"
    query_string: str = "a=1"
    proto: str = "http"
    http_version: str = "1.1"
    scheme: str = "https"
    server: str = "127.0.0.1:8443"
    client: str = "[::1]:50000"


@dataclass
class Protocol:
    chunks: list[bytes]
    stall: bool = False
    answered: list[Any] = field(default_factory=list)

    async def __call__(self) -> bytes:
        if self.stall:
            await asyncio.sleep(60)
        return b"".join(self.chunks)

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for chunk in self.chunks:
            yield chunk

    def response_bytes(self, status: int, headers: list, body: bytes) -> None:
        self.answered.append((status, dict(headers), body))


def echo(environ: dict, start_response) -> list[bytes]:
    seen = {k: v for k, v in environ.items() if isinstance(v, str)}
    seen["body"] = environ["wsgi.input"].read().decode()
    start_response("201 Created", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def run(scope: Scope, protocol: Protocol, **kwargs: Any) -> tuple[int, dict, bytes]:
    run_coroutine(BufferedWSGI(echo, **kwargs).__rsgi__(scope, protocol))
    (answer,) = protocol.answered
    return answer


def test_the_environ_and_the_whole_body():
    headers = Headers(
        [
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", "7"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("client-request-id", "abc"),
        ]
    )
    status, _, body = run(Scope(headers), Protocol([b"x=1", b"&y=2"]))
    seen = json.loads(body)
    assert status == 201
    assert seen["body"] == "x=1&y=2" and seen["CONTENT_LENGTH"] == "7"
    assert seen["PATH_INFO"] == "/t/café/x".encode().decode("latin-1")  # as WSGI servers give it
    assert seen["QUERY_STRING"] == "a=1" and seen["REQUEST_METHOD"] == "POST"
    assert seen["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert seen["HTTP_COOKIE"] == "a=1; b=2" and seen["HTTP_CLIENT_REQUEST_ID"] == "abc"
    assert seen["REMOTE_ADDR"] == "::1" and seen["SERVER_PORT"] == "8443"
    assert seen["wsgi.url_scheme"] == "https"


def test_a_chunked_body_is_read_and_bounded():
    chunked = Headers([("transfer-encoding", "chunked")])
    status, _, body = run(Scope(chunked), Protocol([b"a", b"b"]))
    assert status == 201 and json.loads(body)["body"] == "ab"
    big = Protocol([b"x" * (MAX_BODY_BYTES // 2)] * 3)
    status, _, body = run(Scope(chunked), big)
    assert status == 413 and json.loads(body)["error"] == "invalid_request"


def test_a_declared_length_over_the_limit_is_refused_unread():
    declared = Headers([("content-length", str(MAX_BODY_BYTES + 1))])
    status, headers, _ = run(Scope(declared), Protocol([], stall=True))
    assert status == 413 and headers["Connection"] == "close"


def test_a_body_that_does_not_come_gets_408_without_reaching_the_app():
    declared = Headers([("content-length", "10")])
    status, headers, body = run(Scope(declared), Protocol([], stall=True), body_timeout=0.05)
    assert status == 408 and headers["Connection"] == "close"
    assert json.loads(body)["trace_id"]


def test_a_get_without_a_body_reads_nothing():
    status, _, body = run(Scope(Headers([]), method="GET"), Protocol([], stall=True))
    assert status == 201 and json.loads(body)["body"] == ""


class Closed(RuntimeError):  # as granian's RSGIProtocolClosed
    pass


def test_a_client_that_leaves_mid_body_is_not_an_error(caplog):
    class Gone(Protocol):
        async def __call__(self) -> bytes:
            raise Closed("RSGI transport is closed")

    gone = Gone([])
    run_coroutine(BufferedWSGI(echo).__rsgi__(Scope(Headers([("content-length", "5")])), gone))
    assert gone.answered == [] and not caplog.records
