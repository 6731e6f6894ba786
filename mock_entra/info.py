"""What a client needs to use a mock, and whether one is running: `mock-entra info`, the
landing page at `/` and the demo's banner all read it from here.

Nothing here generates state: `find_state` only looks for the files `mock-entra serve` makes.
The one file written here is `serving.json`, what a running `mock-entra serve` serves (host,
port, config file, whether the admin API is on; never the admin key): `serve` writes it at
start and removes it when it stops, and `info` reads it, so that `info` describes that server
without being given its options again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mock_entra.core.config import AppRegistration, MockConfig, Tenant
from mock_entra.core.discovery import metadata
from mock_entra.core.pki.state import StateError, StatePaths, load_state, write_atomic

CHECK_TIMEOUT = 2.0  # seconds: a local server answers discovery in milliseconds


def info(
    config: MockConfig,
    paths: StatePaths,
    base_url: str,
    admin_key: str | None,
    *,
    config_file: str | None = None,
    admin_api: bool | None = None,
    managed_identity: ManagedIdentityInfo | None = None,
    store: str | None = None,
) -> dict[str, Any]:
    """What a client needs (`mock-entra info --json`); the key names are a contract.

    `admin_key` is the key the caller knows (it is never recorded); `admin_api` whether the
    server has its admin API on (None: not known, no `serving.json`); `config_file` the config
    it serves (None: the embedded defaults); `store` where its store is, as it may be shown
    (`StoreLocation.shown`: never a password; None: the SQLite file in the state dir)."""
    tenant = config.default_tenant
    app = tenant.apps[0] if tenant.apps else None  # a tenant may have none: keys stay, empty
    extra = {"managed_identity": asdict(managed_identity)} if managed_identity else {}
    return {
        "authority": f"{base_url}/{tenant.tenant_id}",
        "tenant_id": tenant.tenant_id,
        "graph_endpoint": f"{base_url}/v1.0",
        "ca_file": str(paths.ca_cert),
        "ca_bundle": str(paths.ca_bundle),
        "client_id": app.client_id if app else None,
        "client_secret": app.client_secrets[0] if app and app.client_secrets else None,
        "redirect_uris": list(app.redirect_uris) if app else [],
        "post_logout_redirect_uris": list(app.post_logout_redirect_uris) if app else [],
        "users": [
            {"username": u.username, "password": u.password, "display_name": u.display_name}
            for u in tenant.users
        ],
        "base_url": base_url,
        "admin_key": admin_key,
        "admin_api": admin_api,
        "config_file": config_file,
        "store": store or str(paths.store),
        **extra,
    }


# --- the managed identity endpoints --------------------------------------------------------

IDENTITY_HEADER_FILE = "identity_header"  # in the state dir, private: what `info` shows
# Where MSAL and azure-identity look for a managed identity endpoint (App Service, Service
# Fabric, IMDS, Azure Arc, Cloud Shell): code that should reach only the mock's clears them.
PLATFORM_VARIABLES = (
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


@dataclass(frozen=True)
class ManagedIdentityInfo:
    """What code needs to get managed identity tokens from the mock (`info`'s
    `managed_identity`): App Service's `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`, and IMDS's
    host for `AZURE_POD_IDENTITY_AUTHORITY_HOST`."""

    identity_endpoint: str
    identity_header: str
    imds_host: str

    @classmethod
    def of(cls, host: str, port: int, header: str) -> ManagedIdentityInfo:
        base = f"http://{host}:{port}"
        return cls(f"{base}/msi/token", header, base)


def identity_header(root: Path, given: str | None = None) -> str:
    """The `X-IDENTITY-HEADER` value (App Service's `IDENTITY_HEADER`): `given`, else the one
    kept in the state dir, else a new random one. Kept (a private file) so that
    `mock-entra info` can tell clients; the admin key, by contrast, is never written."""
    import secrets

    value = given or read_identity_header(root) or secrets.token_urlsafe(32)
    if read_identity_header(root) != value:
        write_atomic(root / IDENTITY_HEADER_FILE, value.encode(), 0o600)
    return value


def read_identity_header(root: Path) -> str | None:
    try:
        return (root / IDENTITY_HEADER_FILE).read_text().strip() or None
    except OSError:
        return None


# --- what a running `mock-entra serve` serves ----------------------------------------------------

SERVING_FILE = "serving.json"


@dataclass(frozen=True)
class ServingRecord:
    """What `mock-entra serve` serves, kept in its state dir while it runs. No secret: the
    admin API's key is never written, only whether the API is on."""

    pid: int
    host: str  # the address it listens on
    port: int
    base_url: str
    config_file: str | None  # absolute path; None: the embedded defaults
    admin_api: bool
    started: str  # ISO 8601, UTC
    managed_identity_port: int | None = None  # `--managed-identity-port`, when on
    store: str | None = None  # a shared store's URL without its password; None: the state dir's

    @classmethod
    def now(
        cls,
        *,
        host: str,
        port: int,
        base_url: str,
        config_file: str | None,
        admin_api: bool,
        managed_identity_port: int | None = None,
        store: str | None = None,
    ) -> ServingRecord:
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        config = str(Path(config_file).resolve()) if config_file else None
        return cls(
            os.getpid(),
            host,
            port,
            base_url,
            config,
            admin_api,
            started,
            managed_identity_port,
            store,
        )


def write_serving(paths: StatePaths, record: ServingRecord) -> None:
    """Record what this process serves (replacing the record of an earlier server)."""
    write_atomic(paths.root / SERVING_FILE, json.dumps(asdict(record)).encode(), 0o600)


def remove_serving(paths: StatePaths, record: ServingRecord) -> None:
    """Forget `record` when it is still the state dir's (another server may have replaced it)."""
    if read_serving(paths, alive_only=False) == record:
        (paths.root / SERVING_FILE).unlink(missing_ok=True)


def read_serving(paths: StatePaths, *, alive_only: bool = True) -> ServingRecord | None:
    """The record of the server using this state dir; None when there is none, it cannot be
    read, or (`alive_only`) its process is gone (a server killed before it could remove it)."""
    try:
        raw = json.loads((paths.root / SERVING_FILE).read_text())
        record = ServingRecord(
            pid=int(raw["pid"]),
            host=str(raw["host"]),
            port=int(raw["port"]),
            base_url=str(raw["base_url"]),
            config_file=None if raw["config_file"] is None else str(raw["config_file"]),
            admin_api=bool(raw["admin_api"]),
            started=str(raw["started"]),
            managed_identity_port=(
                None
                if raw.get("managed_identity_port") is None
                else int(raw["managed_identity_port"])
            ),
            store=None if raw.get("store") is None else str(raw["store"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if alive_only and not _alive(record.pid):
        return None
    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only "does it exist"
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


# --- the state dir, read only ------------------------------------------------------------------


def find_state(root: str | Path) -> StatePaths | None:
    """The state dir `mock-entra serve` made at `root`, or None when it has not (yet): never
    creates anything, so `info` run from the wrong directory leaves no CA behind. While a
    server is making the dir, this waits for it (`pki.state.load_state`)."""
    try:
        return load_state(root)
    except StateError:
        return None


# --- is a server answering? --------------------------------------------------------------------


@dataclass(frozen=True)
class ServerStatus:
    """Whether this mock answers at `base_url`, and in a sentence why (not)."""

    running: bool
    detail: str
    # Something else answers there (another state dir's mock, another config): waiting for
    # this one to come up is pointless.
    other: bool = False


def server_status(
    base_url: str,
    tenant_id: str,
    ca_file: Path,
    timeout: float = CHECK_TIMEOUT,
    *,
    public_url: str | None = None,
) -> ServerStatus:
    """GET the tenant's discovery document over HTTPS, verified against `ca_file`: only this
    state dir's server (same CA, same tenant, its issuer under `public_url` when it serves
    under one, else under `base_url`) counts as running."""
    import http.client  # here: serving imports this module and never needs them
    import ssl

    parts = urlsplit(base_url)
    host, port = parts.hostname or "localhost", parts.port or 443
    try:
        context = ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        return ServerStatus(False, f"cannot read the CA {ca_file}: {exc}")
    path = f"/{tenant_id}/v2.0/.well-known/openid-configuration"
    connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(256 * 1024)
    except ssl.SSLCertVerificationError as exc:
        return ServerStatus(
            False,
            f"a server answers at {base_url}, but its certificate is not from {ca_file} "
            f"({exc.verify_message}): another mock or another state dir",
            other=True,
        )
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        return ServerStatus(False, f"nothing answers at {base_url} ({reason or 'no answer'})")
    finally:
        connection.close()
    issuer = None
    if response.status == 200:
        with contextlib.suppress(ValueError, AttributeError):  # not JSON, or not an object
            issuer = json.loads(body).get("issuer")
    if issuer != f"{public_url or base_url}/{tenant_id}/v2.0":
        return ServerStatus(
            False,
            f"a server answers at {base_url}, but not for this config (tenant {tenant_id}'s "
            f"discovery: HTTP {response.status}): pass the --config it serves",
            other=True,
        )
    return ServerStatus(True, f"answers at {base_url} (TLS verified against {ca_file.name})")


# --- the summary: for people (`info`) and the landing page -------------------------------------


def summary_text(data: dict[str, Any], status: ServerStatus, state_dir: Path) -> str:
    """`mock-entra info` without `--json`: the same facts, readable."""
    users = [f"{u['username']} / {u['password']}  ({u['display_name']})" for u in data["users"]]
    rows = [
        ("server", ("up: " if status.running else "down: ") + status.detail),
        ("config", data["config_file"] or "the embedded defaults"),
        *((("admin API", _admin_text(data)),) if data["admin_api"] is not None else ()),
        ("authority", data["authority"]),
        ("client id", data["client_id"] or "(no app in the default tenant)"),
        ("client secret", data["client_secret"] or "(none: a public client)"),
        ("redirect URIs", ", ".join(data["redirect_uris"]) or "(none)"),
        ("graph", data["graph_endpoint"]),
        ("users", users[0] if users else "(none)"),
        *(("", line) for line in users[1:]),
        ("CA", data["ca_file"]),
        ("", f"Python: REQUESTS_CA_BUNDLE={data['ca_bundle']}"),
        ("", f"Node: NODE_EXTRA_CA_CERTS={data['ca_file']}"),
        ("state dir", str(state_dir)),
        ("store", data["store"]),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(["mock-entra", *(f"  {line}" for line in lines)])


def _admin_text(data: dict[str, Any]) -> str:
    if not data["admin_api"]:
        return "off"
    if data["admin_key"]:
        return f"on, key {data['admin_key']}"
    return "on (the key is never recorded: pass --admin-key or MOCK_ENTRA_ADMIN_KEY to show it)"


def overview(
    config: MockConfig,
    base_url: str,
    paths: StatePaths | None,
    tenant: Tenant | None = None,
) -> dict[str, Any]:
    """The landing page's content: tenants (or one), their apps and users, the endpoints, and
    how to trust the CA. No client secret ever appears; passwords do (they are the mock's
    test data, printed by `info` and the demo too)."""
    tenants = [tenant] if tenant is not None else list(config.tenants)
    ca_file = str(paths.ca_cert) if paths is not None else None
    ca_bundle = str(paths.ca_bundle) if paths is not None else None
    return {
        "base_url": base_url,
        "tenants": [_tenant_overview(t, base_url) for t in tenants],
        "graph_endpoint": f"{base_url}/v1.0",
        "healthz": f"{base_url}/healthz",
        "ca": {
            "ca_file": ca_file,
            "ca_bundle": ca_bundle,
            "download": f"{base_url}/ca.pem",
            "python_requests": f"REQUESTS_CA_BUNDLE={ca_bundle}",
            "node": f"NODE_EXTRA_CA_CERTS={ca_file}",
            "curl": f"curl --cacert {ca_file}",
        },
    }


_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "end_session_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "device_authorization_endpoint",
)


def app_kind(app: AppRegistration) -> str:
    """What an app registration is, in a few words: a client (confidential or public), a web
    API (it has an app id URI), both, or neither."""
    kinds = []
    if app.is_confidential:
        kinds.append("confidential client (secret or certificate)")
    elif (
        app.redirect_uris
        or app.spa_redirect_uris
        or app.public_client_redirect_uris
        or app.is_fallback_public_client
    ):
        kinds.append("public client (no secret)")
    if app.app_id_uri:
        scopes = ", ".join(app.exposed_scopes)
        kinds.append(f"web API exposing {scopes}" if scopes else "web API")
    return "; ".join(kinds) or "no credentials and no redirect URIs: nothing signs in with it"


def _tenant_overview(tenant: Tenant, base_url: str) -> dict[str, Any]:
    document = metadata("v2", base_url, tenant, tenant.tenant_id)
    authority = f"{base_url}/{tenant.tenant_id}"
    return {
        "tenant_id": tenant.tenant_id,
        "display_name": tenant.display_name,
        "domains": list(tenant.domains),
        "authority": authority,
        "endpoints": {
            "discovery": f"{authority}/v2.0/.well-known/openid-configuration",
            **{name: document[name] for name in _ENDPOINTS if name in document},
        },
        "apps": [
            {
                "client_id": app.client_id,
                "display_name": app.display_name,
                "confidential": app.is_confidential,
                "kind": app_kind(app),
                "redirect_uris": list(app.redirect_uris),
                "spa_redirect_uris": list(app.spa_redirect_uris),
                "public_client_redirect_uris": list(app.public_client_redirect_uris),
                "post_logout_redirect_uris": list(app.post_logout_redirect_uris),
                "is_fallback_public_client": app.is_fallback_public_client,
                "sign_in_audience": app.sign_in_audience,
                "app_id_uri": app.app_id_uri,
                "exposed_scopes": list(app.exposed_scopes),
            }
            for app in tenant.apps
        ],
        "users": [
            {
                "username": user.username,
                "password": user.password,
                "display_name": user.display_name,
                "object_id": user.object_id,
            }
            for user in tenant.users
        ],
    }
