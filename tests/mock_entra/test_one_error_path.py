"""One error path: every error body the mock sends is built by one function per kind in
`mock_entra.web.error_bodies`, whichever side (`Front`, Flask's handlers, the RSGI adapter)
answers the request."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .conftest import BASE, CLIENT_ID, REDIRECT, TENANT

MOCK = Path(__file__).resolve().parents[2] / "mock_entra"
CORRELATION = str(uuid.uuid4())


def _modules_writing(pattern: str) -> list[str]:
    return sorted(
        p.relative_to(MOCK).as_posix()
        for p in MOCK.rglob("*.py")
        if re.search(pattern, p.read_text(encoding="utf-8"))
    )


def test_entras_error_description_is_written_in_one_module():
    assert _modules_writing(r"Trace ID: ") == ["web/error_bodies.py"]


def test_error_bodies_are_built_in_one_module():
    # Entra's and the HTTP errors' "error_description", Graph's "innerError"
    assert _modules_writing(r"[\"']error_description[\"']") == ["web/error_bodies.py"]
    assert _modules_writing(r"[\"']innerError[\"']\s*:") == ["web/error_bodies.py"]


def _without_ids(body: dict) -> dict:
    out = dict(body)
    for key in ("trace_id", "timestamp"):
        assert out.pop(key)
    head, trace, correlation, stamp = out.pop("error_description").split("\r\n")
    assert trace.startswith("Trace ID: ") and stamp.startswith("Timestamp: ")
    assert correlation == f"Correlation ID: {CORRELATION}"
    return out | {"description_head": head}


def test_front_and_flask_send_the_same_entra_error(client):
    """An unknown tenant, answered by `Front` (discovery, token) and by the Flask app
    (instance discovery, user realm): the same body but for the ids."""
    headers = {"client-request-id": CORRELATION}
    answers = [
        client.get(
            "/nope.example/v2.0/.well-known/openid-configuration", headers=headers, base_url=BASE
        ),
        client.post("/nope.example/oauth2/v2.0/token", data={}, headers=headers, base_url=BASE),
        client.get(
            "/nope.example/userrealm/a@b.example?api-version=1.0", headers=headers, base_url=BASE
        ),
        client.get(
            "/nope.example/discovery/instance?authorization_endpoint=x",
            headers=headers,
            base_url=BASE,
        ),
    ]
    bodies = [_without_ids(a.get_json()) for a in answers]
    assert {a.status_code for a in answers} == {400}
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["error_uri"] == f"{BASE}/error?code={bodies[0]['error_codes'][0]}"
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store, no-cache"
        assert answer.headers["x-ms-request-id"] == answer.get_json()["trace_id"]


def test_the_error_redirect_carries_the_same_description(client):
    """A redirectable error (bad response_type for a known app and redirect URI)."""
    answer = client.get(
        f"/{TENANT}/oauth2/v2.0/authorize",
        query_string={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "token",
            "scope": "openid",
            "state": "s1",
        },
        headers={"client-request-id": CORRELATION},
        base_url=BASE,
    )
    assert answer.status_code == 302
    params = parse_qs(urlsplit(answer.headers["Location"]).query)
    lines = params["error_description"][0].split("\r\n")
    assert lines[1].startswith("Trace ID: ") and lines[2] == f"Correlation ID: {CORRELATION}"
    assert params["state"] == ["s1"]
