"""The routing rule (`front.FAST_ROUTES`): `Front` owns a declared set of paths, the Flask app
every other; no path is on both sides, and preflight, 405, 413 and form reading
(`web.http_rules`) behave alike whichever side answers."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from werkzeug.exceptions import NotFound

from mock_entra.web.front import FAST_ROUTES

from .conftest import BASE, CLIENT_ID, SECRET, TENANT

FRONT_SAMPLES = [
    f"/{TENANT}/v2.0/.well-known/openid-configuration",
    f"/{TENANT}/.well-known/openid-configuration",
    f"/{TENANT}/discovery/v2.0/keys",
    f"/{TENANT}/discovery/keys",
    f"/{TENANT}/oauth2/v2.0/token",
    f"/{TENANT}/oauth2/v2.0/devicecode",
    f"/{TENANT}/oauth2/devicecode",
]
FORM = "application/x-www-form-urlencoded"


def _sample(rule: str) -> str:
    """A path Flask's rule matches: `<tenant>` a tenant, any other variable `x`."""
    return re.sub(r"<[^>]+>", lambda m: TENANT if m.group(0) == "<tenant>" else "x", rule)


def test_every_path_is_on_exactly_one_side(app):
    flask = app.front.flask
    adapter = flask.url_map.bind("localhost")
    for path in FRONT_SAMPLES:
        assert sum(bool(r.pattern.match(path)) for r in FAST_ROUTES) == 1, path
        for method in ("GET", "POST"):
            with pytest.raises(NotFound):  # not even MethodNotAllowed: Flask has no such rule
                adapter.match(path, method=method)
    rules = [r.rule for r in flask.url_map.iter_rules() if r.endpoint != "static"]
    assert len(rules) > 10
    for rule in rules:
        owners = [r.name for r in FAST_ROUTES if r.pattern.match(_sample(rule))]
        assert owners == [], f"{rule} is Flask's and Front's ({owners})"


def _without_trace(answer) -> dict:
    body = answer.get_json()
    assert body.pop("trace_id") == answer.headers["x-ms-request-id"]
    return body


def test_405_alike_on_both_sides(client):
    front = client.post(FRONT_SAMPLES[0], base_url=BASE)
    flask = client.put(f"/{TENANT}/oauth2/v2.0/authorize", base_url=BASE)
    assert front.status_code == flask.status_code == 405
    assert _without_trace(front) == _without_trace(flask)
    assert front.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert flask.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_413_alike_on_both_sides(client):
    big = urlencode({"pad": "x" * (1024 * 1024)})
    front = client.post(FRONT_SAMPLES[4], base_url=BASE, data=big, content_type=FORM)
    flask = client.post(f"/{TENANT}/login", base_url=BASE, data=big, content_type=FORM)
    assert front.status_code == flask.status_code == 413
    assert _without_trace(front) == _without_trace(flask)


def test_forms_read_alike_on_both_sides(client):
    """Past 200 fields a form is AADSTS9002313 on both sides (JSON from the token endpoint,
    Entra's error page from the sign-in form)."""
    crowded = urlencode({f"f{i}": "v" for i in range(201)})
    front = client.post(FRONT_SAMPLES[4], base_url=BASE, data=crowded, content_type=FORM)
    assert front.status_code == 400 and front.get_json()["error_codes"] == [9002313]
    flask = client.post(f"/{TENANT}/login", base_url=BASE, data=crowded, content_type=FORM)
    assert flask.status_code == 200 and "9002313" in flask.get_data(as_text=True)
    # Entra reads urlencoded forms only: a JSON body's fields are not parameters
    token = client.post(
        FRONT_SAMPLES[4],
        base_url=BASE,
        json={"client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "client_credentials"},
    )
    assert token.status_code == 400 and token.get_json()["error_codes"] == [900144]


@pytest.mark.parametrize("path", [FRONT_SAMPLES[4], "/v1.0/me"])
def test_preflight_alike_on_both_sides(client, path):
    answer = client.open(
        path,
        method="OPTIONS",
        base_url=BASE,
        headers={
            "Origin": "https://spa.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, client-request-id",
        },
    )
    assert answer.status_code == 200 and answer.get_data() == b""
    assert "OPTIONS" in answer.headers["Allow"] and "POST" in answer.headers["Allow"]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert answer.headers["Access-Control-Allow-Headers"] == "content-type, client-request-id"
    assert answer.headers["Access-Control-Max-Age"] == "86400"
