"""How the demo wires the client app to the mock: commands, environments and the mock config.

Pure apart from the mock's state dir (CA, keys, and the config file when the app port is not
the registered default), so it is cheap to test without starting anything.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_entra.core.config import (
    DEFAULT_CONFIG,
    TOKEN_EXCHANGE_AUDIENCE,
    ConfigError,
    ManagedIdentity,
    MockConfig,
    config_to_dict,
    load_config,
    with_redirect_uris,
)
from mock_entra.core.pki.state import ensure_state
from mock_entra.info import PLATFORM_VARIABLES, ManagedIdentityInfo, identity_header
from mock_entra.info import info as mock_info

DEFAULT_MOCK_PORT = 8443
# The mock's managed identity endpoints (plain HTTP, loopback), as App Service's and IMDS's.
DEFAULT_MANAGED_IDENTITY_PORT = 8444
# The embedded app registration's redirect URIs use this port (docs/architecture.md).
DEFAULT_APP_PORT = 5000
DEFAULT_STATE_DIR = ".mock-entra"
CONFIG_FILE_NAME = "entra-lab-demo-config.json"
REDIRECT_PATH = "/getAToken"
LOOPBACK = "127.0.0.1"

# What the app reads: cleared from the inherited environment so a developer's shell (a leftover
# TRUST_PROXY or SCOPE, say) cannot change what the demo shows.
APP_VARIABLES = (
    "TENANT_ID",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "MANAGED_IDENTITY_CLIENT_ID",
    "AUTHORITY",
    "REDIRECT_URI",
    "POST_LOGOUT_REDIRECT_URI",
    "GRAPH_ENDPOINT",
    "SCOPE",
    "SECRET_KEY",
    "CA_BUNDLE",
    "TRUST_PROXY",
    "SESSION_DIR",
    "APP_ENV",
    "RESPONSE_MODE",
    "LOG_LEVEL",
    "HTTP_TIMEOUT",
)
# Where MSAL (and azure-identity) find a managed identity endpoint (`PLATFORM_VARIABLES`):
# cleared too, so that the app reaches only the demo's (`--secretless`), never one a
# developer's shell names.
# The mock reads MOCK_ENTRA_* (an inherited MOCK_ENTRA_ADMIN_KEY would switch its admin API on).
MOCK_VARIABLE_PREFIX = "MOCK_ENTRA_"


@dataclass(frozen=True)
class DemoPlan:
    """Everything needed to start the two services of the demo."""

    mock_argv: list[str]
    mock_env: dict[str, str]
    app_argv: list[str]
    app_env: dict[str, str]
    app_settings: dict[str, str]
    """The app's wiring variables (a subset of `app_env`)."""
    info: dict[str, Any]
    """The mock's `info` (the `mock-entra info --json` contract) for these ports."""
    app_url: str
    config_file: Path | None
    log_dir: Path
    secretless: bool = False
    """The app signs in with its managed identity's token, no client secret (`--secretless`)."""

    @property
    def managed_identity(self) -> dict[str, str]:
        """The mock's managed identity endpoints (`info`'s `managed_identity`)."""
        return dict(self.info["managed_identity"])

    @property
    def mock_authority(self) -> str:
        """The authority the app uses: `https://localhost:<mock port>/<tenant id>`."""
        return str(self.info["authority"])

    @property
    def discovery_url(self) -> str:
        """The mock's OpenID configuration for the default tenant."""
        return f"{self.mock_authority}/v2.0/.well-known/openid-configuration"


def plan_demo(
    mock_port: int,
    app_port: int,
    state_dir: str | Path,
    *,
    environ: Mapping[str, str] = os.environ,
    python: str = sys.executable,
    config_file: str | Path | None = None,
    managed_identity_port: int = DEFAULT_MANAGED_IDENTITY_PORT,
    secretless: bool = False,
) -> DemoPlan:
    """Create the mock's state (CA, keys) if missing and work out both services' wiring.

    `config_file` is the user's mock config (`demo --config`; checked here, so a mistake
    stops the demo before anything starts, as a `ConfigError`); None: the embedded one.
    The mock always serves its managed identity endpoints on `managed_identity_port`; with
    `secretless`, the app gets no client secret and signs in with its managed identity's
    token (App Service's IDENTITY_ENDPOINT and IDENTITY_HEADER, pointing at the mock).
    """
    base = DEFAULT_CONFIG if config_file is None else load_config(config_file)
    identity = _check_demo_app(base, config_file, secretless=secretless)
    paths = ensure_state(state_dir)
    app_url = f"http://localhost:{app_port}"
    redirect_uri = app_url + REDIRECT_PATH
    # The app's registration must know this port's redirect URIs: Entra (and so the mock)
    # refuses any other with AADSTS50011. The embedded one knows only port 5000's.
    config = with_redirect_uris(base, [redirect_uri], [app_url + "/"])
    written = None
    if config != DEFAULT_CONFIG:
        written = paths.root / CONFIG_FILE_NAME
        written.write_text(json.dumps(config_to_dict(config), indent=2) + "\n")
    # As `mock-entra info` says it. The header is kept in the state dir, where `serve` reads
    # it (never on a command line).
    endpoints = ManagedIdentityInfo.of(
        "localhost", managed_identity_port, identity_header(paths.root)
    )
    info = mock_info(
        config, paths, f"https://localhost:{mock_port}", None, managed_identity=endpoints
    )

    base_env = {
        k: v
        for k, v in environ.items()
        if k not in APP_VARIABLES
        and k not in PLATFORM_VARIABLES
        and not k.startswith(MOCK_VARIABLE_PREFIX)
    }
    base_env["PYTHONUNBUFFERED"] = "1"  # logs reach the log files (and a crash report) at once

    mock_argv = [
        python,
        "-m",
        "mock_entra",
        "serve",
        "--host",
        LOOPBACK,
        "--port",
        str(mock_port),
        "--state-dir",
        str(paths.root),
        "--access-log",  # one line per request (secrets redacted) in the mock's log file
        "--managed-identity-port",
        str(managed_identity_port),
    ]
    if written is not None:
        mock_argv += ["--config", str(written)]

    # Secretless (Learn, "Configure an application to trust a managed identity"): the
    # identity's client id and App Service's variables in place of the secret.
    credential = (
        {
            "MANAGED_IDENTITY_CLIENT_ID": identity.client_id,
            "IDENTITY_ENDPOINT": endpoints.identity_endpoint,
            "IDENTITY_HEADER": endpoints.identity_header,
        }
        if identity is not None
        else {"CLIENT_SECRET": info["client_secret"]}
    )
    app_settings = {
        "TENANT_ID": info["tenant_id"],
        "CLIENT_ID": info["client_id"],
        **credential,
        "AUTHORITY": info["authority"],
        "REDIRECT_URI": redirect_uri,
        "GRAPH_ENDPOINT": info["graph_endpoint"],
        "CA_BUNDLE": info["ca_bundle"],
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SESSION_DIR": str(paths.root / "client-app-sessions"),
        "APP_ENV": "development",
    }
    app_argv = [python, "-m", "client_app.cli", "--host", LOOPBACK, "--port", str(app_port)]
    return DemoPlan(
        mock_argv=mock_argv,
        mock_env=base_env,
        app_argv=app_argv,
        app_env={**base_env, **app_settings},
        app_settings=app_settings,
        info=info,
        app_url=app_url,
        config_file=written,
        log_dir=paths.root / "logs",
        secretless=secretless,
    )


def _check_demo_app(
    config: MockConfig, source: str | Path | None, *, secretless: bool
) -> ManagedIdentity | None:
    """The client app signs in as the first app of the first tenant: a confidential client,
    with a secret, or (`secretless`) a federated credential trusting one of the tenant's
    managed identities, which is returned."""
    tenant = config.default_tenant
    where = f"{source}: tenants[0].apps[0]"
    if not tenant.apps:
        raise ConfigError(f"{source}: tenants[0].apps: the demo's client app needs an app here")
    app = tenant.apps[0]
    if secretless:
        # Learn, "Configure an application to trust a managed identity": the credential's
        # subject is the identity's object (principal) id, its audience the token exchange.
        for credential in app.federated_credentials:
            for identity in tenant.managed_identities:
                if (
                    credential.subject == identity.object_id
                    and TOKEN_EXCHANGE_AUDIENCE in credential.audiences
                ):
                    return identity
        raise ConfigError(
            f"{where}: --secretless signs the demo's client app in as this app "
            f"({app.client_id}) with a managed identity's token: it needs "
            "federated_credentials whose subject is the object_id of one of "
            "tenants[0].managed_identities"
        )
    if not app.client_secrets:
        raise ConfigError(
            f"{where}: the demo's client app signs in as this app "
            f"({app.client_id}), which needs client_secrets (a confidential client)"
        )
    return None
