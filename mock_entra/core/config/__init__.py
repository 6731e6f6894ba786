"""What the mock knows: tenants, app registrations, test users and groups, and Entra's rules
over them. This package's face is the config a test builds or a file holds:

    from mock_entra.core.config import DEFAULT_CONFIG, MockConfig, with_redirect_uris

`model` and `apps` (the dataclasses: tenants, users and groups; app registrations), `rules`
(what a value must be; `ConfigError`), `defaults` (`DEFAULT_CONFIG`, what `mock-entra serve`
uses when no `--config` is given), `load` (reading, checking and writing config files: TOML or
JSON, same schema; see `examples/mock-entra.toml` and docs/configuration.md), and the rules
the protocol applies to them: `tenants` (which tenant a path names), `redirects` (redirect URIs
as Entra registers and matches them), `audience` (which authority an app may be used through),
`credentials` (an app's certificates). Modules of this package import each other by their own
names, never this one.
"""

from __future__ import annotations

from mock_entra.core.config.apps import (
    SIGN_IN_AUDIENCES,
    TOKEN_EXCHANGE_APP_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    AppRegistration,
    ExternalIssuer,
    FederatedCredential,
    GroupMembershipClaims,
    ManagedIdentity,
    OptionalClaim,
    OptionalClaims,
    SignInAudience,
)
from mock_entra.core.config.defaults import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_API_URI,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_CONFIG,
    DEFAULT_GROUP_ALL_ID,
    DEFAULT_GROUP_RETAIL_ID,
    DEFAULT_GROUP_SALES_ID,
    DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
    DEFAULT_MANAGED_IDENTITY_OBJECT_ID,
    DEFAULT_MEGAN_ID,
    DEFAULT_REDIRECT_URI,
    DEFAULT_TENANT_ID,
    with_redirect_uris,
)
from mock_entra.core.config.load import (
    config_from_dict,
    config_text_format,
    load_config,
    load_config_value,
)
from mock_entra.core.config.model import (
    GRAPH_APP_ID,
    GRAPH_DELEGATED_SCOPES,
    GRAPH_RESOURCE,
    PERSONAL_TENANT_ID,
    Group,
    MockConfig,
    ScenarioSetting,
    Tenant,
    TestUser,
)
from mock_entra.core.config.rules import (
    KEY,
    MAX_SECONDS,
    Bounds,
    CertificateRule,
    ConfigError,
    FieldRule,
    Guid,
    GuidRule,
    RedirectRule,
    Seconds,
    rule_of,
)
from mock_entra.core.config.write import config_to_dict, config_to_toml

__all__ = [
    "DEFAULT_API_CLIENT_ID",
    "DEFAULT_API_URI",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_CONFIG",
    "DEFAULT_GROUP_ALL_ID",
    "DEFAULT_GROUP_RETAIL_ID",
    "DEFAULT_GROUP_SALES_ID",
    "DEFAULT_MANAGED_IDENTITY_CLIENT_ID",
    "DEFAULT_MANAGED_IDENTITY_OBJECT_ID",
    "DEFAULT_MEGAN_ID",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_TENANT_ID",
    "GRAPH_APP_ID",
    "GRAPH_DELEGATED_SCOPES",
    "GRAPH_RESOURCE",
    "KEY",
    "MAX_SECONDS",
    "PERSONAL_TENANT_ID",
    "SIGN_IN_AUDIENCES",
    "TOKEN_EXCHANGE_APP_ID",
    "TOKEN_EXCHANGE_AUDIENCE",
    "AppRegistration",
    "Bounds",
    "CertificateRule",
    "ConfigError",
    "ExternalIssuer",
    "FederatedCredential",
    "FieldRule",
    "Group",
    "GroupMembershipClaims",
    "Guid",
    "GuidRule",
    "ManagedIdentity",
    "MockConfig",
    "OptionalClaim",
    "OptionalClaims",
    "RedirectRule",
    "ScenarioSetting",
    "Seconds",
    "SignInAudience",
    "Tenant",
    "TestUser",
    "config_from_dict",
    "config_text_format",
    "config_to_dict",
    "config_to_toml",
    "load_config",
    "load_config_value",
    "rule_of",
    "with_redirect_uris",
]
