"""The mock's web layer: `wsgi.create_app` composes the Flask-free `front` (discovery, JWKS,
token) before the Flask app (`app` and the views, the only modules that import Flask)."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy: importing `mock_entra.web.front` or `wire` loads no more than they need.
    if name == "create_app":
        from mock_entra.web.wsgi import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
