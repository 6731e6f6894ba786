"""One exchange replayed and compared: the differences, as compare.py words them."""

from __future__ import annotations

from mock_entra.intercept import MockEntraInterceptor

from .compare import diff, diff_headers
from .corpus import Exchange
from .replay import Replayer


def differences(mock: MockEntraInterceptor, exchange: Exchange) -> list[str]:
    answer = Replayer(mock, exchange).run()
    recorded = exchange.response
    found = []
    if answer.status != recorded["status"]:
        found.append(f"status: {recorded['status']} recorded, {answer.status} from the mock")
    headers = recorded.get("headers", {})
    # A recorder keeps all the headers (the corpus the ones clients read, and CORS's).
    complete = exchange.provenance == "recorded" and bool(headers)
    found += diff_headers(headers, answer.headers, complete=complete)
    body = recorded.get("body")
    if isinstance(body, (dict, list)):
        found += diff(body, answer.body, "body", frozenset(exchange.sanitised))
    if recorded.get("partial_body"):
        # A documentation example lists some fields: what it leaves out is not a difference.
        found = [d for d in found if not d.endswith(": not in the recording")]
    return found
