"""mock_entra: a local Microsoft Entra ID v2.0 mock with a fake Microsoft Graph.

Public API: `MockEntra` (a running mock), `create_app` (the WSGI app), the config
dataclasses and `DEFAULT_CONFIG`, and `load_config`.
"""

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    AppRegistration,
    MockConfig,
    Tenant,
    TestUser,
    load_config,
    with_redirect_uris,
)


def __getattr__(name: str):
    # Lazy: `mock-entra info` and the core should not pay for granian and requests.
    if name == "MockEntra":
        from mock_entra.server import MockEntra

        return MockEntra
    raise AttributeError(name)


def create_app(*args, **kwargs):
    """Build the mock as a WSGI app, as every mode runs it (`mock_entra.web.wsgi.create_app`)."""
    from mock_entra.web import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = [
    "DEFAULT_CONFIG",
    "AppRegistration",
    "MockConfig",
    "MockEntra",
    "Tenant",
    "TestUser",
    "create_app",
    "load_config",
    "with_redirect_uris",
]
