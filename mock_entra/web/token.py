"""POST /{tenant}/oauth2/v2.0/token: hands a plain `TokenRequest` to the grants."""

from __future__ import annotations

from flask import Response, request

from mock_entra.core.grants import TokenRequest, token
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response
from mock_entra.web.tenant import bp, current_tenant, tenant_segment


@bp.route("/oauth2/v2.0/token", methods=["POST"])
def token_endpoint() -> Response:
    req = TokenRequest(
        tenant=current_tenant(),
        tenant_segment=tenant_segment(),
        form=request.form.to_dict(flat=False),
        authorization=request.headers.get("Authorization"),
        base_url=base_url(),
    )
    return json_response(token(runtime(), req), no_store=True)
