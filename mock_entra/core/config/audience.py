"""Which authority an app may be used through: `/common`, `/organizations`, `/consumers` or a
tenant, against its `sign_in_audience` (Learn, "Application manifest: signInAudience" and
"Microsoft identity platform and OpenID Connect protocol" for the aliases):

| sign_in_audience                   | tenant | /organizations | /common  | /consumers |
|------------------------------------|--------|----------------|----------|------------|
| AzureADMyOrg                       | yes    | AADSTS50194    | 50194    | 9002332    |
| AzureADMultipleOrgs                | yes    | yes            | yes      | 9002332    |
| AzureADandPersonalMicrosoftAccount | yes    | yes            | yes      | yes (1)    |
| PersonalMicrosoftAccount           | 9002331| 9002331        | 9002331  | yes (1)    |

(1) `/consumers` signs in personal Microsoft accounts only: the users of the tenant
`PERSONAL_TENANT_ID` in the config, whose tokens carry that `tid` and issuer. A work account
is refused there on the sign-in page, as Entra's consumer sign-in refuses it; a personal
account is refused everywhere else.
"""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS50194, AADSTS9002331, AADSTS9002332
from mock_entra.core.config.apps import (
    AppRegistration,
)
from mock_entra.core.config.model import (
    Tenant,
)
from mock_entra.core.errors import EntraError

WORK_ONLY = ("AzureADMyOrg", "AzureADMultipleOrgs")


def check(app: AppRegistration, tenant: Tenant | None, segment: str) -> None:
    """Raise Entra's error when `app` may not be used through the authority `segment`
    (`tenant` is None for an alias)."""
    alias = segment.lower() if tenant is None else None
    names = {"client_id": app.client_id, "app_name": app.display_name}
    if app.sign_in_audience == "PersonalMicrosoftAccount" and alias != "consumers":
        raise EntraError(AADSTS9002331, **names)
    if alias == "consumers" and app.sign_in_audience in WORK_ONLY:
        raise EntraError(AADSTS9002332, **names)
    if alias in ("common", "organizations") and app.sign_in_audience == "AzureADMyOrg":
        raise EntraError(AADSTS50194, **names)


def consumers_only(tenant: Tenant | None, segment: str) -> bool:
    """Whether only personal accounts may sign in through this authority."""
    return tenant is None and segment.lower() == "consumers"
