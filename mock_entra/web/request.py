"""`EntraRequest`: Flask's request with its form read as `front.Front` reads it
(`http_rules`: urlencoded only, the same body limit and field cap)."""

from __future__ import annotations

import io

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from mock_entra.web import http_rules


class EntraRequest(Request):
    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        fields: dict[str, list[str]] = {}
        if self.method in ("POST", "PUT", "PATCH") and http_rules.is_form(self.environ):
            body = http_rules.read_body(self.environ)
            if body is None:
                raise RequestEntityTooLarge
            self.__dict__["stream"] = io.BytesIO(b"")  # read, as werkzeug leaves it
            fields = http_rules.form(self.environ, body)
        self.__dict__["form"] = ImmutableMultiDict(
            [(name, value) for name, values in fields.items() for value in values]
        )
        self.__dict__["files"] = ImmutableMultiDict()
