"""The one HTTP client the app uses: given to MSAL (`http_client=`) and used for JWKS and Graph.

Why a subclass: `requests` lets the `REQUESTS_CA_BUNDLE` environment variable override a
Session's `verify` *attribute* (`Session.merge_environment_settings`), so setting
`session.verify = path` is silently ignored on a machine that sets that variable. A `verify`
passed *per request* wins, so `request()` fills it in. It also fills in a timeout, which
requests has no session-wide setting for and MSAL does not pass with a custom client.
"""

from __future__ import annotations

import threading
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
        self._local = threading.local()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """`requests.Session.request` with `verify=<CA_BUNDLE>` and a timeout unless given."""
        if self.ca_bundle is not None:
            kwargs.setdefault("verify", self.ca_bundle)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == 429 or response.status_code >= 500:
            self._local.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        return response

    def take_retry_after(self) -> int | None:
        """The `Retry-After` of this thread's last 429/5xx answer (then forgotten): MSAL
        returns the error body of a throttled token request but not its headers."""
        value = getattr(self._local, "retry_after", None)
        self._local.retry_after = None
        return value


MAX_RETRY_AFTER = 3600


def retry_after_seconds(value: str | None) -> int | None:
    """`Retry-After` as whole seconds (Entra and Graph send integers), capped; else None."""
    if value is None or not value.strip().isdigit():
        return None
    return min(int(value.strip()), MAX_RETRY_AFTER)


def build_http_session(ca_bundle: str | None, timeout: float) -> AppHttpSession:
    """The session for one app instance (thread-safe enough for concurrent GET/POST)."""
    return AppHttpSession(ca_bundle=ca_bundle, timeout=timeout)
