"""What the mock knows: tenants, app registrations and test users, as frozen dataclasses.

`DEFAULT_CONFIG` is what `mock-entra serve` uses when no `--config` is given. A config file
(TOML or JSON, same schema; see `examples/mock-entra.toml`) replaces it as a whole.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"

# Delegated Graph permissions the mock knows; a scope outside this set is AADSTS70011.
GRAPH_DELEGATED_SCOPES = frozenset(
    {
        "User.Read",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite",
        "Directory.Read.All",
        "Mail.Read",
        "Mail.Send",
        "Calendars.Read",
        "Files.Read",
        "Group.Read.All",
        "GroupMember.Read.All",
        "People.Read",
    }
)
GRAPH_APPLICATION_PERMISSIONS = frozenset(
    {"User.Read.All", "Directory.Read.All", "Group.Read.All", "Mail.Read", "Files.Read.All"}
)


class ConfigError(ValueError):
    """A config file or value that the mock cannot use; the message names the field."""


@dataclass(frozen=True, kw_only=True)
class TestUser:
    """A work account that can sign in (UPN + password) and that Graph /me describes."""

    __test__ = False  # not a pytest test class

    username: str  # the UPN, e.g. adele@contoso.onmicrosoft.com
    password: str
    display_name: str
    object_id: str  # `oid` in tokens, `id` in Graph
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    mail: str | None = None
    mobile_phone: str | None = None
    office_location: str | None = None
    preferred_language: str | None = None
    business_phones: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # group object ids, emitted as `groups` when the app asks
    roles: tuple[str, ...] = ()  # app role values assigned to the user, emitted as `roles`


@dataclass(frozen=True, kw_only=True)
class AppRegistration:
    """An app registration (and its service principal) in a tenant."""

    client_id: str
    display_name: str
    client_secrets: tuple[str, ...] = ()  # empty: a public client (no secret accepted)
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    app_id_uri: str | None = None  # e.g. api://<client_id>: makes the app an API resource
    exposed_scopes: tuple[str, ...] = ()  # delegated scopes the API exposes, e.g. "Forecast.Read"
    app_roles: tuple[str, ...] = ()  # role values the API defines
    # Application permissions granted to this app (client credentials), per resource:
    # {"https://graph.microsoft.com": ["User.Read.All"], "api://other": ["Tasks.All"]}
    application_permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    require_consent: bool = True  # first use by a user shows the consent page
    service_principal_id: str = ""  # `oid` of app-only tokens; derived when empty
    group_membership_claims: bool = False  # emit `groups` in ID tokens

    @property
    def is_confidential(self) -> bool:
        return bool(self.client_secrets)

    @functools.cached_property  # read for every app-only token
    def sp_object_id(self) -> str:
        return self.service_principal_id or str(uuid.uuid5(uuid.NAMESPACE_URL, self.client_id))


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """A directory: its GUID, verified domains, users and app registrations."""

    tenant_id: str
    display_name: str
    domains: tuple[str, ...] = ()
    region_scope: str = "WW"
    users: tuple[TestUser, ...] = ()
    apps: tuple[AppRegistration, ...] = ()

    def user_by_username(self, username: str) -> TestUser | None:
        wanted = username.strip().lower()
        return next((u for u in self.users if u.username.lower() == wanted), None)

    def user_by_id(self, object_id: str) -> TestUser | None:
        return next((u for u in self.users if u.object_id == object_id), None)

    def app(self, client_id: str) -> AppRegistration | None:
        return next((a for a in self.apps if a.client_id == client_id), None)


@dataclass(frozen=True, kw_only=True)
class MockConfig:
    """Everything the mock serves; build with `dataclasses.replace(DEFAULT_CONFIG, ...)`."""

    tenants: tuple[Tenant, ...]
    code_lifetime: int = 600  # seconds; Entra: "about 10 minutes"
    # None: a random 60-90 minutes per token, as Entra does; an int fixes it.
    access_token_lifetime: int | None = None
    refresh_token_inactivity: int = 90 * 24 * 3600
    signin_page_lifetime: int = 3600  # an unfinished sign-in (the `ctx`) is kept this long

    def __post_init__(self) -> None:
        if not self.tenants:
            raise ConfigError("tenants: at least one tenant is required")
        ids = [t.tenant_id for t in self.tenants]
        if len(set(ids)) != len(ids):
            raise ConfigError("tenants: duplicate tenant_id")

    @property
    def default_tenant(self) -> Tenant:
        return self.tenants[0]

    def tenant(self, segment: str) -> Tenant | None:
        """A tenant by GUID or verified domain (case-insensitive)."""
        wanted = segment.lower()
        for tenant in self.tenants:
            if tenant.tenant_id.lower() == wanted or wanted in (d.lower() for d in tenant.domains):
                return tenant
        return None

    def find_app(self, client_id: str) -> tuple[Tenant, AppRegistration] | None:
        for tenant in self.tenants:
            app = tenant.app(client_id)
            if app is not None:
                return tenant, app
        return None

    def resource_app(self, identifier: str) -> tuple[Tenant, AppRegistration] | None:
        """An API app by its app id URI or client id (the `aud` it gets)."""
        for tenant in self.tenants:
            for app in tenant.apps:
                if identifier in (app.app_id_uri, app.client_id, f"api://{app.client_id}"):
                    return tenant, app
        return None


DEFAULT_TENANT_ID = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
DEFAULT_CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
DEFAULT_CLIENT_SECRET = "entra-lab~local-demo-secret"
DEFAULT_REDIRECT_URI = "http://localhost:5000/getAToken"
DEFAULT_API_CLIENT_ID = "c2a4b1f6-5b7e-4c0e-9d55-3f1f2a9e7b10"
DEFAULT_API_URI = "api://entra-lab-api"

DEFAULT_CONFIG = MockConfig(
    tenants=(
        Tenant(
            tenant_id=DEFAULT_TENANT_ID,
            display_name="Contoso",
            domains=("contoso.onmicrosoft.com",),
            users=(
                TestUser(
                    username="adele@contoso.onmicrosoft.com",
                    password="Passw0rd!1",
                    display_name="Adele Vance",
                    object_id="87d349ed-44d7-43e1-9a83-5f2406dee5bd",
                    given_name="Adele",
                    surname="Vance",
                    job_title="Retail Manager",
                    mail="adele@contoso.onmicrosoft.com",
                    mobile_phone="+1 425 555 0109",
                    office_location="18/2111",
                    preferred_language="en-US",
                    business_phones=("+1 425 555 0109",),
                ),
                TestUser(
                    username="megan@contoso.onmicrosoft.com",
                    password="Passw0rd!2",
                    display_name="Megan Bowen",
                    object_id="48d31887-5fad-4d73-a9f5-3c356e68a038",
                    given_name="Megan",
                    surname="Bowen",
                    job_title="Marketing Manager",
                    mail="megan@contoso.onmicrosoft.com",
                    office_location="12/1110",
                    preferred_language="en-US",
                ),
            ),
            apps=(
                AppRegistration(
                    client_id=DEFAULT_CLIENT_ID,
                    display_name="entra-lab sample app",
                    client_secrets=(DEFAULT_CLIENT_SECRET,),
                    redirect_uris=(DEFAULT_REDIRECT_URI,),
                    post_logout_redirect_uris=("http://localhost:5000/",),
                    application_permissions={
                        GRAPH_RESOURCE: ("User.Read.All",),
                        DEFAULT_API_URI: ("Forecast.Read.All",),
                    },
                ),
                AppRegistration(
                    client_id=DEFAULT_API_CLIENT_ID,
                    display_name="entra-lab sample API",
                    app_id_uri=DEFAULT_API_URI,
                    exposed_scopes=("Forecast.Read",),
                    app_roles=("Forecast.Read.All",),
                ),
            ),
        ),
    ),
)


def with_redirect_uris(
    config: MockConfig,
    redirect_uris: Iterable[str],
    post_logout_redirect_uris: Iterable[str] = (),
    *,
    client_id: str | None = None,
) -> MockConfig:
    """A copy of `config` where one app (default: the first) also accepts these URIs."""
    tenant = config.default_tenant
    target = client_id or tenant.apps[0].client_id
    found = config.find_app(target)
    if found is None:
        raise ConfigError(f"no app with client_id {target}")
    owner, app = found
    new_app = dataclasses.replace(
        app,
        redirect_uris=tuple(dict.fromkeys((*app.redirect_uris, *redirect_uris))),
        post_logout_redirect_uris=tuple(
            dict.fromkeys((*app.post_logout_redirect_uris, *post_logout_redirect_uris))
        ),
    )
    new_owner = dataclasses.replace(
        owner, apps=tuple(new_app if a is app else a for a in owner.apps)
    )
    return dataclasses.replace(
        config, tenants=tuple(new_owner if t is owner else t for t in config.tenants)
    )


# --- file format -------------------------------------------------------------------------------

_TOP_KEYS = {f.name for f in dataclasses.fields(MockConfig)}


def _build(cls: type, raw: Mapping[str, Any], where: str) -> Any:
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(names)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            value = tuple(value)
        if key == "application_permissions":
            value = {str(k): tuple(v) for k, v in dict(value).items()}
        values[key] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def config_from_dict(raw: Mapping[str, Any]) -> MockConfig:
    """Build a MockConfig from the file schema (the shape `config_to_dict` writes)."""
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown top-level field(s) {sorted(unknown)}")
    tenants = []
    for i, t in enumerate(raw.get("tenants") or ()):
        where = f"tenants[{i}]"
        t = dict(t)
        users = tuple(
            _build(TestUser, u, f"{where}.users[{j}]") for j, u in enumerate(t.pop("users", ()))
        )
        apps = tuple(
            _build(AppRegistration, a, f"{where}.apps[{j}]")
            for j, a in enumerate(t.pop("apps", ()))
        )
        tenants.append(_build(Tenant, {**t, "users": users, "apps": apps}, where))
    rest = {k: v for k, v in raw.items() if k != "tenants"}
    return MockConfig(tenants=tuple(tenants), **rest)


def config_to_dict(config: MockConfig) -> dict[str, Any]:
    """The JSON-able form of a config (the file schema)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def load_config(path: str | Path) -> MockConfig:
    """Read a TOML or JSON config file."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else _toml(text.decode())
    except ValueError as exc:  # TOMLDecodeError is a ValueError
        raise ConfigError(f"{path}: {exc}") from None
    return config_from_dict(raw)


def _toml(text: str) -> Any:
    import tomllib  # only a TOML config pays for it

    return tomllib.loads(text)
