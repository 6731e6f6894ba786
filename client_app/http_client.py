"""The one HTTP client the app uses: given to MSAL (`http_client=`) and used for JWKS and Graph.

Why a subclass: `requests` lets the `REQUESTS_CA_BUNDLE` environment variable override a
Session's `verify` *attribute* (`Session.merge_environment_settings`), so setting
`session.verify = path` is silently ignored on a machine that sets that variable. A `verify`
passed *per request* wins, so `request()` fills it in. It also fills in a timeout, which
requests has no session-wide setting for and MSAL does not pass with a custom client.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class AppHttpSession(requests.Session):
    """A `requests.Session` whose every call gets our CA bundle and a timeout by default."""

    def __init__(self, *, ca_bundle: str | None, timeout: float) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        # One retry on connection errors, as MSAL's default client does.
        adapter = HTTPAdapter(max_retries=1)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """`requests.Session.request` with `verify=<CA_BUNDLE>` and a timeout unless given."""
        if self.ca_bundle is not None:
            kwargs.setdefault("verify", self.ca_bundle)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def build_http_session(ca_bundle: str | None, timeout: float) -> AppHttpSession:
    """The session for one app instance (thread-safe enough for concurrent GET/POST)."""
    return AppHttpSession(ca_bundle=ca_bundle, timeout=timeout)
