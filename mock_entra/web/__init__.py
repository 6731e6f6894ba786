"""The mock's web layer: the Flask app (`app`, the only modules that import Flask) and the
Flask-free `front` that `mock-entra serve` puts before it."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy, so that `front` and `wire` load without Flask.
    if name == "create_app":
        from mock_entra.web.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
