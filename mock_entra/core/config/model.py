"""What the mock knows: tenants, their test users and groups, as frozen dataclasses
(`MockConfig` holds them all; an app registration and what hangs on it is `apps`').

Files are read and checked by `load` against these dataclasses' type hints: a field added
here is validated there. Field comments say what each field means; "required" marks the
fields without a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from mock_entra.core.config.apps import AppRegistration, ExternalIssuer, ManagedIdentity
from mock_entra.core.config.rules import (
    KEY,
    Bounds,
    ConfigError,
    Guid,
    RuleChecked,
    Seconds,
    rule_problems,
)

# The tenant of every personal Microsoft account: its users sign in only through /consumers
# (and /common) to apps whose sign_in_audience allows personal accounts; their tokens carry
# this `tid` and the issuer `.../9188040d-.../v2.0` (Learn, "ID token claims reference": `tid`).
PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

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


@dataclass(frozen=True, kw_only=True)
class TestUser(RuleChecked):
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


@dataclass(frozen=True, kw_only=True)
class Group(RuleChecked):
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


@dataclass(frozen=True, kw_only=True)
class Tenant(RuleChecked):
    """A directory: its GUID, verified domains, users and app registrations."""

    tenant_id: Guid = field(metadata=KEY)  # required: the directory (tenant) id
    display_name: str  # required
    domains: tuple[str, ...] = ()  # verified domains: also accepted in the authority's path
    region_scope: str = "WW"  # `tenant_region_scope` in discovery
    preferred_language: str | None = None  # e.g. "en": optional claim xms_tpl
    users: tuple[TestUser, ...] = ()
    apps: tuple[AppRegistration, ...] = ()
    groups: tuple[Group, ...] = ()
    # Managed identities whose tokens the managed identity endpoint hands out.
    managed_identities: tuple[ManagedIdentity, ...] = ()

    def user_by_username(self, username: str) -> TestUser | None:
        wanted = username.strip().lower()
        return next((u for u in self.users if u.username.lower() == wanted), None)

    def user_by_id(self, object_id: str) -> TestUser | None:
        return next((u for u in self.users if u.object_id == object_id), None)

    def app(self, client_id: str) -> AppRegistration | None:
        return next((a for a in self.apps if a.client_id == client_id), None)

    def managed_identity(self, object_id: str) -> ManagedIdentity | None:
        return next((m for m in self.managed_identities if m.object_id == object_id), None)

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
class ScenarioSetting(RuleChecked):
    """A fault scenario switched on from the start (a demo of a misbehaving Entra); names
    and what each does: docs/scenarios.md. Checked when the mock starts."""

    name: str  # required: a scenario of the catalogue, e.g. "graph.throttled"
    client_id: Guid | None = None  # only for this app (default: every app)
    user: str | None = None  # only for this user: username or object id
    times: int | None = None  # only the next N matching requests (default: until stopped)
    seconds: float | None = None  # Retry-After, a delay, or a rotation's grace period


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
    # Issuers (and their keys) whose tokens apps' federated credentials may trust.
    external_issuers: tuple[ExternalIssuer, ...] = ()

    def __post_init__(self) -> None:
        # Bounded numbers are checked however the config is built (a file, or Python code).
        problems = rule_problems(self)
        if not self.tenants:
            problems.append(("tenants", "at least one tenant is required"))
        ids = [t.tenant_id for t in self.tenants]
        if len(set(ids)) != len(ids):
            problems.append(("tenants", "duplicate tenant_id"))
        # One identity answers a request that names none, as a resource has one
        # system-assigned identity; client ids select the others, so they are unique.
        identities = [m for t in self.tenants for m in t.managed_identities]
        if sum(m.system_assigned for m in identities) > 1:
            problems.append(("tenants", "more than one managed identity is system_assigned"))
        mi_ids = [i.lower() for m in identities for i in (m.client_id, m.object_id)]
        if len(set(mi_ids)) != len(mi_ids):
            problems.append(("tenants", "two managed identities share a client_id or object_id"))
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

    def managed_identities(self) -> tuple[tuple[Tenant, ManagedIdentity], ...]:
        return tuple((t, m) for t in self.tenants for m in t.managed_identities)

    def external_issuer(self, issuer: str) -> ExternalIssuer | None:
        return next((e for e in self.external_issuers if e.issuer == issuer), None)

    def resource_app(self, identifier: str) -> tuple[Tenant, AppRegistration] | None:
        """An API app by its app id URI or client id (the `aud` it gets)."""
        for tenant in self.tenants:
            for app in tenant.apps:
                if identifier in (app.app_id_uri, app.client_id, f"api://{app.client_id}"):
                    return tenant, app
        return None
