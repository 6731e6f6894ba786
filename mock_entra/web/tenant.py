"""The identity blueprint: every Entra path starts with a tenant, resolved here once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from mock_entra.core.config import Tenant
from mock_entra.core.config.tenants import tenant_of
from mock_entra.web.context import runtime

bp = Blueprint("identity", __name__, url_prefix="/<tenant>")


@bp.url_value_preprocessor
def resolve_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
    segment = (values or {}).pop("tenant", "")
    g.tenant_segment = segment
    g.tenant = tenant_of(runtime().config, segment)


def current_tenant() -> Tenant | None:
    """The tenant of the path; None for common / organizations / consumers."""
    return g.tenant


def tenant_segment() -> str:
    return g.tenant_segment
