"""The identity provider speaks Entra ID v2.0: discovery, keys, the auth-code + PKCE flow
driven by MSAL in the test process, the tokens' shape, refresh, client credentials, and the
AADSTS codes Entra answers to broken requests (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc,
https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).

Runs unchanged against the mock and a real tenant. The browser only signs the user in; the
authorization response is caught before it reaches the app (`RedirectCatcher`), so the
test process redeems the code itself, as the app would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
from playwright.sync_api import Browser, Page

from conformance.browser_fixtures import SignedInStates
from conformance.flows import RedirectCatcher, authorization_response
from conformance.pages.entra_signin import EntraSignInPage
from conformance.targets import GRAPH_DEFAULT_SCOPE, Target
from conformance.trust import TrustingSession

SCOPES = ["User.Read"]
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
GRAPH_AUDIENCES = ("00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com")
# v2.0 ID token claims of an auth-code sign-in with openid+profile
# (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference).
ID_TOKEN_CLAIMS = {
    "aud", "iss", "iat", "nbf", "exp", "name", "nonce", "oid", "preferred_username",
    "rh", "sid", "sub", "tid", "uti", "ver",
}  # fmt: skip
DISCOVERY_FIELDS = {
    "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint",
    "response_types_supported", "response_modes_supported", "subject_types_supported",
    "id_token_signing_alg_values_supported", "scopes_supported",
    "token_endpoint_auth_methods_supported", "claims_supported", "userinfo_endpoint",
    "http_logout_supported", "frontchannel_logout_supported", "request_uri_parameter_supported",
}  # fmt: skip
# Discovery values recorded for the mock-vs-live diff (hosts and tenant made generic).
OBSERVED_DISCOVERY_VALUES = (
    "authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint",
    "response_types_supported", "response_modes_supported", "subject_types_supported",
    "id_token_signing_alg_values_supported", "scopes_supported",
    "token_endpoint_auth_methods_supported", "claims_supported",
)  # fmt: skip


# -- helpers ---------------------------------------------------------------------------------


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's payload, not verified (MSAL does not verify either; Graph tokens can't be)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def b64url_json(value: str) -> dict[str, Any]:
    """Decode unpadded base64url JSON (`client_info`)."""
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    return decoded


def generic(value: Any, target: Target, tenant: str) -> Any:
    """`value` with the authority host and tenant id replaced by `{host}` / `{tenant}`."""
    if isinstance(value, list):
        return [generic(v, target, tenant) for v in value]
    if isinstance(value, str):
        return value.replace(target.authority_host, "{host}").replace(tenant, "{tenant}")
    return value


def redemption_form(
    target: Target, flow: dict[str, Any], code: str, **overrides: str
) -> dict[str, str]:
    """The form MSAL posts to redeem `code` of `flow` (client_secret_post), with `overrides`."""
    form = {
        "client_id": target.client_id,
        "client_secret": target.client_secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": target.redirect_uri,
        "code_verifier": flow["code_verifier"],
        "scope": " ".join(flow["scope"]),
    }
    return form | overrides


def token_post(http: TrustingSession, discovery: dict[str, Any], **form: str) -> tuple[int, Any]:
    """POST the token endpoint directly (to see the HTTP status MSAL hides)."""
    response = http.post(discovery["token_endpoint"], data=form)
    return response.status_code, response.json()


def assert_entra_error(
    status: int, body: dict[str, Any], *, http_status: int, error: str, code: int
) -> None:
    """Entra's token-endpoint error JSON: status, `error`, `error_codes` and the description
    starting with the AADSTS code (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes)."""
    assert status == http_status, body
    assert body.get("error") == error, body
    assert code in body.get("error_codes", []), body
    assert body.get("error_description", "").startswith(f"AADSTS{code}:"), body


def error_facts(status: int | None, body: dict[str, Any]) -> dict[str, Any]:
    """What the diff compares about an error answer."""
    return {"status": status, "error": body.get("error"), "codes": body.get("error_codes")}


@dataclass
class CodeFlow:
    """One completed auth-code + PKCE sign-in: MSAL app, flow, redirect and token result."""

    app: msal.ConfidentialClientApplication
    flow: dict[str, Any]
    response: dict[str, str]
    result: dict[str, Any]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def entra_session_page(
    browser: Browser, signed_in_states: SignedInStates, target: Target
) -> Iterator[Page]:
    """Scope: module. A page whose browser holds the first user's Entra session, so each
    authorize request of this module signs in without typing (or with as little as Entra
    asks)."""
    context = browser.new_context(storage_state=str(signed_in_states.sso_state(target.users[0])))
    yield context.new_page()
    context.close()


@pytest.fixture
def get_code(
    entra_session_page: Page, target: Target, artifacts_dir: Path
) -> Callable[..., tuple[dict[str, Any], dict[str, str]]]:
    """Scope: function. `get_code(app, scopes=…, redirect_uri=…)` → (MSAL flow, authorization
    response), with `response_mode=form_post` so the response can be caught."""

    def run(
        app: msal.ConfidentialClientApplication,
        scopes: list[str] = SCOPES,
        redirect_uri: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        redirect_uri = redirect_uri or target.redirect_uri
        flow = app.initiate_auth_code_flow(
            scopes, redirect_uri=redirect_uri, response_mode="form_post"
        )
        response = authorization_response(
            entra_session_page,
            flow["auth_uri"],
            redirect_uri,
            target.users[0],
            artifacts_dir=artifacts_dir,
        )
        return flow, response

    return run


@pytest.fixture(scope="module")
def code_flow(
    entra_session_page: Page, target: Target, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CodeFlow]:
    """Scope: module. One MSAL-driven auth-code + PKCE sign-in, shared by the token tests."""
    session = TrustingSession(target.ca_bundle)
    app = msal.ConfidentialClientApplication(
        target.client_id,
        client_credential=target.client_secret,
        authority=target.authority,
        http_client=session,
        instance_discovery=None if target.is_microsoft_host else False,
    )
    flow = app.initiate_auth_code_flow(
        SCOPES, redirect_uri=target.redirect_uri, response_mode="form_post"
    )
    response = authorization_response(
        entra_session_page,
        flow["auth_uri"],
        target.redirect_uri,
        target.users[0],
        artifacts_dir=tmp_path_factory.mktemp("code-flow"),
    )
    result = app.acquire_token_by_auth_code_flow(dict(flow), response)
    assert "error" not in result, result
    yield CodeFlow(app, flow, response, result)
    session.close()


# -- discovery and keys ----------------------------------------------------------------------


def test_discovery_document_lists_the_v2_fields_entra_publishes(
    discovery: dict[str, Any], target: Target, observe: Callable[[str, Any], None]
) -> None:
    missing = DISCOVERY_FIELDS - set(discovery)
    observe("discovery.fields", sorted(discovery))
    tenant = urlsplit(discovery["token_endpoint"]).path.split("/")[1]
    for name in OBSERVED_DISCOVERY_VALUES:
        observe(f"discovery.{name}", generic(discovery.get(name), target, tenant))
    assert not missing, f"discovery lacks {sorted(missing)}"
    assert "code" in discovery["response_types_supported"]
    assert {"query", "form_post"} <= set(discovery["response_modes_supported"])
    assert discovery["subject_types_supported"] == ["pairwise"]
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "offline_access"} <= set(discovery["scopes_supported"])
    assert "client_secret_post" in discovery["token_endpoint_auth_methods_supported"]


def test_discovery_endpoints_are_https_on_the_authority_host_and_name_the_tenant_guid(
    discovery: dict[str, Any], target: Target
) -> None:
    pattern = rf"{re.escape(target.authority_host)}/({GUID})/v2\.0"
    tenant = re.fullmatch(pattern, discovery["issuer"])
    assert tenant, f"issuer {discovery['issuer']!r} is not <authority host>/<tenant GUID>/v2.0"
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"):
        url = urlsplit(discovery[name])
        assert url.scheme == "https", (name, discovery[name])
        assert f"{url.scheme}://{url.netloc}" == target.authority_host, (name, discovery[name])
        # MSAL takes the cache "realm" from the token endpoint's first path segment.
        assert url.path.split("/")[1] == tenant.group(1), (name, discovery[name])


def test_issuer_is_per_tenant_and_common_publishes_the_tenantid_template(
    discovery: dict[str, Any],
    target: Target,
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    if re.fullmatch(GUID, target.tenant_id, re.I):
        assert discovery["issuer"] == f"{target.authority_host}/{target.tenant_id.lower()}/v2.0"
    common = http.get(f"{target.authority_host}/common/v2.0/.well-known/openid-configuration")
    assert common.status_code == 200
    observe("discovery.common.issuer", generic(common.json()["issuer"], target, target.tenant_id))
    assert common.json()["issuer"] == f"{target.authority_host}/{{tenantid}}/v2.0"


def test_jwks_publishes_rsa_signing_keys_with_certificates(
    discovery: dict[str, Any], http: TrustingSession, observe: Callable[[str, Any], None]
) -> None:
    response = http.get(discovery["jwks_uri"])
    assert response.status_code == 200
    keys = response.json()["keys"]
    observe("jwks.key_fields", sorted({name for key in keys for name in key}))
    assert keys, "JWKS has no keys"
    for key in keys:
        assert key["kty"] == "RSA" and key["use"] == "sig", key.get("kid")
        assert {"kid", "n", "e", "x5c", "x5t"} <= set(key), sorted(key)
        assert key["x5t"] == key["kid"]  # both are the certificate's SHA-1 thumbprint


# -- the auth-code flow and its tokens -------------------------------------------------------


def test_auth_code_flow_with_pkce_returns_access_id_and_refresh_tokens(
    code_flow: CodeFlow, observe: Callable[[str, Any], None]
) -> None:
    query = parse_qs(urlsplit(code_flow.flow["auth_uri"]).query)
    assert query["code_challenge_method"] == ["S256"]
    observe("authorize_response.fields", sorted(code_flow.response))
    result = code_flow.result
    observe("token_response.fields", sorted(set(result) - {"id_token_claims", "token_source"}))
    assert {"code", "state", "client_info"} <= set(code_flow.response)
    assert result["token_type"] == "Bearer"
    assert {"access_token", "id_token", "refresh_token"} <= set(result)
    # MSAL treats anything under 5 minutes as already expired (MSAL Python's
    # msal/application.py: `if expires_in < 5*60:  # Then consider it expired`).
    assert int(result["expires_in"]) >= 300
    assert "User.Read" in result["scope"].split()


def test_id_token_has_the_v2_claims_and_echoes_the_hashed_nonce(
    code_flow: CodeFlow,
    target: Target,
    discovery: dict[str, Any],
    observe: Callable[[str, Any], None],
) -> None:
    claims = claims_of(code_flow.result["id_token"])
    observe("id_token.claims", sorted(claims))
    observe("id_token.header", sorted(jwt.get_unverified_header(code_flow.result["id_token"])))
    assert set(claims) >= ID_TOKEN_CLAIMS, f"missing {sorted(ID_TOKEN_CLAIMS - set(claims))}"
    assert claims["ver"] == "2.0"
    assert claims["aud"] == target.client_id
    assert claims["iss"] == discovery["issuer"]
    assert claims["iss"] == f"{target.authority_host}/{claims['tid']}/v2.0"
    assert claims["sub"] != claims["oid"]  # sub is pairwise per app, oid is the user
    assert claims["preferred_username"].lower() == target.users[0].username.lower()
    # MSAL sends SHA-256(nonce) and expects it back verbatim.
    assert claims["nonce"] == hashlib.sha256(code_flow.flow["nonce"].encode()).hexdigest()
    now = time.time()
    assert claims["nbf"] <= claims["iat"] <= now + 300  # 5 minutes of clock skew
    assert claims["exp"] > now


def test_id_token_signature_verifies_with_the_published_jwks(
    code_flow: CodeFlow, discovery: dict[str, Any], http: TrustingSession, target: Target
) -> None:
    id_token = code_flow.result["id_token"]
    kid = jwt.get_unverified_header(id_token)["kid"]
    keys = {k["kid"]: k for k in http.get(discovery["jwks_uri"]).json()["keys"]}
    assert kid in keys, f"ID token kid {kid} is not in JWKS"
    claims = jwt.decode(
        id_token,
        jwt.PyJWK(keys[kid]).key,
        algorithms=["RS256"],
        audience=target.client_id,
        issuer=discovery["issuer"],
        leeway=120,
    )
    assert claims["oid"]


def test_client_info_makes_the_home_account_id_oid_dot_tid(code_flow: CodeFlow) -> None:
    claims = claims_of(code_flow.result["id_token"])
    info = b64url_json(code_flow.result["client_info"])
    assert info == {"uid": claims["oid"], "utid": claims["tid"]}
    assert b64url_json(code_flow.response["client_info"]) == info
    accounts = code_flow.app.get_accounts()
    assert [a["home_account_id"] for a in accounts] == [f"{claims['oid']}.{claims['tid']}"]


def test_graph_access_token_is_a_v1_token_for_graph_about_the_same_user(
    code_flow: CodeFlow, observe: Callable[[str, Any], None]
) -> None:
    token = code_flow.result["access_token"]
    claims = claims_of(token)
    id_claims = claims_of(code_flow.result["id_token"])
    observe("access_token.claims", sorted(claims))
    observe("access_token.header", sorted(jwt.get_unverified_header(token)))
    assert claims["aud"] in GRAPH_AUDIENCES
    assert claims["ver"] == "1.0"
    assert claims["iss"] == f"https://sts.windows.net/{id_claims['tid']}/"
    assert (claims["oid"], claims["tid"]) == (id_claims["oid"], id_claims["tid"])
    assert "User.Read" in claims["scp"].split()
    assert claims["idtyp"] == "user"


def test_returned_scope_lists_the_consented_scopes_in_the_requested_spelling(
    code_flow: CodeFlow, observe: Callable[[str, Any], None]
) -> None:
    """Entra answers a `User.Read` request with "User.Read profile openid email": every scope
    consented for the resource, then the OIDC ones, never `offline_access` (docs/claims.md)."""
    scope = code_flow.result["scope"].split()
    observe("token_response.scope", sorted(scope))
    assert "User.Read" in scope  # as requested: MSAL's cache looks tokens up by this string
    assert {"profile", "openid", "email"} <= set(scope)
    assert "offline_access" not in scope
    assert set(claims_of(code_flow.result["access_token"])["scp"].split()) >= {"User.Read"}


def test_an_api_token_has_the_shape_of_the_apis_accepted_version(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    """An exposed API gets v1.0 tokens unless its manifest accepts 2; validated the way an API
    validates them, issuer and audience per version (Learn, "Access tokens")."""
    if not target.api_scope:
        pytest.skip("no web API to call: set ENTRA_API_SCOPE (and ENTRA_API_TOKEN_VERSION)")
    app = msal_app()
    flow, response = get_code(app, scopes=[target.api_scope])
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result
    assert target.api_scope in result["scope"].split()
    token = result["access_token"]
    claims = claims_of(token)
    observe("api_token.claims", sorted(claims))
    resource = target.api_scope.rsplit("/", 1)[0]
    if target.api_token_version == 1:
        issuer, audience = f"https://sts.windows.net/{claims['tid']}/", resource
        assert claims["ver"] == "1.0" and claims["appid"] == target.client_id
        assert claims["upn"].lower() == target.users[0].username.lower()
    else:
        issuer = f"{target.authority_host}/{claims['tid']}/v2.0"
        audience = claims["aud"]
        assert re.fullmatch(GUID, audience), "a v2.0 token's aud is the API's client id"
        assert claims["ver"] == "2.0" and claims["azp"] == target.client_id
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {k["kid"]: k for k in http.get(discovery["jwks_uri"]).json()["keys"]}
    jwt.decode(
        token,
        jwt.PyJWK(keys[kid]).key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer,
        leeway=120,
    )


def test_a_code_redeemed_with_another_redirect_uri_is_refused_with_aadsts500112(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    flow, response = get_code(msal_app())
    form = redemption_form(
        target, flow, response["code"], redirect_uri=target.redirect_uri + "/other"
    )
    status, body = token_post(http, discovery, **form)
    observe("error.redirect_uri_mismatch", error_facts(status, body))
    assert_entra_error(status, body, http_status=401, error="invalid_client", code=500112)


def test_a_malformed_claims_parameter_is_refused_with_aadsts50117(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    status, body = token_post(
        http,
        discovery,
        client_id=target.client_id,
        client_secret=target.client_secret,
        grant_type="client_credentials",
        scope=GRAPH_DEFAULT_SCOPE,
        claims="{not json",
    )
    observe("error.malformed_claims", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="invalid_request", code=50117)


def test_refresh_token_grant_returns_a_new_access_token(code_flow: CodeFlow) -> None:
    account = code_flow.app.get_accounts()[0]
    refreshed = code_flow.app.acquire_token_silent(SCOPES, account=account, force_refresh=True)
    assert refreshed and "access_token" in refreshed, refreshed
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != code_flow.result["access_token"]


def test_client_credentials_issue_an_app_only_token_with_roles(
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    observe: Callable[[str, Any], None],
) -> None:
    result = msal_app().acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert "access_token" in result, result
    claims = claims_of(result["access_token"])
    observe("app_token.claims", sorted(claims))
    assert claims["idtyp"] == "app"
    # Needs an application permission (e.g. User.Read.All) with admin consent on a tenant.
    assert claims.get("roles"), "no roles: grant the app an application permission"
    assert "scp" not in claims


# -- strictness: the AADSTS codes of broken requests -----------------------------------------


def test_unregistered_redirect_uri_is_refused_on_entras_page_with_aadsts50011(
    page: Page,
    target: Target,
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    observe: Callable[[str, Any], None],
) -> None:
    unregistered = f"{target.app_url}/not-registered-{uuid.uuid4().hex[:8]}"
    flow = msal_app().initiate_auth_code_flow(SCOPES, redirect_uri=unregistered)
    catcher = RedirectCatcher(unregistered)
    catcher.install(page)
    page.goto(flow["auth_uri"])
    signin = EntraSignInPage(page, done=catcher.matches)
    signin.expect_error("AADSTS50011")
    observe("error.redirect_uri_mismatch", re.findall(r"AADSTS\d+", signin.error_text() or ""))
    assert catcher.urls == [], "the browser was sent to an unregistered redirect URI"


def test_second_redemption_of_a_code_is_refused_with_aadsts54005(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    flow, response = get_code(msal_app())
    form = redemption_form(target, flow, response["code"])
    first_status, first = token_post(http, discovery, **form)
    assert first_status == 200 and "access_token" in first, first
    status, body = token_post(http, discovery, **form)
    observe("error.code_reuse", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="invalid_grant", code=54005)


def test_wrong_pkce_verifier_is_refused_with_aadsts501481(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    flow, response = get_code(msal_app())
    wrong_verifier = base64.urlsafe_b64encode(hashlib.sha256(b"wrong").digest()).decode()[:43]
    assert wrong_verifier != flow["code_verifier"]
    form = redemption_form(target, flow, response["code"], code_verifier=wrong_verifier)
    status, body = token_post(http, discovery, **form)
    observe("error.pkce_mismatch", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="invalid_grant", code=501481)


def test_wrong_client_secret_is_refused_with_aadsts7000215(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    observe: Callable[[str, Any], None],
) -> None:
    status, body = token_post(
        http,
        discovery,
        client_id=target.client_id,
        client_secret="not-the-secret",
        grant_type="client_credentials",
        scope=GRAPH_DEFAULT_SCOPE,
    )
    observe("error.wrong_secret", error_facts(status, body))
    assert_entra_error(status, body, http_status=401, error="invalid_client", code=7000215)
    # MSAL hands the same error to the app.
    result = msal_app(client_secret="not-the-secret").acquire_token_for_client(
        [GRAPH_DEFAULT_SCOPE]
    )
    assert result.get("error") == "invalid_client" and 7000215 in result["error_codes"]


def test_unknown_client_id_is_refused_with_aadsts700016(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    status, body = token_post(
        http,
        discovery,
        client_id=str(uuid.uuid4()),
        client_secret=target.client_secret,
        grant_type="client_credentials",
        scope=GRAPH_DEFAULT_SCOPE,
    )
    observe("error.unknown_client", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="unauthorized_client", code=700016)


def test_unknown_graph_permission_is_refused_with_aadsts70011(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    observe: Callable[[str, Any], None],
) -> None:
    _flow, response = get_code(msal_app(), scopes=["User.NoSuchPermission"])
    codes = re.findall(r"AADSTS\d+", response.get("error_description", ""))
    observe("error.invalid_scope", {"error": response.get("error"), "codes": codes})
    assert response.get("error") == "invalid_scope", response
    assert codes[:1] == ["AADSTS70011"], response
    assert "code" not in response


# -- other client kinds: certificates, on-behalf-of, username/password --------------------------


def _unregistered_assertion(target: Target, audience: str) -> str:
    """A client assertion as MSAL builds it (PS256, `x5t#S256`), signed with a certificate
    the app registration does not have."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa

    from mock_entra.core.pki.certificates import self_signed

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, "not-registered")
    thumbprint = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA256())).rstrip(b"=")
    seconds = int(time.time())
    claims = {
        "aud": audience,
        "iss": target.client_id,
        "sub": target.client_id,
        "jti": str(uuid.uuid4()),
        "nbf": seconds,
        "iat": seconds,
        "exp": seconds + 600,
    }
    return jwt.encode(claims, key, algorithm="PS256", headers={"x5t#S256": thumbprint.decode()})


def test_user_realm_discovery_says_the_users_domain_is_a_cloud_domain(
    target: Target, http: TrustingSession, user: Any, observe: Callable[[str, Any], None]
) -> None:
    """What MSAL asks before a username/password grant (`/common/userrealm/{user}`)."""
    url = f"{target.authority_host}/common/userrealm/{user.username}?api-version=1.0"
    response = http.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    observe("userrealm.fields", sorted(body))
    assert body["ver"] == "1.0" and body["account_type"] in ("Managed", "Federated"), body
    assert body["domain_name"] == user.username.rpartition("@")[2].lower(), body
    assert body["cloud_instance_name"] == "microsoftonline.com", body


def test_wrong_password_is_refused_with_aadsts50126(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    user: Any,
    observe: Callable[[str, Any], None],
) -> None:
    status, body = token_post(
        http,
        discovery,
        client_id=target.client_id,
        client_secret=target.client_secret,
        grant_type="password",
        username=user.username,
        # The same wrong password every run: smart lockout counts a wrong password typed
        # again once (Learn, "Protect user accounts from attacks with Microsoft Entra smart
        # lockout"), so running the suite never locks the tenant's test user out.
        password="not-the-password-of-the-conformance-suite",
        scope="openid profile",
    )
    observe("error.ropc_wrong_password", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="invalid_grant", code=50126)


def test_client_assertion_signed_by_an_unregistered_certificate_is_refused_with_aadsts700027(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    status, body = token_post(
        http,
        discovery,
        client_id=target.client_id,
        grant_type="client_credentials",
        scope=GRAPH_DEFAULT_SCOPE,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=_unregistered_assertion(target, discovery["token_endpoint"]),
    )
    observe("error.unregistered_certificate", error_facts(status, body))
    assert_entra_error(status, body, http_status=401, error="invalid_client", code=700027)
    assert "The key was not found" in body["error_description"], body


def test_a_graph_token_is_no_on_behalf_of_assertion_aadsts500131(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    code_flow: CodeFlow,
    observe: Callable[[str, Any], None],
) -> None:
    """On-behalf-of takes a token whose `aud` is the calling app; a Graph token is not."""
    status, body = token_post(
        http,
        discovery,
        client_id=target.client_id,
        client_secret=target.client_secret,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        requested_token_use="on_behalf_of",
        assertion=code_flow.result["access_token"],
        scope="https://graph.microsoft.com/User.Read",
    )
    observe("error.obo_wrong_audience", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="invalid_grant", code=500131)


@pytest.mark.mock_only  # a real tenant's password grant depends on its MFA policy
def test_username_password_through_the_user_realm_on_the_mocks_port(target: Target) -> None:
    """MSAL's username/password path end to end, through home realm discovery on the mock's
    port (MSAL drops the authority's port; the HTTP client given to MSAL puts it back)."""
    assert target.mock is not None
    session = _MockPortSession(target.ca_bundle, target.authority)
    app = msal.ConfidentialClientApplication(
        target.client_id,
        client_credential=target.client_secret,
        authority=target.authority,
        http_client=session,
        instance_discovery=False,
    )
    user = target.users[0]
    result = app.acquire_token_by_username_password(user.username, user.password, scopes=[])
    session.close()
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == user.username
    assert any("/common/userrealm/" in str(c.get("path")) for c in target.mock.requests())


class _MockPortSession(TrustingSession):
    """Sends a port-less request for the authority's host to the authority's port."""

    def __init__(self, ca_bundle: str | None, authority: str) -> None:
        super().__init__(ca_bundle)
        self._netloc = urlsplit(authority).netloc
        self._host = urlsplit(authority).hostname

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(str(url))
        if parts.netloc == self._host:
            url = parts._replace(netloc=self._netloc).geturl()
        return super().request(method, url, *args, **kwargs)


# -- redirect URIs, CORS and device code -----------------------------------------------------


def test_a_localhost_redirect_uri_matches_on_any_port(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    target: Target,
    observe: Callable[[str, Any], None],
) -> None:
    """Learn, "Redirect URI restrictions": the port of a localhost redirect URI is ignored."""
    parts = urlsplit(target.redirect_uri)
    if parts.hostname not in ("localhost", "127.0.0.1"):
        pytest.skip(f"the app's redirect URI {target.redirect_uri} is not a localhost one")
    other_port = (parts.port or 80) + 1 if (parts.port or 80) < 65535 else 1025
    moved = parts._replace(netloc=f"{parts.hostname}:{other_port}").geturl()
    app = msal_app()
    flow, response = get_code(app, redirect_uri=moved)
    result = app.acquire_token_by_auth_code_flow(dict(flow), response)
    observe("redirect.localhost_any_port", "access_token" in result)
    assert "access_token" in result, result


def test_metadata_and_keys_are_served_to_any_origin(
    target: Target, discovery: dict[str, Any], http: TrustingSession
) -> None:
    """A single-page app reads discovery and JWKS cross-origin (CORS `*`, as
    login.microsoftonline.com answers: MSAL.js fetches both from the page)."""
    origin = {"Origin": "https://spa.example"}
    for url in (target.discovery_url, discovery["jwks_uri"]):
        response = http.get(url, headers=origin)
        assert response.status_code == 200
        assert response.headers.get("Access-Control-Allow-Origin") == "*", url


def test_a_web_code_redeemed_cross_origin_is_refused_with_aadsts9002326(
    get_code: Callable[..., tuple[dict[str, Any], dict[str, str]]],
    msal_app: Callable[..., msal.ConfidentialClientApplication],
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    """Only a code sent to a `spa` redirect URI may be redeemed from a browser (`Origin`)."""
    flow, response = get_code(msal_app())
    form = redemption_form(target, flow, response["code"])
    answer = http.post(
        discovery["token_endpoint"], data=form, headers={"Origin": "https://spa.example"}
    )
    body = answer.json()
    observe("error.cross_origin_web_code", error_facts(answer.status_code, body))
    assert_entra_error(
        answer.status_code, body, http_status=400, error="invalid_request", code=9002326
    )
    assert answer.headers.get("Access-Control-Allow-Origin") == "*"  # readable by the page


def test_device_code_endpoint_answers_and_a_web_app_polls_only_with_its_secret(
    target: Target,
    discovery: dict[str, Any],
    http: TrustingSession,
    observe: Callable[[str, Any], None],
) -> None:
    """`/devicecode` (advertised as `device_authorization_endpoint`); without "Allow public
    client flows" the web app's poll needs its secret (AADSTS7000218), with it the user has
    not signed in yet (AADSTS70016 authorization_pending)."""
    answer = http.post(
        discovery["device_authorization_endpoint"],
        data={"client_id": target.client_id, "scope": "User.Read openid profile"},
    )
    flow = answer.json()
    assert answer.status_code == 200, flow
    observe("device_code.fields", sorted(flow))
    assert {"device_code", "user_code", "verification_uri", "expires_in", "interval"} <= set(flow)
    assert flow["user_code"] in flow["message"]
    poll = {
        "client_id": target.client_id,
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": flow["device_code"],
    }
    status, body = token_post(http, discovery, **poll)
    observe("error.device_code_public_poll", error_facts(status, body))
    assert_entra_error(status, body, http_status=401, error="invalid_client", code=7000218)
    status, body = token_post(http, discovery, client_secret=target.client_secret, **poll)
    observe("error.device_code_pending", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="authorization_pending", code=70016)


@pytest.mark.mock_only  # a live app may be multi-tenant: its audience decides
def test_a_single_tenant_app_through_organizations_is_refused_with_aadsts50194(
    target: Target, http: TrustingSession, observe: Callable[[str, Any], None]
) -> None:
    status, body = token_post(
        http,
        {"token_endpoint": f"{target.authority_host}/organizations/oauth2/v2.0/token"},
        client_id=target.client_id,
        client_secret=target.client_secret,
        grant_type="client_credentials",
        scope=GRAPH_DEFAULT_SCOPE,
    )
    observe("error.single_tenant_via_organizations", error_facts(status, body))
    assert_entra_error(status, body, http_status=400, error="invalid_request", code=50194)
