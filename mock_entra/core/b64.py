"""base64url without padding, as JOSE uses it (RFC 7515 §2)."""

from __future__ import annotations

import base64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
