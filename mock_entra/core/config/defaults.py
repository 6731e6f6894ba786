"""The embedded defaults: `DEFAULT_CONFIG` is what `mock-entra serve` uses when no `--config`
is given (one tenant, a confidential web app, an API, two users, three groups), and
`with_redirect_uris` registers a test's own redirect URIs on it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from mock_entra.core.config.apps import (
    AppRegistration,
    FederatedCredential,
    ManagedIdentity,
)
from mock_entra.core.config.model import (
    GRAPH_RESOURCE,
    PERSONAL_TENANT_ID,
    Group,
    MockConfig,
    Tenant,
    TestUser,
)
from mock_entra.core.config.rules import ConfigError

DEFAULT_TENANT_ID = "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"
DEFAULT_CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
DEFAULT_CLIENT_SECRET = "entra-lab~local-demo-secret"
DEFAULT_REDIRECT_URI = "http://localhost:5000/getAToken"
DEFAULT_API_CLIENT_ID = "c2a4b1f6-5b7e-4c0e-9d55-3f1f2a9e7b10"
DEFAULT_API_URI = "api://entra-lab-api"
DEFAULT_MEGAN_ID = "48d31887-5fad-4d73-a9f5-3c356e68a038"
DEFAULT_GROUP_ALL_ID = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
DEFAULT_GROUP_RETAIL_ID = "2f7c3c5e-8c53-4b8e-9c4a-6a0d2f1e7b21"
DEFAULT_GROUP_SALES_ID = "5e1d8b3a-1f2c-4d6e-8a9b-0c7d6e5f4a32"
# The sample app's managed identity (the Web App's, on Azure) and the federated credential by
# which the app registration trusts it: the app signs in users with no secret (Learn,
# "Configure an application to trust a managed identity": issuer
# https://login.microsoftonline.com/{tenant}/v2.0, subject the identity's object id).
DEFAULT_MANAGED_IDENTITY_CLIENT_ID = "3d1f5c2b-7a4e-4b8f-9c61-2e0d8a7b5f43"
DEFAULT_MANAGED_IDENTITY_OBJECT_ID = "9a6e2d47-1c3b-4f5a-8e20-7b4c1d9f6a85"

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
                    federated_credentials=(
                        FederatedCredential(
                            name="app-managed-identity",
                            issuer=f"https://login.microsoftonline.com/{DEFAULT_TENANT_ID}/v2.0",
                            subject=DEFAULT_MANAGED_IDENTITY_OBJECT_ID,
                            description="the Web App's managed identity (secretless sign-in)",
                        ),
                    ),
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
            managed_identities=(
                ManagedIdentity(
                    client_id=DEFAULT_MANAGED_IDENTITY_CLIENT_ID,
                    object_id=DEFAULT_MANAGED_IDENTITY_OBJECT_ID,
                    display_name="entra-lab-app-identity",
                    system_assigned=True,
                    application_permissions={GRAPH_RESOURCE: ("User.Read.All",)},
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
