"""Certificate credentials: MSAL Python and azure-identity sign client assertions with a
certificate registered in the app's `key_credentials` (RS256 with `x5t` when given a SHA-1
thumbprint; PS256 with `x5t#S256` and `x5c` when given the certificate), for every grant; and
each way an assertion can be wrong, on Entra's AADSTS code and HTTP status."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import msal
import pytest
from azure.identity import CertificateCredential

from mock_entra.core.clock import FixedClock
from mock_entra.core.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from mock_entra.intercept import LOGIN_HOST, MockEntraInterceptor
from mock_entra.pytest_plugin import copy_keys

from .client_kinds import DAEMON_ID, certificate, client_kinds_config
from .conftest import assert_entra_error, b64json, claims_of

AUTHORITY = f"https://{LOGIN_HOST}/{DEFAULT_TENANT_ID}"
TOKEN_URL = f"{AUTHORITY}/oauth2/v2.0/token"
GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def module_mock(tmp_path_factory, key_template: Path) -> Iterator[MockEntraInterceptor]:
    state = copy_keys(key_template, tmp_path_factory.mktemp("assertion") / "state")
    # One in-process mock for the module (the interceptor is on while the module runs).
    with MockEntraInterceptor(client_kinds_config(), state_dir=state, clock=FixedClock()) as m:
        yield m


@pytest.fixture
def mock(module_mock: MockEntraInterceptor) -> MockEntraInterceptor:
    module_mock.calls.clear()
    return module_mock


def _sent_assertion(mock: MockEntraInterceptor) -> tuple[dict, dict]:
    from urllib.parse import parse_qs

    body = next(c.body for c in reversed(mock.calls) if c.url.endswith("/token"))
    form = parse_qs(body if isinstance(body, str) else body.decode())
    assert form["client_assertion_type"] == [ASSERTION_TYPE]
    token = form["client_assertion"][0]
    return b64json(token.split(".")[0]), claims_of(token)


def test_msal_with_a_sha1_thumbprint_signs_rs256_with_x5t(mock):
    cert = certificate()
    app = msal.ConfidentialClientApplication(
        DAEMON_ID, authority=AUTHORITY, client_credential=cert.msal_thumbprint
    )
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result
    claims = claims_of(result["access_token"])
    assert claims["appid"] == DAEMON_ID and claims["roles"] == ["User.Read.All"]
    assert claims["appidacr"] == "2"  # a certificate (Learn, access token claims reference)
    header, sent = _sent_assertion(mock)
    assert header["alg"] == "RS256" and "x5t" in header and "x5t#S256" not in header
    assert sent["aud"] == TOKEN_URL and sent["iss"] == sent["sub"] == DAEMON_ID


def test_msal_with_the_certificate_signs_ps256_with_x5t_s256_and_x5c(mock):
    app = msal.ConfidentialClientApplication(
        DAEMON_ID, authority=AUTHORITY, client_credential=certificate().msal_certificate
    )
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result
    header, _ = _sent_assertion(mock)
    assert header["alg"] == "PS256" and "x5t#S256" in header and header["x5c"]


def test_msal_reuses_its_assertion_and_the_mock_accepts_it(mock):
    """MSAL Python sends the same assertion (same `jti`) for 9 minutes; Entra accepts it."""
    app = msal.ConfidentialClientApplication(
        DAEMON_ID, authority=AUTHORITY, client_credential=certificate().msal_certificate
    )
    first = app.acquire_token_for_client(GRAPH_DEFAULT)
    app.remove_tokens_for_client()  # the next call goes to the token endpoint again
    second = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in first and "access_token" in second, second
    assertions = [c.body for c in mock.calls if c.url.endswith("/token")]
    assert len(assertions) == 2 and assertions[0] == assertions[1]


def test_msal_with_an_unregistered_certificate_gets_aadsts700027(mock):
    other = certificate("stranger")  # any certificate the app has not registered
    app = msal.ConfidentialClientApplication(
        DAEMON_ID, authority=AUTHORITY, client_credential=other.msal_thumbprint
    )
    result = app.acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "invalid_client" and result["error_codes"] == [700027]
    assert "The key was not found" in result["error_description"]
    assert other.sha1_hex in result["error_description"]


def test_azure_identity_certificate_credential(mock):
    cert = certificate()
    credential = CertificateCredential(
        DEFAULT_TENANT_ID, DAEMON_ID, certificate_data=(cert.key_pem + cert.cert_pem).encode()
    )
    token = credential.get_token("https://graph.microsoft.com/.default")
    claims = claims_of(token.token)
    assert claims["appid"] == DAEMON_ID
    # How the client authenticated: 2, a certificate (Learn, access token claims reference).
    assert claims["appidacr"] == "2"
    header, sent = _sent_assertion(mock)
    assert sent["aud"] == TOKEN_URL and header["alg"] in ("PS256", "RS256")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ROPC, deprecated for public clients
def test_appidacr_and_azpacr_say_how_the_client_authenticated(mock):
    """0 a public client, 1 a secret, 2 a certificate, in v1.0 (`appidacr`) and v2.0
    (`azpacr`) tokens alike (Learn, "Access token claims reference")."""
    from azure.identity import ClientSecretCredential, UsernamePasswordCredential

    from .client_kinds import API_SCOPE, PUBLIC_ID
    from .conftest import ADELE

    cert = certificate()
    by_cert = CertificateCredential(
        DEFAULT_TENANT_ID, DAEMON_ID, certificate_data=(cert.key_pem + cert.cert_pem).encode()
    )
    by_secret = ClientSecretCredential(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    public = UsernamePasswordCredential(PUBLIC_ID, *ADELE, tenant_id=DEFAULT_TENANT_ID)
    graph = "https://graph.microsoft.com/.default"
    assert claims_of(by_cert.get_token(graph).token)["appidacr"] == "2"
    assert claims_of(by_secret.get_token(graph).token)["appidacr"] == "1"
    assert claims_of(public.get_token(graph).token)["appidacr"] == "0"
    # The sample API takes v2.0 tokens: the same answer as `azpacr`.
    api = claims_of(public.get_token(API_SCOPE).token)
    assert api["ver"] == "2.0" and api["azpacr"] == "0"


def test_a_certificate_authenticates_the_authorization_code_grant_too(mock):
    """One client authentication for every grant: a code grant with a bad assertion is
    refused before the code is looked at."""
    response = _post(mock, _assertion(kid_cert=certificate("stranger")), grant="authorization_code")
    assert_entra_error(response, 401, "invalid_client", 700027)


# -- each way an assertion is wrong ------------------------------------------------------------


def _assertion(
    *,
    claims: dict | None = None,
    headers: dict | None = None,
    alg: str = "PS256",
    kid_cert=None,
    sign_cert=None,
) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import load_pem_x509_certificate

    named = kid_cert or certificate()
    signer = sign_cert or named
    now = int(time.time())
    body = {
        "aud": TOKEN_URL,
        "iss": DAEMON_ID,
        "sub": DAEMON_ID,
        "exp": now + 600,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims or {})
    cert = load_pem_x509_certificate(named.cert_pem.encode())
    thumb = jwt.utils.base64url_encode(cert.fingerprint(hashes.SHA256())).decode()
    head = {"x5t#S256": thumb, **(headers or {})}
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None},
        signer.key_pem,
        algorithm=alg,
        headers={k: v for k, v in head.items() if v is not None},
    )


def _post(
    mock: MockEntraInterceptor, assertion: str, *, grant: str = "client_credentials", **extra
):
    data = {
        "client_id": DAEMON_ID,
        "grant_type": grant,
        "scope": GRAPH_DEFAULT[0],
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }
    if grant == "authorization_code":
        data.update(code="1.AXoAnothing", redirect_uri="http://localhost/cb")
    return mock.app.test_client().post(
        f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token", data=data, base_url=f"https://{LOGIN_HOST}"
    )


def test_a_good_hand_made_assertion_is_accepted_and_may_be_sent_again(mock):
    assertion = _assertion()
    for _ in range(2):  # no single-use jti: Entra accepts an assertion until its exp
        assert _post(mock, assertion).status_code == 200


@pytest.mark.parametrize(
    "aud",
    [
        TOKEN_URL,
        f"https://{LOGIN_HOST}/contoso.onmicrosoft.com/oauth2/v2.0/token",
        f"{AUTHORITY}/oauth2/token",  # the v1.0 endpoint, as ADAL built it
    ],
)
def test_the_token_endpoint_of_this_tenant_is_the_audience(mock, aud):
    assert _post(mock, _assertion(claims={"aud": aud})).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "error", "code"),
    [
        ({"kid_cert": certificate("stranger")}, 401, "invalid_client", 700027),
        ({"sign_cert": certificate("stranger")}, 401, "invalid_client", 700027),
        ({"claims": {"exp": int(time.time()) - 3600}}, 401, "invalid_client", 700024),
        ({"claims": {"nbf": int(time.time()) + 3600}}, 401, "invalid_client", 700024),
        ({"claims": {"aud": "https://example.com/token"}}, 401, "invalid_client", 700023),
        (
            {"claims": {"aud": f"https://{LOGIN_HOST}/common/oauth2/v2.0/token"}},
            401,
            "invalid_client",
            700023,
        ),
        ({"claims": {"aud": [TOKEN_URL, AUTHORITY]}}, 401, "invalid_client", 5002741),
        ({"claims": {"iss": DEFAULT_CLIENT_ID}}, 401, "invalid_client", 700021),
        ({"claims": {"sub": DEFAULT_CLIENT_ID}}, 401, "invalid_client", 700021),
        ({"claims": {"iss": None}}, 400, "invalid_request", 90014),
        ({"claims": {"aud": None}}, 400, "invalid_request", 90014),
        ({"claims": {"sub": None}}, 400, "invalid_request", 90014),  # accepted before
        ({"headers": {"x5t#S256": None}}, 401, "invalid_client", 5002723),
    ],
    ids=[
        "unknown-key",
        "bad-signature",
        "expired",
        "not-yet-valid",
        "wrong-audience",
        "common-audience",
        "two-audiences",
        "iss-mismatch",
        "sub-mismatch",
        "no-iss",
        "no-aud",
        "no-sub",
        "no-thumbprint",
    ],
)
def test_a_wrong_assertion_gets_entras_error(mock, kwargs, status, error, code):
    assert_entra_error(_post(mock, _assertion(**kwargs)), status, error, code)


def test_an_assertion_made_out_to_another_host_is_refused(mock):
    # Issue 18, finding 6: naming that host in the request's Host header made it the token
    # endpoint the audience had to match. Now that request is refused before any credential
    # is read, and at the mock's own host the audience is another endpoint's: AADSTS700023.
    evil = f"https://evil.example/{DEFAULT_TENANT_ID}/oauth2/v2.0/token"
    assertion = _assertion(claims={"aud": evil})
    data = {
        "client_id": DAEMON_ID,
        "grant_type": "client_credentials",
        "scope": GRAPH_DEFAULT[0],
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    refused = mock.app.test_client().post(
        f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token", data=data, base_url="https://evil.example"
    )
    assert refused.status_code == 400 and b"Bad Request - Invalid Hostname" in refused.data
    assert_entra_error(_post(mock, assertion), 401, "invalid_client", 700023)


def test_a_bad_signature_names_the_key_it_found(mock):
    body = _post(mock, _assertion(sign_cert=certificate("stranger"))).get_json()
    assert (
        "Key was found, but use of the key to verify the signature failed"
        in (body["error_description"])
    )
    assert certificate().sha1_hex in body["error_description"]


def test_expired_assertion_states_the_times_as_entra_does(mock):
    body = _post(mock, _assertion(claims={"exp": 1_700_000_000, "nbf": None})).get_json()
    assert "assertion valid from 1970-01-01T00:00:00.0000000Z" in body["error_description"]
    assert "expiry time of assertion 2023-11-14T22:13:20.0000000Z" in body["error_description"]


def test_hs256_and_garbage_are_refused(mock):
    hs = jwt.encode({"iss": DAEMON_ID}, "k" * 32, algorithm="HS256", headers={"x5t": "abc"})
    assert_entra_error(_post(mock, hs), 401, "invalid_client", 5002738)
    assert_entra_error(_post(mock, "not-a-jwt"), 400, "invalid_request", 50027)
    bad_type = _post(mock, _assertion(), client_assertion_type="urn:other")
    assert_entra_error(bad_type, 400, "invalid_request", 90100)


def test_the_assertion_sent_to_an_app_with_only_secrets_is_not_a_secret(mock):
    """Sending an assertion for an app with a secret but no certificate: no key found."""
    response = mock.app.test_client().post(
        f"/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={
            "client_id": DEFAULT_CLIENT_ID,
            "grant_type": "client_credentials",
            "scope": GRAPH_DEFAULT[0],
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(
                claims={"iss": DEFAULT_CLIENT_ID, "sub": DEFAULT_CLIENT_ID}
            ),
        },
        base_url=f"https://{LOGIN_HOST}",
    )
    assert_entra_error(response, 401, "invalid_client", 700027)
    assert DEFAULT_CLIENT_SECRET not in response.get_data(as_text=True)


def test_odd_time_claims_are_errors_not_crashes(mock):
    """A string, a list, Infinity (JSON parsers read it) as a time: Entra's 50027, no 500."""
    for claims in ({"exp": "soon"}, {"nbf": [1]}, {"exp": float("inf")}, {"exp": 10**400}):
        assert_entra_error(_post(mock, _assertion(claims=claims)), 400, "invalid_request", 50027)


def test_an_exp_far_in_the_future_is_accepted_as_entra_does(mock):
    """Learn: "Microsoft Entra ID doesn't place restrictions on the exp time currently"."""
    assert _post(mock, _assertion(claims={"exp": 1e308})).status_code == 200
