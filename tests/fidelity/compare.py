"""How an answer of the mock is held to the recorded one: the status, the JSON field set and
each field's type and format (GUID, JWT, URL, epoch, AADSTS number), the values clients branch
on (`error`, `error_codes`, `token_type`, Graph's error `code`, `ver`, `appidacr`...), the
claims and header of every JWT, and the headers clients read. Values that are per tenant or
random (and those the sources sanitised) compare by format only. Each difference is one line
of text, as `known_differences.toml` quotes it."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
AADSTS = re.compile(r"^AADSTS(\d+):")
JWS = re.compile(r"^[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]*$")
# Fields whose value is the same on every tenant: clients branch on them.
EXACT = frozenset(
    {
        "error",
        "error_codes",
        "token_type",
        "code",
        "ver",
        "typ",
        "alg",
        "kty",
        "use",
        "appidacr",
        "azpacr",
        "idtyp",
        "token_endpoint_auth_methods_supported",
        "response_modes_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "scopes_supported",
        "response_types_supported",
        "request_uri_parameter_supported",
        "http_logout_supported",
        "frontchannel_logout_supported",
        "cloud_instance_name",
        "msgraph_host",
        "cloud_graph_host_name",
        "api-version",
        "NameSpaceType",
        "account_type",
        "@odata.type",
    }
)
# Space-separated lists and messages: any string.
FREE_TEXT = frozenset({"scope", "message", "error_description_text"})
# What the sources put in place of a tenant id when they sanitised a recording.
SANITISED_TENANTS = frozenset(
    {"tenant", "{tenant}", "{tenantid}", "tenant_id", "TENANT_ID", "{tid}"}
)
# The personal Microsoft accounts' tenant: the same GUID everywhere (Learn, "ID token claims
# reference": `tid`), so an issuer naming it is compared by value, not as "some tenant".
PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
# Integers that are instants (seconds since the epoch).
EPOCHS = frozenset({"exp", "iat", "nbf", "auth_time", "xms_tcdt", "pwd_exp"})


def _b64json(segment: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return None
    return value if isinstance(value, dict) else None


def jwt_parts(value: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A compact JWS's header and claims, unverified (None: not a JWT)."""
    if not JWS.match(value):
        return None
    head, body, _ = value.replace("=", "").split(".")
    header, claims = _b64json(head), _b64json(body)
    if header is None or claims is None or "alg" not in header:
        return None
    return header, claims


def string_format(value: str) -> str:
    """The format a string has: what a per-tenant or random value is compared by."""
    if GUID.match(value):
        return "GUID"
    if match := AADSTS.match(value):
        return f"AADSTS{match.group(1)}"
    if jwt_parts(value) is not None:
        return "JWT"
    if value.startswith(("https://", "http://")):
        return "URL"
    return "string"


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _issuer_shape(value: str) -> str:
    """An issuer with its tenant id and host left out: `https://{host}/{tenant}/v2.0`; the
    personal accounts' tenant id stays (it is no per-tenant value)."""
    parts = urlsplit(value)
    segments = [
        "{tenant}"
        if (GUID.match(s) and s.lower() != PERSONAL_TENANT_ID) or s in SANITISED_TENANTS
        else s
        for s in parts.path.split("/")
    ]
    return "/".join(segments)


def diff(
    expected: Any, actual: Any, where: str, sanitised: frozenset[str] = frozenset()
) -> list[str]:
    """The differences between a recorded value and the mock's, as `where: ...` lines. The
    `sanitised` paths are values the source replaced with stand-ins: their type is compared."""
    key = where.rsplit(".", 1)[-1]
    if where in sanitised:
        return (
            []
            if _type(expected) == _type(actual)
            else [f"{where}: {_type(expected)} recorded, {_type(actual)} from the mock"]
        )
    numbers = {_type(expected), _type(actual)} <= {"int", "number"}
    # null is a property without a value: whether one has a value is the data's, not the shape's
    nullable = expected is None or actual is None
    if _type(expected) != _type(actual) and not (numbers or nullable) and key not in EPOCHS:
        return [f"{where}: {_type(expected)} recorded, {_type(actual)} from the mock"]
    if isinstance(expected, dict):
        found = []
        for name in sorted(set(expected) - set(actual)):
            found.append(f"{where}.{name}: missing from the mock")
        for name in sorted(set(actual) - set(expected)):
            found.append(f"{where}.{name}: not in the recording")
        for name in sorted(set(expected) & set(actual)):
            found += diff(expected[name], actual[name], f"{where}.{name}", sanitised)
        return found
    if isinstance(expected, list):
        if key in EXACT and expected != actual:
            return [f"{where}: {expected} recorded, {actual} from the mock"]
        if expected and not actual:
            return [f"{where}: empty from the mock"]
        if expected and actual:
            return diff(expected[0], actual[0], f"{where}[0]", sanitised)
        return []
    if key in EPOCHS:
        return [] if _epoch(expected) == _epoch(actual) else [f"{where}: not an epoch instant"]
    if isinstance(expected, str):
        return _diff_string(expected, actual, where, key)
    if key in EXACT and expected != actual:
        return [f"{where}: {expected!r} recorded, {actual!r} from the mock"]
    return []


def _epoch(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**10


def _diff_string(expected: str, actual: str, where: str, key: str) -> list[str]:
    if key in EXACT:
        return (
            []
            if expected == actual
            else [f"{where}: {expected!r} recorded, {actual!r} from the mock"]
        )
    if key in FREE_TEXT:
        return []
    urls = {"iss", "issuer", "jwks_uri", "idp"}
    if (key in urls or key.endswith("_endpoint")) and string_format(expected) == "URL":
        shape, got = _issuer_shape(expected), _issuer_shape(actual)
        return [] if shape == got else [f"{where}: path {shape} recorded, {got} from the mock"]
    wanted = string_format(expected)
    if wanted == "string":  # free text, or a value the source sanitised: any string
        return []
    got = string_format(actual)
    if wanted != got:
        return [f"{where}: {wanted} recorded, {got} from the mock"]
    if wanted == "JWT":
        return diff_jwt(expected, actual, where)
    return []


def diff_jwt(expected: str, actual: str, where: str) -> list[str]:
    recorded, mocked = jwt_parts(expected), jwt_parts(actual)
    assert recorded is not None and mocked is not None
    found = diff(_header(recorded[0]), _header(mocked[0]), f"{where}<header>")
    return found + diff(recorded[1], mocked[1], f"{where}<claims>")


def _header(header: dict[str, Any]) -> dict[str, Any]:
    # `x5t` and `kid` are the same thumbprint on Entra; a recording may carry either or both.
    return {k: v for k, v in header.items() if k != "x5t"}


def diff_headers(
    expected: dict[str, str], actual: dict[str, str], *, complete: bool = False
) -> list[str]:
    """The headers clients read: present, with the same media type, cache directives, redirect
    parameters and challenge parameters. When the recording kept every header the service sent
    (`complete`: a recorder's capture), a CORS header it lacks must be absent from the mock's
    answer too: a browser reads an answer or not by them."""
    got = {k.lower(): v for k, v in actual.items()}
    found = []
    if complete:
        kept = {k.lower() for k in expected}
        found += [
            f"header {name}: not in the recording"
            for name in sorted(got)
            if name.startswith("access-control-") and "access-control-allow-origin" not in kept
        ]
    for name, value in expected.items():
        name = name.lower()
        if name not in got:
            found.append(f"header {name}: missing from the mock")
            continue
        mine = got[name]
        if name == "content-type":
            a, b = value.split(";")[0].strip(), mine.split(";")[0].strip()
            if a != b:
                found.append(f"header content-type: {a} recorded, {b} from the mock")
        elif name == "cache-control":
            a, b = _directives(value), _directives(mine)
            if a != b:
                found.append(
                    f"header cache-control: {sorted(a)} recorded, {sorted(b)} from the mock"
                )
        elif name == "location":
            found += diff(_location(value), _location(mine), "location")
        elif name == "www-authenticate":
            a, b = _challenge(value), _challenge(mine)
            if a != b:
                found.append(f"header www-authenticate: {a} recorded, {b} from the mock")
    return found


def _directives(value: str) -> set[str]:
    return {d.split("=")[0].strip().lower() for d in value.split(",") if d.strip()}


def _location(value: str) -> dict[str, Any]:
    """A redirect's parameters: `error` by value, `error_description` by its AADSTS number,
    the others (code, state, session_state...) by presence."""
    parts = urlsplit(value)
    params = dict(parse_qsl(parts.query)) or dict(parse_qsl(parts.fragment))
    return {
        k: v if k == "error" else (string_format(v) if k == "error_description" else "")
        for k, v in params.items()
    }


def _challenge(value: str) -> tuple[str, list[str]]:
    scheme, _, rest = value.partition(" ")
    names = sorted({m.group(1) for m in re.finditer(r'([A-Za-z_]+)="', rest)})
    return scheme, names
