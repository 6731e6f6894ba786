"""POST /{tenant}/oauth2/v2.0/token through Flask (the request log on); the same
`grants.exchange` answers it in `front.Front` when the log is off."""

from __future__ import annotations

from flask import Response, request

from mock_entra.core.grants import exchange
from mock_entra.web.context import base_url, runtime
from mock_entra.web.respond import json_response
from mock_entra.web.tenant import bp, tenant_segment


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
