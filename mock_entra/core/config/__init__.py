"""What the mock knows: tenants, app registrations and test users, as frozen dataclasses.

`DEFAULT_CONFIG` is what `mock-entra serve` uses when no `--config` is given. A config file
(TOML or JSON, same schema; see `examples/mock-entra.toml` and docs/configuration.md) replaces
it as a whole, or adds to it with `extends = "defaults"`. Files are read and checked by
`config_load` against these dataclasses' type hints: a field added here is validated there.

Field comments say what each field means; "required" marks the fields without a default.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

# Who may sign in to an app (Entra's manifest `signInAudience`): this tenant only, any work
# tenant, any work tenant and personal Microsoft accounts, personal accounts only.
SignInAudience = Literal[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
]
SIGN_IN_AUDIENCES: tuple[str, ...] = get_args(SignInAudience)

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


class ConfigError(ValueError):
    """A config file or value that the mock cannot use; the message names the file (when
    there is one) and the field path. `problems` lists (field path, message) pairs: the
    path relative to the object that raised it, joined onto the file's path by the checker
    (`config_load`), so every line of a file's error reads `file: tenants[0].apps[1].x: ...`."""

    def __init__(self, message: str, problems: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    @classmethod
    def of(cls, problems: Iterable[tuple[str, str]]) -> ConfigError:
        """One error listing every (path, message) problem, a line each."""
        found = tuple(problems)
        return cls("\n".join(f"{p}: {m}" if p else m for p, m in found), found)


# --- rules on single values, checked wherever a config is built ------------------------------
# A rule rides on a field's type (`Annotated[int, Bounds(...)]`, `Guid`): a config file's
# checker (`config_load`) applies it to the value it reads, reporting every problem with its
# path; the dataclasses' `__post_init__` apply it to configs built in Python.


@dataclass(frozen=True)
class Bounds:
    """Inclusive limits of a number field."""

    low: int
    high: int
    unit: str = ""

    def accepts(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (self.low <= value <= self.high)
        )

    def problem(self, value: object) -> str | None:
        """None when `value` is fine; else why not, beyond `describe` ("": nothing to add)."""
        return None if self.accepts(value) else ""

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"a whole number of{unit} from {self.low} to {self.high}"


_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class GuidRule:
    """Entra's ids are GUIDs: tenant ids, object ids (users, groups, service principals) and
    application (client) ids (Learn: "Application and service principal objects")."""

    empty_ok: bool = False  # `service_principal_id`: "" means "derive one"

    def problem(self, value: object) -> str | None:
        if isinstance(value, str) and (_GUID.match(value) or (self.empty_ok and value == "")):
            return None
        return ""

    def describe(self) -> str:
        return f"a GUID, e.g. {DEFAULT_TENANT_ID}"


@dataclass(frozen=True)
class RedirectRule:
    """A redirect URI Entra would let be registered on this platform (`redirects.problem`)."""

    platform: Literal["web", "spa", "public"]

    def problem(self, value: object) -> str | None:
        from mock_entra.core.config import redirects  # Entra's registration rules for redirect URIs

        return redirects.problem(value, self.platform) if isinstance(value, str) else ""

    def describe(self) -> str:
        names = {"web": "web", "spa": "single-page application", "public": "public client"}
        return f"a {names[self.platform]} redirect URI"


@dataclass(frozen=True)
class CertificateRule:
    """A certificate whose key may sign client assertions (`certs.parse_key_credential`)."""

    def problem(self, value: object) -> str | None:
        from mock_entra.core.config.credentials import (
            parse_key_credential,  # cryptography only when used
        )

        if not isinstance(value, str):
            return ""
        try:
            parse_key_credential(value)
        except ValueError as exc:
            return str(exc)
        return None

    def describe(self) -> str:
        return "a PEM certificate"


FieldRule = Bounds | GuidRule | RedirectRule | CertificateRule
Guid = Annotated[str, GuidRule()]


MAX_SECONDS = 10 * 365 * 24 * 3600  # ten years: far beyond any Entra lifetime, and no overflow
Seconds = Annotated[int, Bounds(1, MAX_SECONDS, "seconds")]

# Marks the field that identifies an entry of a list (`tenants`, `users`, `apps`, `groups`): two
# entries may not share it, and `extends = "defaults"` merges an entry into the default one that
# has it.
KEY: Mapping[str, bool] = {"key": True}


def rule_of(hint: Any) -> FieldRule | None:
    """The rule an `Annotated` type carries, if any."""
    return next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, FieldRule)), None)


def _ruled_fields(cls: type) -> list[tuple[str, FieldRule, bool]]:
    """(field, rule, whether the field is a tuple of ruled values) for each ruled field."""
    found = _RULED.get(cls)
    if found is None:
        found = []
        for name, hint in get_type_hints(cls, include_extras=True).items():
            # `Seconds`, `Seconds | None`, `tuple[Guid, ...]`, `tuple[Guid, ...] | None`
            for part in (hint, *get_args(hint)):
                rule = rule_of(part)
                if rule is not None:
                    found.append((name, rule, False))
                    break
                items = get_args(part) if get_origin(part) is tuple else ()
                if items and rule_of(items[0]) is not None:
                    found.append((name, rule_of(items[0]), True))  # type: ignore[arg-type]
                    break
        _RULED[cls] = found
    return found


_RULED: dict[type, list[tuple[str, FieldRule, bool]]] = {}


def _rule_problems(obj: Any) -> list[tuple[str, str]]:
    """Every value of `obj`'s ruled fields that breaks its rule, as (path, message)."""
    found = []
    for name, rule, many in _ruled_fields(type(obj)):
        value = getattr(obj, name)
        for path, item in (
            ((f"{name}[{i}]", v) for i, v in enumerate(value)) if many else ((name, value),)
        ):
            reason = None if item is None else rule.problem(item)
            if reason is not None:
                text = f"expected {rule.describe()}, got {item!r:.80}"
                found.append((path, f"{text}: {reason}" if reason else text))
    return found


@dataclass(frozen=True, kw_only=True)
class TestUser:
    """A work account that can sign in (UPN + password) and that Graph /me describes."""

    __test__ = False  # not a pytest test class

    username: str = field(metadata=KEY)  # required: the UPN, e.g. adele@contoso.onmicrosoft.com
    password: str  # required
    display_name: str  # required: `name` in ID tokens, `displayName` in Graph
    object_id: Guid  # required: `oid` in tokens, `id` in Graph
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    mail: str | None = None
    mobile_phone: str | None = None
    office_location: str | None = None
    preferred_language: str | None = None
    business_phones: tuple[str, ...] = ()
    groups: tuple[Guid, ...] = ()  # group object ids, emitted as `groups` when the app asks
    # App role values assigned to the user. A value belongs to the apps whose `app_roles`
    # define it, and goes into their tokens only (an API's access tokens, an app's own ID
    # tokens), never into another app's (Learn, "Add app roles to your application").
    roles: tuple[str, ...] = ()
    # More of Graph's user properties ($select-able; unset ones are `null` as Graph sends them).
    manager: Guid | None = None  # the object id of another user of the tenant (Graph `/manager`)
    has_photo: bool = True  # False: `/photo/$value` is Graph's 404 ImageNotFound
    account_enabled: bool = True
    user_type: str = "Member"  # or "Guest"
    created_date_time: str | None = None  # ISO 8601, e.g. "2024-01-15T09:30:00Z"
    department: str | None = None
    company_name: str | None = None
    employee_id: str | None = None
    employee_type: str | None = None
    street_address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    usage_location: str | None = None
    fax_number: str | None = None
    mail_nickname: str | None = None  # None: the UPN's local part
    other_mails: tuple[str, ...] = ()
    proxy_addresses: tuple[str, ...] = ()  # e.g. "SMTP:adele@contoso.com"
    im_addresses: tuple[str, ...] = ()
    on_premises_sam_account_name: str | None = None
    on_premises_immutable_id: str | None = None
    on_premises_sync_enabled: bool | None = None
    preferred_data_location: str | None = None  # Multi-Geo, e.g. "EUR": optional claim xms_pdl

    def __post_init__(self) -> None:
        problems = _rule_problems(self)
        if problems:
            raise ConfigError.of(problems)


@dataclass(frozen=True, kw_only=True)
class Group:
    """A directory group: what Graph's `memberOf` lists and `getMemberObjects` returns.

    Users point at groups by id (`TestUser.groups`); a group inside other groups lists
    their ids in `member_of`, which Graph's transitive calls follow."""

    object_id: Guid = field(metadata=KEY)  # required: the group's object id
    display_name: str  # required
    security_enabled: bool = True
    mail_enabled: bool = False
    description: str | None = None
    mail: str | None = None
    member_of: tuple[Guid, ...] = ()  # ids of the groups this group is a direct member of

    def __post_init__(self) -> None:
        problems = _rule_problems(self)
        if problems:
            raise ConfigError.of(problems)


# The manifest's `groupMembershipClaims` (Learn, "Configure group claims for applications"):
# which groups go into the `groups` claim of the app's ID tokens and of its access tokens as an
# API. `true` (this field's old form) is "All", `false` is "None".
GroupMembershipClaims = Literal["None", "SecurityGroup", "All", "ApplicationGroup", "DirectoryRole"]

# Optional claims the mock can add (the manifest's `optionalClaims`; Learn, "Optional claims
# reference"); `tokens.optional_claim` says where each value comes from.
OptionalClaim = Literal[
    "acct",
    "auth_time",
    "ctry",
    "email",
    "family_name",
    "given_name",
    "ipaddr",
    "login_hint",
    "sid",
    "upn",
    "xms_pdl",
    "xms_pl",
    "xms_tpl",
]


@dataclass(frozen=True, kw_only=True)
class OptionalClaims:
    """Optional claims per token type, as the manifest's `optionalClaims` (`idToken`,
    `accessToken`): ID tokens of this app, and access tokens for this app as an API."""

    id_token: tuple[OptionalClaim, ...] = ()
    access_token: tuple[OptionalClaim, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AppRegistration:
    """An app registration (and its service principal) in a tenant.

    Redirect URIs are per platform, as in the portal: the platform of the URI a code was issued
    to decides how it may be redeemed (web: with client authentication; spa: cross-origin, with
    PKCE, no secret; public client: PKCE, no secret)."""

    client_id: Guid = field(metadata=KEY)  # required: the application (client) id
    display_name: str  # required
    client_secrets: tuple[str, ...] = ()  # none and no key_credentials: a public client
    redirect_uris: tuple[Annotated[str, RedirectRule("web")], ...] = ()  # the web platform
    # The single-page application platform (CORS), and mobile and desktop (public client).
    spa_redirect_uris: tuple[Annotated[str, RedirectRule("spa")], ...] = ()
    public_client_redirect_uris: tuple[Annotated[str, RedirectRule("public")], ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    # "Allow public client flows": device code (and ROPC) without client authentication.
    is_fallback_public_client: bool = False
    sign_in_audience: SignInAudience = "AzureADMyOrg"
    # PEM certificates (client assertions are signed with their keys); see `certificates`.
    key_credentials: tuple[Annotated[str, CertificateRule()], ...] = ()
    app_id_uri: str | None = None  # e.g. api://<client_id>: makes the app an API resource
    exposed_scopes: tuple[str, ...] = ()  # delegated scopes the API exposes, e.g. "Forecast.Read"
    app_roles: tuple[str, ...] = ()  # role values the app defines (its tokens carry them)
    # The access token version this API gets (manifest `requestedAccessTokenVersion`):
    # None means 1, Entra's default.
    access_token_accepted_version: Literal[1, 2] | None = None
    # Application permissions granted to this app (client credentials), per resource:
    # {"https://graph.microsoft.com": ["User.Read.All"], "api://other": ["Tasks.All"]}
    application_permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    require_consent: bool = True  # first use by a user shows the consent page
    # `oid` of app-only tokens, a GUID; derived from the client id when empty.
    service_principal_id: Annotated[str, GuidRule(empty_ok=True)] = ""
    # Which groups go into `groups` (ID tokens; access tokens for this app as an API).
    group_membership_claims: bool | GroupMembershipClaims = False
    assigned_groups: tuple[Guid, ...] = ()  # group ids assigned to the app ("ApplicationGroup")
    # Delegated permissions the registration lists ("API permissions"), per resource:
    # {"https://graph.microsoft.com": ["User.Read"], "api://other": ["Tasks.Read"]}. `/.default`
    # asks for these; unset for a resource, Graph's is User.Read (the portal's default) and an
    # API's is every scope it exposes.
    required_resource_access: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # "Grant admin consent for {tenant}": every user has consented to all of
    # `required_resource_access` (and to openid, profile, email, offline_access).
    admin_consent_granted: bool = False
    optional_claims: OptionalClaims = field(default_factory=OptionalClaims)

    def __post_init__(self) -> None:
        # Checked however the config is built (a file reports these with its field path).
        problems = _rule_problems(self)
        if self.sign_in_audience not in SIGN_IN_AUDIENCES:
            expected = f"expected one of {', '.join(SIGN_IN_AUDIENCES)}"
            problems.append(("sign_in_audience", f"{expected}, got {self.sign_in_audience!r:.60}"))
        if self.access_token_accepted_version not in (None, 1, 2) or isinstance(
            self.access_token_accepted_version, bool
        ):
            problems.append(("access_token_accepted_version", "expected 1 or 2, or leave it out"))
        if problems:
            raise ConfigError.of(problems)
        if self.key_credentials:
            self.certificates  # noqa: B018 - parse now: a bad certificate is a config error

    @property
    def is_confidential(self) -> bool:
        return bool(self.client_secrets or self.key_credentials)

    @property
    def group_claims(self) -> str:
        """`group_membership_claims` as the manifest spells it ("None" for false)."""
        value = self.group_membership_claims
        if isinstance(value, bool):
            return "All" if value else "None"
        return value

    @property
    def token_version(self) -> int:
        """The access token version this app gets as a resource (1 unless set to 2)."""
        return self.access_token_accepted_version or 1

    @functools.cached_property
    def certificates(self) -> tuple[Any, ...]:
        """`key_credentials` parsed: `certs.KeyCredential`s (thumbprints, public keys)."""
        from mock_entra.core.config.credentials import (
            parse_key_credential,  # cryptography only when used
        )

        parsed = []
        for i, pem in enumerate(self.key_credentials):
            try:
                parsed.append(parse_key_credential(pem))
            except ValueError as exc:
                raise ConfigError.of([(f"key_credentials[{i}]", str(exc))]) from None
        return tuple(parsed)

    def certificate(self, x5t: str | None = None, x5t_s256: str | None = None) -> Any | None:
        """The registered certificate an assertion names by `x5t` or `x5t#S256`."""
        for cred in self.certificates:
            if (x5t_s256 and cred.x5t_s256 == x5t_s256) or (x5t and cred.x5t == x5t):
                return cred
        return None

    @functools.cached_property  # read for every app-only token
    def sp_object_id(self) -> str:
        return self.service_principal_id or str(uuid.uuid5(uuid.NAMESPACE_URL, self.client_id))


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """A directory: its GUID, verified domains, users and app registrations."""

    tenant_id: Guid = field(metadata=KEY)  # required: the directory (tenant) id
    display_name: str  # required
    domains: tuple[str, ...] = ()  # verified domains: also accepted in the authority's path
    region_scope: str = "WW"  # `tenant_region_scope` in discovery
    preferred_language: str | None = None  # e.g. "en": optional claim xms_tpl
    users: tuple[TestUser, ...] = ()
    apps: tuple[AppRegistration, ...] = ()
    groups: tuple[Group, ...] = ()

    def __post_init__(self) -> None:
        problems = _rule_problems(self)
        if problems:
            raise ConfigError.of(problems)

    def user_by_username(self, username: str) -> TestUser | None:
        wanted = username.strip().lower()
        return next((u for u in self.users if u.username.lower() == wanted), None)

    def user_by_id(self, object_id: str) -> TestUser | None:
        return next((u for u in self.users if u.object_id == object_id), None)

    def app(self, client_id: str) -> AppRegistration | None:
        return next((a for a in self.apps if a.client_id == client_id), None)

    def group(self, object_id: str) -> Group | None:
        return next((g for g in self.groups if g.object_id == object_id), None)

    def transitive_group_ids(self, user: TestUser) -> list[str]:
        """The user's groups and every group they are nested in (breadth first, no repeats):
        what Graph's transitive calls and the tokens' `groups` claim list."""
        seen: dict[str, None] = {}
        queue = list(dict.fromkeys(user.groups))
        while queue:
            gid = queue.pop(0)
            if gid in seen:
                continue
            seen[gid] = None
            group = self.group(gid)
            if group is not None:
                queue.extend(g for g in group.member_of if g not in seen)
        return list(seen)


@dataclass(frozen=True, kw_only=True)
class ScenarioSetting:
    """A fault scenario switched on from the start (a demo of a misbehaving Entra); names
    and what each does: docs/scenarios.md. Checked when the mock starts."""

    name: str  # required: a scenario of the catalogue, e.g. "graph.throttled"
    client_id: Guid | None = None  # only for this app (default: every app)
    user: str | None = None  # only for this user: username or object id
    times: int | None = None  # only the next N matching requests (default: until stopped)
    seconds: float | None = None  # Retry-After, a delay, or a rotation's grace period

    def __post_init__(self) -> None:
        problems = _rule_problems(self)
        if problems:
            raise ConfigError.of(problems)


@dataclass(frozen=True, kw_only=True)
class MockConfig:
    """Everything the mock serves; build with `dataclasses.replace(DEFAULT_CONFIG, ...)`."""

    tenants: tuple[Tenant, ...]  # required, at least one: the first is the default tenant
    code_lifetime: Seconds = 600  # seconds; Entra: "about 10 minutes"
    # None: a random 60-90 minutes per token, as Entra does; seconds fix it.
    access_token_lifetime: Seconds | None = None
    refresh_token_inactivity: Seconds = 90 * 24 * 3600  # seconds a refresh token lives unused
    signin_page_lifetime: Seconds = 3600  # an unfinished sign-in (the `ctx`) is kept this long
    device_code_lifetime: Seconds = 900  # a device code's `expires_in`; Entra: 15 minutes
    # A device code's polling `interval`; Entra: 5. Tests lower it to poll quickly.
    device_code_interval: Annotated[int, Bounds(1, 60, "seconds")] = 5
    # Smart lockout (Learn, "Protect user accounts from attacks with Microsoft Entra smart
    # lockout"): this many failed sign-ins lock a user for `lockout_duration` seconds, longer
    # at each lockout after; Entra's defaults, 10 and 60 (`lockout`).
    lockout_threshold: Annotated[int, Bounds(1, 1_000_000, "failed sign-ins")] = 10
    lockout_duration: Seconds = 60
    # Fault scenarios in force from the start, for every request they match: `[[scenarios]]`.
    scenarios: tuple[ScenarioSetting, ...] = ()

    def __post_init__(self) -> None:
        # Bounded numbers are checked however the config is built (a file, or Python code).
        problems = _rule_problems(self)
        if not self.tenants:
            problems.append(("tenants", "at least one tenant is required"))
        ids = [t.tenant_id for t in self.tenants]
        if len(set(ids)) != len(ids):
            problems.append(("tenants", "duplicate tenant_id"))
        if problems:
            raise ConfigError.of(problems)

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

    @property
    def personal_tenant(self) -> Tenant | None:
        """The personal Microsoft accounts' tenant, when the config has one."""
        return self.tenant(PERSONAL_TENANT_ID)

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
# The tenant of every personal Microsoft account: its users sign in only through /consumers
# (and /common) to apps whose sign_in_audience allows personal accounts; their tokens carry
# this `tid` and the issuer `.../9188040d-.../v2.0` (Learn, "ID token claims reference": `tid`).
PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
DEFAULT_CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
DEFAULT_CLIENT_SECRET = "entra-lab~local-demo-secret"
DEFAULT_REDIRECT_URI = "http://localhost:5000/getAToken"
DEFAULT_API_CLIENT_ID = "c2a4b1f6-5b7e-4c0e-9d55-3f1f2a9e7b10"
DEFAULT_API_URI = "api://entra-lab-api"
DEFAULT_MEGAN_ID = "48d31887-5fad-4d73-a9f5-3c356e68a038"
DEFAULT_GROUP_ALL_ID = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
DEFAULT_GROUP_RETAIL_ID = "2f7c3c5e-8c53-4b8e-9c4a-6a0d2f1e7b21"
DEFAULT_GROUP_SALES_ID = "5e1d8b3a-1f2c-4d6e-8a9b-0c7d6e5f4a32"

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
                    manager=DEFAULT_MEGAN_ID,
                    groups=(DEFAULT_GROUP_RETAIL_ID, DEFAULT_GROUP_ALL_ID),
                    created_date_time="2024-01-15T09:30:00Z",
                    department="Retail",
                    company_name="Contoso",
                    employee_id="1001",
                    street_address="1 Microsoft Way",
                    city="Redmond",
                    state="WA",
                    postal_code="98052",
                    country="United States",
                    usage_location="US",
                    proxy_addresses=("SMTP:adele@contoso.onmicrosoft.com",),
                    on_premises_sam_account_name="adelev",
                ),
                TestUser(
                    username="megan@contoso.onmicrosoft.com",
                    password="Passw0rd!2",
                    display_name="Megan Bowen",
                    object_id=DEFAULT_MEGAN_ID,
                    given_name="Megan",
                    surname="Bowen",
                    job_title="Marketing Manager",
                    mail="megan@contoso.onmicrosoft.com",
                    office_location="12/1110",
                    preferred_language="en-US",
                    groups=(DEFAULT_GROUP_ALL_ID,),
                    created_date_time="2023-06-01T08:00:00Z",
                    department="Marketing",
                    company_name="Contoso",
                    employee_id="1002",
                    has_photo=False,  # Graph's ImageNotFound
                ),
            ),
            groups=(
                Group(
                    object_id=DEFAULT_GROUP_ALL_ID,
                    display_name="All Company",
                    mail_enabled=True,
                    mail="allcompany@contoso.onmicrosoft.com",
                    description="Everyone at Contoso",
                ),
                Group(
                    object_id=DEFAULT_GROUP_RETAIL_ID,
                    display_name="Retail",
                    description="The retail team",
                    member_of=(DEFAULT_GROUP_SALES_ID,),
                ),
                Group(
                    object_id=DEFAULT_GROUP_SALES_ID,
                    display_name="Sales and Marketing",
                    security_enabled=False,
                    mail_enabled=True,
                    mail="salesandmarketing@contoso.onmicrosoft.com",
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
                    access_token_accepted_version=2,  # the sample API validates v2 tokens
                ),
            ),
        ),
        # Personal Microsoft accounts: no apps of their own; they sign in to apps whose
        # sign_in_audience allows them. Their `oid`s have the 00000000-0000-0000-… form.
        Tenant(
            tenant_id=PERSONAL_TENANT_ID,
            display_name="Microsoft Accounts",
            users=(
                TestUser(
                    username="alex.personal@outlook.com",
                    password="Passw0rd!1",
                    display_name="Alex Personal",
                    object_id="00000000-0000-0000-6a3c-2f81b9d4e507",
                    given_name="Alex",
                    surname="Personal",
                    mail="alex.personal@outlook.com",
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


# --- file format (reading and checking files: `config_load`) ------------------------------------


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


def config_from_dict(raw: Mapping[str, Any], *, source: str = "config") -> MockConfig:
    """Build a checked MockConfig from the file schema (see `config_load.config_from_dict`)."""
    from mock_entra.core.config import load  # the checker is only needed to read a file

    return load.config_from_dict(raw, source=source)


def load_config(path: str | Path) -> MockConfig:
    """Read and check a TOML or JSON config file (see `config_load.load_config`)."""
    from mock_entra.core.config import load

    return load.load_config(path)
