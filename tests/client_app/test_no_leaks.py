"""No token, code or secret ever appears in a rendered page or in the logs."""

from __future__ import annotations

import logging

import pytest
from client_app_fakes import FakeIdP, sign_in, sign_out, start_login
from flask.testing import FlaskClient


def test_no_token_or_secret_in_any_page_or_log(
    client: FlaskClient, idp: FakeIdP, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # everything operators would see by default
    caplog.set_level(logging.DEBUG, logger="client_app")  # and all of ours
    idp.expires_in = 60  # forces a refresh-token round trip too
    bodies: list[str] = []

    params = idp.authorize(start_login(client))
    bodies.append(client.get("/getAToken", query_string=params).text)
    bodies += [client.get(path).text for path in ("/", "/profile", "/profile", "/healthz")]
    # Failures render pages from IdP/Graph input: they must not echo secrets either.
    idp.graph_status = 401
    idp.graph_body = {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}
    bodies.append(client.get("/profile").text)
    replay = client.get("/getAToken", query_string=params)
    bodies.append(replay.text)
    bodies.append(client.get("/logout").text)  # the confirmation page
    bodies.append(sign_out(client).text)

    secrets = idp.secrets()
    assert len(secrets) >= 8
    logs = caplog.text
    for secret in secrets:
        assert all(secret not in body for body in bodies), "secret rendered in a page"
        assert secret not in logs, "secret written to the log"
    assert "sign-in completed" in logs  # the log is not simply empty


def test_no_session_data_or_token_in_cookies(client: FlaskClient, idp: FakeIdP) -> None:
    sign_in(client, idp)
    cookie = client.get_cookie("entra_lab_session")
    assert cookie is not None
    # Server-side sessions: the cookie is an opaque id, not the data.
    assert len(cookie.value) < 100
    for secret in idp.secrets():
        assert secret not in cookie.value
