"""Which tenant a path's first segment names: a GUID, a verified domain, or an alias."""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS90002
from mock_entra.core.config.model import MockConfig, Tenant
from mock_entra.core.errors import EntraError

ALIASES = ("common", "organizations", "consumers")


def tenant_of(config: MockConfig, segment: str) -> Tenant | None:
    """The tenant a path segment names; None for an alias; AADSTS90002 when unknown."""
    if segment.lower() in ALIASES:
        return None
    tenant = config.tenant(segment)
    if tenant is None:
        raise EntraError(AADSTS90002, tenant=segment[:100])
    return tenant
