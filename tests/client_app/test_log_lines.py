"""The app's log has one line per record, whatever a request carries (issue 18, finding 9:
`error=x%0A<forged line>` on the callback wrote a line of the caller's making)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from client_app_fakes import FakeIdP, start_login
from flask.testing import FlaskClient

from client_app.logs import configure_logging

# What an attacker would like the log to say, on a line of its own.
FORGED = "2026-01-01 00:00:00,000 INFO client_app.identity: sign-in completed for oid=admin"


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """The app's log as `client-app` and `client_app.wsgi` set it up, into a buffer."""
    root, msal_logger = logging.getLogger(), logging.getLogger("msal")
    levels = root.level, msal_logger.level
    buffer = io.StringIO()
    handler = configure_logging("INFO", buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        msal_logger.setLevel(levels[1])


def test_a_line_forged_in_the_callbacks_error_stays_in_its_record(
    client: FlaskClient, idp: FakeIdP, app_log: io.StringIO
) -> None:
    state = parse_qs(urlsplit(start_login(client)).query)["state"][0]
    error = f"x\r\n{FORGED}\x1b[2J\u2028{FORGED}"
    response = client.get("/getAToken", query_string={"error": error, "state": state})
    assert response.status_code == 400
    lines = app_log.getvalue().splitlines()  # what any reader splits on, U+2028 included
    failed = [line for line in lines if "request failed" in line]
    assert len(failed) == 1, lines
    assert f"code=x\\r\\n{FORGED}\\x1b[2J\\u2028{FORGED} aadsts=" in failed[0]
    assert not [line for line in lines if line.startswith(FORGED)], lines


def test_a_traceback_keeps_its_lines_and_none_looks_like_a_record(
    app_log: io.StringIO,
) -> None:
    try:
        raise ValueError(f"bad input x\n{FORGED}")
    except ValueError:
        logging.getLogger("client_app").exception("unhandled error: %s", "ValueError")
    first, *rest = app_log.getvalue().splitlines()
    assert first.endswith("ERROR client_app: unhandled error: ValueError")
    assert rest[0] == "  | Traceback (most recent call last):"
    assert all(line.startswith("  | ") for line in rest), rest
    assert f"  | {FORGED}" in rest  # still readable, never at the start of a line
