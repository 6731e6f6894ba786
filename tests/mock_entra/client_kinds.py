"""Apps of every client kind for the certificate, on-behalf-of and username/password tests:
a certificate made here, a web app with a secret, a daemon with only that certificate, a web
API that calls Graph on behalf of its caller (secret and certificate), public clients with and
without "Allow public client flows"."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_entra.core.config import (
    DEFAULT_API_CLIENT_ID,
    DEFAULT_API_URI,
    DEFAULT_CLIENT_ID,
    DEFAULT_CONFIG,
    AppRegistration,
    MockConfig,
)
from mock_entra.pytest_plugin import copy_keys

DAEMON_ID = "0b8b6e51-7d2a-4f4e-8a57-2f0c1a9e4d11"
PUBLIC_ID = "5c1f0e2d-3b4a-4c6d-9e8f-7a6b5c4d3e21"
CLOSED_PUBLIC_ID = "7d2e1f3a-4b5c-4d6e-8f9a-0b1c2d3e4f31"
API_SECRET = "entra-lab~api-secret"
API_SCOPE = f"{DEFAULT_API_URI}/Forecast.Read"


@dataclass(frozen=True)
class Certificate:
    key_pem: str
    cert_pem: str
    sha1_hex: str

    @property
    def msal_thumbprint(self) -> dict[str, str]:
        """MSAL's `client_credential` with a SHA-1 thumbprint (RS256 and `x5t`)."""
        return {"private_key": self.key_pem, "thumbprint": self.sha1_hex}

    @property
    def sha256_hex(self) -> str:
        """The certificate's SHA-256 thumbprint (msal-node's `thumbprintSha256`)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        cert = x509.load_pem_x509_certificate(self.cert_pem.encode())
        return cert.fingerprint(hashes.SHA256()).hex()

    @property
    def msal_certificate(self) -> dict[str, str]:
        """MSAL's `client_credential` with the certificate (PS256, `x5t#S256`, `x5c`)."""
        return {"private_key": self.key_pem, "public_certificate": self.cert_pem}


@functools.cache
def certificate(name: str = "entra-lab-daemon") -> Certificate:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from mock_entra.core.pki.certificates import self_signed

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, name)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return Certificate(key_pem, cert_pem, cert.fingerprint(hashes.SHA1()).hex().upper())


def with_apps(*apps: AppRegistration, **settings: Any) -> MockConfig:
    """`DEFAULT_CONFIG` with `apps` added to its tenant and `settings` (e.g.
    device_code_interval) replaced."""
    tenant = DEFAULT_CONFIG.default_tenant
    tenant = dataclasses.replace(tenant, apps=(*tenant.apps, *apps))
    return dataclasses.replace(DEFAULT_CONFIG, tenants=(tenant,), **settings)


def contoso_cli(client_id: str, **fields: Any) -> AppRegistration:
    """A command-line tool: a public client with "Allow public client flows" (device code),
    no consent page."""
    return AppRegistration(
        client_id=client_id,
        display_name="Contoso CLI",
        is_fallback_public_client=True,
        require_consent=False,
        **fields,
    )


def client_kinds_config(*, api_consent: bool = False, web_consent: bool = False) -> MockConfig:
    """The default tenant plus the apps above; consent off unless asked (ROPC and OBO cannot
    show the consent page)."""
    cert = certificate()
    tenant = DEFAULT_CONFIG.default_tenant
    apps = []
    for app in tenant.apps:
        if app.client_id == DEFAULT_CLIENT_ID:
            app = dataclasses.replace(app, require_consent=web_consent)
        if app.client_id == DEFAULT_API_CLIENT_ID:
            app = dataclasses.replace(
                app,
                client_secrets=(API_SECRET,),
                key_credentials=(cert.cert_pem,),
                require_consent=api_consent,
            )
        apps.append(app)
    apps += [
        AppRegistration(
            client_id=DAEMON_ID,
            display_name="entra-lab daemon (certificate)",
            key_credentials=(cert.cert_pem,),
            application_permissions={"https://graph.microsoft.com": ("User.Read.All",)},
        ),
        AppRegistration(
            client_id=PUBLIC_ID,
            display_name="entra-lab desktop tool",
            public_client_redirect_uris=("http://localhost",),
            is_fallback_public_client=True,
            sign_in_audience="AzureADMultipleOrgs",  # /organizations finds the user's tenant
            require_consent=False,
        ),
        AppRegistration(
            client_id=CLOSED_PUBLIC_ID,
            display_name="entra-lab desktop tool (public client flows off)",
            public_client_redirect_uris=("http://localhost",),
            require_consent=False,
        ),
    ]
    new_tenant = dataclasses.replace(tenant, apps=tuple(apps))
    return dataclasses.replace(DEFAULT_CONFIG, tenants=(new_tenant,))


def intercepting(state_root, key_template, config: MockConfig):
    """A module's in-process mock (`responses` on for the module): keys copied, fixed clock."""

    from mock_entra.core.clock import FixedClock
    from mock_entra.intercept import MockEntraInterceptor

    state = copy_keys(key_template, state_root / "state")
    with MockEntraInterceptor(config, state_dir=state, clock=FixedClock()) as mock:
        yield mock


def client_kinds_fixtures(name: str):
    """A test module's `mock` (in-process, these apps, for the whole module, its state in a
    folder named `name`) and an autouse fixture that resets it before each test; a module
    takes them as `mock, _fresh = client_kinds_fixtures("obo")`."""
    import pytest

    @pytest.fixture(scope="module")
    def mock(tmp_path_factory, key_template):
        yield from intercepting(tmp_path_factory.mktemp(name), key_template, client_kinds_config())

    @pytest.fixture(autouse=True)
    def _fresh(mock) -> None:
        mock.reset()

    return mock, _fresh


def in_process_fixtures(config: Callable[[], MockConfig]):
    """A test module's `mock` (in-process, of `config()`, one per test on its `state_dir` and
    `clock`) and that mock's Flask test `client`; a module takes them as
    `mock, client = in_process_fixtures(device_config)`."""
    import pytest

    from mock_entra.intercept import MockEntraInterceptor

    @pytest.fixture
    def mock(state_dir, clock):
        interceptor = MockEntraInterceptor(config(), state_dir=state_dir, clock=clock)
        yield interceptor
        interceptor.stop()

    @pytest.fixture
    def client(mock):
        return mock.app.test_client()

    return mock, client
