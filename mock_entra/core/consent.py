"""Whether a user has consented to what an app asks for, at the token endpoint: the grants
that cannot show the consent page (refresh, on-behalf-of, username/password) answer
AADSTS65001 `consent_required` instead, as Entra does."""

from __future__ import annotations

from mock_entra.core.aadsts import AADSTS65001, EntraError
from mock_entra.core.runtime import Runtime
from mock_entra.core.scopes import Scopes
from mock_entra.core.tokens import SignIn


def require_consent(rt: Runtime, signin: SignIn, scopes: Scopes) -> None:
    if not signin.app.require_consent:
        return
    granted = rt.consented(signin.tenant, signin.user.object_id, signin.app.client_id)
    wanted = {s for s in scopes.consent_key() if not s.startswith("oidc/")}
    if not wanted <= granted:
        raise EntraError(
            AADSTS65001, client_id=signin.app.client_id, app_name=signin.app.display_name
        )
