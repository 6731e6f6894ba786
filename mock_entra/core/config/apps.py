"""An app registration and what hangs on it: its credentials (federated credentials, and the
external issuers they trust), its optional claims, and the managed identities that are
service principals of their own.

Checked as `model` is: by `load` against these dataclasses' type hints, and by `rules` as they
are made.
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
    CertificateRule,
    ConfigError,
    Guid,
    GuidRule,
    RedirectRule,
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

# The audience of a token exchanged for an Entra token by workload identity federation
# (Learn, "Workload identity federation": "api://AzureADTokenExchange"), and the app id of
# Entra's "AzureADTokenExchange" app it names: v2.0 tokens issued for it (a managed identity's,
# see `managed_identity`) carry that id as `aud`.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
TOKEN_EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
# Entra allows 20 federated identity credentials on an app (Learn, "Workload identity
# federation: considerations and restrictions").
MAX_FEDERATED_CREDENTIALS = 20

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
        return self._app

    @functools.cached_property  # built (and checked) once, not at every token request
    def _app(self) -> AppRegistration:
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
