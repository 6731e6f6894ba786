"""The device code grant: a device polls with its `device_code` until the user signed in on
another device (RFC 8628 §3.4; the device authorization itself is `signin.device_code`)."""

from __future__ import annotations

import dataclasses

from mock_entra.core.forms import required
from mock_entra.core.grants.client_auth import Client
from mock_entra.core.grants.request import TokenRequest, check_platform, signin_of
from mock_entra.core.runtime import Runtime
from mock_entra.core.signin import device_code as device_authorization


def device_code_grant(rt: Runtime, req: TokenRequest, p: dict[str, str], c: Client) -> dict:
    """A poll of the device authorization grant (`device_code`)."""
    code = required(p, "device_code")
    device_authorization.require_client(c.app, c.authenticated)
    check_platform(req, c, "public")  # a device polls; never cross-origin
    record = device_authorization.poll(rt, c.app.client_id, code)
    assert record.account is not None and record.sid is not None  # approved
    return req.user_tokens(
        rt,
        p,
        dataclasses.replace(signin_of(rt.config, c, record.account, record.sid), flow="device"),
        record.scopes,
        platform="public",
        client_acr=c.acr,
    )
