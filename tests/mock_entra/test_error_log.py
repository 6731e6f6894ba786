"""A genuine 500 logs a bounded entry: the innermost frames and at most `MAX_CHARS` of text.

The probe's 340-deep `$filter` wrote a 135 KB traceback a request (116 MB of log in 10 s).
The inputs that did it are refused now (`test_graph_directory`, `test_claims`, `test_admin`);
these tests make the mock fail the same way on purpose, a `RecursionError` ~1,000 frames deep,
through both of its front doors (`web.front` for the token endpoint, Flask for the rest)."""

from __future__ import annotations

import logging

import pytest

from mock_entra.web.errorlog import MAX_CHARS

from .conftest import new_flow
from .token_form import app_only_token


def _recurse(*_args: object, **_kwargs: object) -> object:
    """Recursion through three functions, as a recursive-descent parser's: Python's traceback
    folds one frame repeated ("[Previous line repeated 996 more times]"), not a cycle."""
    return _and()


def _and() -> object:
    return _not()


def _not() -> object:
    return _recurse()


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    (record,) = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    # What a handler writes: the message, plus any traceback the record carries.
    return logging.Formatter().format(record)


def test_a_500_at_the_token_endpoint_logs_a_bounded_entry(interceptor, client, monkeypatch, caplog):
    monkeypatch.setattr("mock_entra.web.front.exchange", _recurse)
    caplog.set_level(logging.ERROR)
    response = app_only_token(client)
    assert response.status_code == 500
    trace = response.get_json()["trace_id"]
    entry = _logged(caplog)
    assert trace in entry and "RecursionError" in entry and "_recurse" in entry
    assert len(entry) < MAX_CHARS + 200, len(entry)  # was ~100 KB


def test_a_500_on_a_page_logs_a_bounded_entry(interceptor, client, monkeypatch, caplog):
    monkeypatch.setattr("mock_entra.core.signin.authorize.validate", _recurse)
    caplog.set_level(logging.ERROR)
    response = client.get(new_flow().auth_uri())
    assert response.status_code == 500
    entry = _logged(caplog)
    assert "RecursionError" in entry
    assert len(entry) < MAX_CHARS + 200, len(entry)
