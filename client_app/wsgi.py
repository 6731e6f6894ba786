"""WSGI entry point for any WSGI server:
``gunicorn -c python:client_app.gunicorn_conf client_app.wsgi:app``."""

import os

from client_app import Settings, create_app
from client_app.identity import quiet_query_mode_advice
from client_app.logs import configure_logging

settings = Settings.from_env(os.environ)
configure_logging(settings.log_level)  # as `client-app` does: one line per record
quiet_query_mode_advice(settings)
app = create_app(settings)
