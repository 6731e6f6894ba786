"""Readiness probes: does the mock serve discovery over TLS, does the app answer /healthz?"""

from __future__ import annotations

import requests

PROBE_TIMEOUT = 1.0


def new_session() -> requests.Session:
    """A session that ignores proxy variables: a loopback probe must never go through a proxy."""
    session = requests.Session()
    session.trust_env = False
    return session


def answers_200(session: requests.Session, url: str, *, verify: str | bool = True) -> bool:
    """Whether `url` answers 200 now; `verify` is passed per request because requests lets
    REQUESTS_CA_BUNDLE override a session-level `verify`."""
    try:
        response = session.get(url, verify=verify, timeout=PROBE_TIMEOUT, allow_redirects=False)
    except requests.RequestException:
        return False
    return response.status_code == 200
