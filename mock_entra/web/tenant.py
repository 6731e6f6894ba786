"""The identity blueprint: every Entra path starts with a tenant, resolved here once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from mock_entra.core.aadsts import AADSTS90002, EntraError
from mock_entra.core.config import MockConfig, Tenant
from mock_entra.web.context import runtime

ALIASES = ("common", "organizations", "consumers")

bp = Blueprint("identity", __name__, url_prefix="/<tenant>")


@bp.url_value_preprocessor
def resolve_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
    segment = (values or {}).pop("tenant", "")
    g.tenant_segment = segment
    g.tenant = tenant_of(runtime().config, segment)


def tenant_of(config: MockConfig, segment: str) -> Tenant | None:
    """The tenant a path segment names; None for an alias; AADSTS90002 when unknown."""
    if segment.lower() in ALIASES:
        return None
    tenant = config.tenant(segment)
    if tenant is None:
        raise EntraError(AADSTS90002, tenant=segment[:100])
    return tenant


def current_tenant() -> Tenant | None:
    """The tenant of the path; None for common / organizations / consumers."""
    return g.tenant


def tenant_segment() -> str:
    return g.tenant_segment
