"""PKCE (RFC 7636) as Entra enforces it: S256 and plain, 43-128 characters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from mock_entra.core.aadsts import AADSTS501481, AADSTS501491
from mock_entra.core.errors import EntraError

_UNRESERVED = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
METHODS = ("S256", "plain")


def check_challenge(challenge: str | None, method: str | None) -> tuple[str | None, str | None]:
    """Validate the authorize side; returns (challenge, method) to bind to the code."""
    if not challenge:
        return None, None
    method = method or "plain"  # RFC 7636 §4.3: the default method is plain
    if method not in METHODS or not _UNRESERVED.match(challenge):
        raise EntraError(AADSTS501491)
    return challenge, method


def verify(verifier: str | None, challenge: str | None, method: str | None) -> None:
    """Raise AADSTS501481 unless the verifier matches the challenge bound to the code.

    A verifier sent for a code that had no challenge is refused too (RFC 9700 §4.8: PKCE
    downgrade); Entra's behaviour there is unverified, the mock chooses the strict side.
    """
    if challenge is None:
        if verifier:
            raise EntraError(AADSTS501481)
        return
    if not verifier or not _UNRESERVED.match(verifier):
        raise EntraError(AADSTS501481)
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    if not hmac.compare_digest(computed, challenge):
        raise EntraError(AADSTS501481)
