"""gunicorn's documented "custom application": `client-app` serves an already-built app with
the options it chose (`client_app.gunicorn_conf` and its command line).

A module of its own so that `client_app.cli` imports gunicorn (the `entra-lab[app]` extra) only
once it has checked that the extra is installed.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class GunicornServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """Our options, our already-built app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app
