"""Request parameters as Entra reads them: one value each (a repeated one is an invalid
request), and the error for a required one that is missing or empty (AADSTS900144)."""

from __future__ import annotations

from collections.abc import Mapping

from mock_entra.core.aadsts import AADSTS900144, AADSTS9002313
from mock_entra.core.errors import EntraError


def missing(name: str) -> EntraError:
    return EntraError(AADSTS900144, name=name)


def single_values(form: Mapping[str, list[str]], max_length: int) -> dict[str, str]:
    """Each parameter's one value, empty ones left out; a repeated parameter or a value over
    `max_length` characters is AADSTS9002313 (an invalid request)."""
    params: dict[str, str] = {}
    for name, values in form.items():
        if len(values) > 1 or any(len(v) > max_length for v in values):
            raise EntraError(AADSTS9002313)
        if values and values[0] != "":
            params[name] = values[0]
    return params


def required(params: Mapping[str, str], name: str) -> str:
    """The value of a request parameter that must be there and not empty (else AADSTS900144)."""
    value = params.get(name)
    if not value:
        raise missing(name)
    return value
