"""WSGI entry point for any WSGI server: ``gunicorn client_app.wsgi:app``."""

import os

from client_app import Settings, create_app

app = create_app(Settings.from_env(os.environ))
