"""What the mock knows: tenants, app registrations, test users and groups, as frozen
dataclasses (`MockConfig` holds them all).

Files are read and checked by `load` against these dataclasses' type hints: a field added
here is validated there. Field comments say what each field means; "required" marks the
fields without a default.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

from mock_entra.core.config.rules import (
    KEY,
    Bounds,
    CertificateRule,
    ConfigError,
    Guid,
    GuidRule,
    RedirectRule,
    Seconds,
    rule_problems,
)

# Who may sign in to an app (Entra's manifest `signInAudience`): this tenant only, any work
# tenant, any work tenant and personal Microsoft accounts, personal accounts only.
SignInAudience = Literal[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
]
SIGN_IN_AUDIENCES: tuple[str, ...] = get_args(SignInAudience)

# The tenant of every personal Microsoft account: its users sign in only through /consumers
# (and /common) to apps whose sign_in_audience allows personal accounts; their tokens carry
# this `tid` and the issuer `.../9188040d-.../v2.0` (Learn, "ID token claims reference": `tid`).
PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

# The audience of a token exchanged for an Entra token by workload identity federation
# (Learn, "Workload identity federation": "api://AzureADTokenExchange"), and the app id of
# Entra's "AzureADTokenExchange" app it names: v2.0 tokens issued for it (a managed identity's,
# see `managed_identity`) carry that id as `aud`.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
TOKEN_EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
# Entra allows 20 federated identity credentials on an app (Learn, "Workload identity
# federation: considerations and restrictions").
MAX_FEDERATED_CREDENTIALS = 20
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
        problems = rule_problems(self)
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
        problems = rule_problems(self)
        if problems:
            raise ConfigError.of(problems)


# The manifest's `groupMembershipClaims` (Learn, "Configure group claims for applications"):
# which groups go into the `groups` claim of the app's ID tokens and of its access tokens as an
# API. `true` (this field's old form) is "All", `false` is "None".
GroupMembershipClaims = Literal["None", "SecurityGroup", "All", "ApplicationGroup", "DirectoryRole"]

# Optional claims the mock can add (the manifest's `optionalClaims`; Learn, "Optional claims
# reference"); `tokens.claims.optional_claim` says where each value comes from.
OptionalClaim = Literal[
    "acct",
    "auth_time",
    "ctry",
    "email",
    "family_name",
    "given_name",
    "idtyp",  # "app" in app-only tokens, "user" in delegated ones; off unless configured
    "ipaddr",
    "login_hint",
    "sid",
    "tenant_region_scope",  # the tenant's `region_scope`; Graph's tokens always carry it
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
class FederatedCredential:
    """A federated identity credential on an app registration (Learn, "Workload identity
    federation"; `az ad app federated-credential create`): a token whose `iss`, `sub` and `aud`
    match it serves as the app's client assertion. Matching is case-sensitive (Learn, "What's
    new for authentication?": federated identity credentials use case-sensitive matching)."""

    name: str = field(metadata=KEY)  # required: unique on the app, e.g. "github-main"
    issuer: str  # required: the `iss` of the tokens it trusts, e.g. https://token.actions...
    subject: str  # required: their `sub`, e.g. repo:contoso/app:ref:refs/heads/main
    # Their `aud`; Entra's recommended (and the portal's only) value is the default.
    audiences: tuple[str, ...] = (TOKEN_EXCHANGE_AUDIENCE,)
    description: str | None = None

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        # Learn: the name is 3-120 characters, letters, digits, '-' and '_'.
        if not _FIC_NAME.match(self.name):
            problems.append(("name", "expected 3 to 120 letters, digits, '-' or '_'"))
        for what in ("issuer", "subject"):
            if not getattr(self, what).strip():
                problems.append((what, "required, but empty"))
        if not self.issuer.startswith("https://"):
            problems.append(("issuer", f"expected an https:// URL, got {self.issuer!r:.80}"))
        if len(self.audiences) != 1 or not self.audiences[0].strip():
            # Entra takes exactly one audience per credential (Graph: "audiences ... can
            # contain only one value").
            problems.append(("audiences", "expected exactly one audience"))
        if problems:
            raise ConfigError.of(problems)


_FIC_NAME = re.compile(r"^[A-Za-z0-9_-]{3,120}$")


@dataclass(frozen=True, kw_only=True)
class ManagedIdentity:
    """A managed identity (Learn, "What are managed identities for Azure resources?"): a
    service principal an Azure resource gets tokens for from its local endpoint
    (`mock-entra serve --managed-identity-port`). Its tokens are app-only tokens of that
    service principal: `oid` and `sub` are `object_id`, `appid` is `client_id`."""

    client_id: Guid = field(metadata=KEY)  # required: the identity's client (application) id
    object_id: Guid  # required: its service principal's object (principal) id
    display_name: str  # required: the identity's name
    # The Azure resource id, e.g. /subscriptions/.../userAssignedIdentities/app-id: what
    # `mi_res_id` / `msi_res_id` select by and `xms_mirid` carries. Empty: derived.
    resource_id: str = ""
    # The identity used when a request names none (a resource's system-assigned identity);
    # at most one in a config.
    system_assigned: bool = False
    # Application permissions granted to it, per resource, as an app's.
    application_permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        if self.resource_id and not self.resource_id.startswith("/subscriptions/"):
            problems.append(
                ("resource_id", f"expected /subscriptions/..., got {self.resource_id!r:.80}")
            )
        if problems:
            raise ConfigError.of(problems)

    @property
    def azure_resource_id(self) -> str:
        """`resource_id`, or one in Azure's form for a user-assigned identity."""
        return self.resource_id or (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/entra-lab"
            f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{self.client_id}"
        )

    def as_app(self) -> AppRegistration:
        """Its service principal as an app registration: what app-only tokens are built from
        (`appid` its client id, `oid` its object id, its application permissions)."""
        return AppRegistration(
            client_id=self.client_id,
            display_name=self.display_name,
            service_principal_id=self.object_id,
            application_permissions=self.application_permissions,
        )


@dataclass(frozen=True, kw_only=True)
class ExternalIssuer:
    """An OIDC issuer whose tokens federated credentials may trust (GitHub Actions, a
    Kubernetes cluster, another cloud), with its signing keys: no issuer's `jwks_uri` can be
    fetched offline. `jwks` is the JWKS document itself, `jwks_file` a file holding it (a path
    relative to the config file); one of the two."""

    issuer: str = field(metadata=KEY)  # required: its `iss`, exactly as its tokens carry it
    jwks: Mapping[str, Any] | None = None
    jwks_file: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.issuer.startswith("https://"):
            problems.append(("issuer", f"expected an https:// URL, got {self.issuer!r:.80}"))
        if (self.jwks is None) == (self.jwks_file is None):
            problems.append(("jwks", "give the issuer's keys: either jwks or jwks_file"))
        if problems:
            raise ConfigError.of(problems)
        self.keys  # noqa: B018 - parse now: a bad key set is a config error

    @functools.cached_property
    def keys(self) -> dict[str, Any]:
        """The issuer's public keys by `kid`."""
        from mock_entra.core.config.issuers import parse_jwks, read_jwks_file

        where = "jwks" if self.jwks is not None else "jwks_file"
        try:
            document = self.jwks if self.jwks is not None else read_jwks_file(self.jwks_file or "")
            return parse_jwks(document)
        except ValueError as exc:
            raise ConfigError.of([(where, str(exc))]) from None


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
    # Federated identity credentials: tokens of another issuer (or of a managed identity)
    # accepted as this app's client assertion, no secret kept (workload identity federation).
    federated_credentials: tuple[FederatedCredential, ...] = ()

    def __post_init__(self) -> None:
        # Checked however the config is built (a file reports these with its field path).
        problems = rule_problems(self)
        if self.sign_in_audience not in SIGN_IN_AUDIENCES:
            expected = f"expected one of {', '.join(SIGN_IN_AUDIENCES)}"
            problems.append(("sign_in_audience", f"{expected}, got {self.sign_in_audience!r:.60}"))
        if self.access_token_accepted_version not in (None, 1, 2) or isinstance(
            self.access_token_accepted_version, bool
        ):
            problems.append(("access_token_accepted_version", "expected 1 or 2, or leave it out"))
        if len(self.federated_credentials) > MAX_FEDERATED_CREDENTIALS:
            problems.append(("federated_credentials", f"at most {MAX_FEDERATED_CREDENTIALS}"))
        pairs = [(f.issuer, f.subject) for f in self.federated_credentials]
        for i, pair in enumerate(pairs):
            if pair in pairs[:i]:  # Entra: issuer and subject are unique on an app
                problems.append((f"federated_credentials[{i}]", "same issuer and subject"))
        if problems:
            raise ConfigError.of(problems)
        if self.key_credentials:
            self.certificates  # noqa: B018 - parse now: a bad certificate is a config error

    @property
    def is_confidential(self) -> bool:
        return bool(self.client_secrets or self.key_credentials or self.federated_credentials)

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
        """`key_credentials` parsed: `credentials.KeyCredential`s (thumbprints, public keys)."""
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
    # Managed identities whose tokens the managed identity endpoint hands out.
    managed_identities: tuple[ManagedIdentity, ...] = ()

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        if problems:
            raise ConfigError.of(problems)

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
class ScenarioSetting:
    """A fault scenario switched on from the start (a demo of a misbehaving Entra); names
    and what each does: docs/scenarios.md. Checked when the mock starts."""

    name: str  # required: a scenario of the catalogue, e.g. "graph.throttled"
    client_id: Guid | None = None  # only for this app (default: every app)
    user: str | None = None  # only for this user: username or object id
    times: int | None = None  # only the next N matching requests (default: until stopped)
    seconds: float | None = None  # Retry-After, a delay, or a rotation's grace period

    def __post_init__(self) -> None:
        problems = rule_problems(self)
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
