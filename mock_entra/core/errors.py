"""The two error types of the protocol core: `EntraError` (an AADSTS catalogue entry with
its arguments, and where to send it back) and `GraphError` (Microsoft Graph's error).

`EntraError` is rendered in one place (`mock_entra.web.errors`) as Entra's token-endpoint
JSON, a redirect back to the client, or Entra's error page; `GraphError` as Graph's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_entra.core.aadsts import Aadsts


class EntraError(Exception):
    """A protocol error, carrying its catalogue entry and, when they are known and trusted,
    where and how to send it back to the client."""

    def __init__(
        self,
        entry: Aadsts,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
        response_mode: str = "query",
        error_subcode: str | None = None,
        **args: Any,
    ) -> None:
        self.entry = entry
        self.args_ = args
        self.redirect_uri = redirect_uri
        self.state = state
        self.response_mode = response_mode
        self.error_subcode = error_subcode
        super().__init__(entry.describe(**args))

    @property
    def description(self) -> str:
        return self.entry.describe(**self.args_)

    @property
    def redirectable(self) -> bool:
        return self.redirect_uri is not None and not self.entry.page_only


@dataclass
class GraphError(Exception):
    """A Microsoft Graph error: `{"error": {"code", "message", "innerError"}}`."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")
