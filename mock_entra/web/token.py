"""POST /{tenant}/oauth2/v2.0/token: hands a plain `TokenRequest` to the grants.

`exchange` is the endpoint without Flask; the route below and the fast path
(`fastpath.TokenFastPath`, used when the request log is off) both call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, request

from mock_entra.core.grants import TokenRequest, token
from mock_entra.core.runtime import Runtime
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response
from mock_entra.web.tenant import bp, tenant_of, tenant_segment


def exchange(
    rt: Runtime,
    segment: str,
    form: Mapping[str, list[str]],
    *,
    authorization: str | None,
    base_url: str,
) -> dict[str, Any]:
    """The token response body, or `EntraError` (unknown tenant, or the grant's own)."""
    req = TokenRequest(
        tenant=tenant_of(rt.config, segment),
        tenant_segment=segment,
        form=form,
        authorization=authorization,
        base_url=base_url,
    )
    return token(rt, req)


@bp.route("/oauth2/v2.0/token", methods=["POST"])
def token_endpoint() -> Response:
    body = exchange(
        runtime(),
        tenant_segment(),
        request.form.to_dict(flat=False),
        authorization=request.headers.get("Authorization"),
        base_url=base_url(),
    )
    return json_response(body, no_store=True)
