"""The mock's Flask layer: the only package of `mock_entra` that imports Flask."""

from mock_entra.web.app import create_app

__all__ = ["create_app"]
