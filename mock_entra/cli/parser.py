"""The command line's words: `serve`'s, `info`'s and `config`'s options, their defaults and
the environment variables behind them (docs/reference.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from mock_entra.server import ServeOptions
from mock_entra.version import installed_version

DEFAULT_STATE_DIR = ".mock-entra"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
DEFAULT_WORKERS = ServeOptions.workers


class VersionAction(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any):
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        sys.stdout.write(
            f"{parser.prog} {installed_version()}\n"
        )  # stdout, as argparse's own `version`
        parser.exit()


def _state_dir(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--state-dir",
        default=os.environ.get("MOCK_ENTRA_STATE_DIR") or DEFAULT_STATE_DIR,
        help=f"{what} (default {DEFAULT_STATE_DIR}; env MOCK_ENTRA_STATE_DIR)",
    )


def _store(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--store",
        default=os.environ.get("MOCK_ENTRA_STORE") or None,
        metavar="URL",
        help=f"{what}: postgresql://user:password@host:port/dbname, a Postgres database that "
        "replicas (with copies of one state dir's keys) share (the postgres extra); default: "
        "the SQLite file in the state dir (env MOCK_ENTRA_STORE)",
    )


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=os.environ.get("MOCK_ENTRA_HOST") or DEFAULT_HOST,
        help="address to listen on (default 127.0.0.1; env MOCK_ENTRA_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_env_int("MOCK_ENTRA_PORT") or DEFAULT_PORT,
        help=f"HTTPS port to listen on (default {DEFAULT_PORT}; env MOCK_ENTRA_PORT)",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("MOCK_ENTRA_CONFIG"),
        metavar="FILE",
        help="TOML or JSON file with tenants, apps and users, or that config itself as text "
        "(JSON starting with {, or TOML on more than one line; docs/configuration.md) "
        "(default: the embedded demo tenant; env MOCK_ENTRA_CONFIG)",
    )
    _state_dir(parser, "where the CA, TLS and signing keys and the store are kept")
    _store(parser, "where codes, tokens, sessions, the clock and the request log are kept")
    parser.add_argument(
        "--public-url",
        default=os.environ.get("MOCK_ENTRA_PUBLIC_URL") or None,
        metavar="URL",
        help="https://host[:port] that clients use (behind a proxy or a published port): the "
        "base of every URL the mock hands out (default: the host the client called, if it is "
        "localhost, 127.0.0.1, [::1], --host or a name in the TLS certificate, at --port; "
        "other hosts get 400)",
    )
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("MOCK_ENTRA_ADMIN_KEY") or None,
        metavar="KEY",
        help="turn the admin API on, protected by this key (default: off; env "
        "MOCK_ENTRA_ADMIN_KEY). The key is never written to the state dir",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=_env_int("MOCK_ENTRA_WORKERS") or DEFAULT_WORKERS,
        help=f"worker processes (default {DEFAULT_WORKERS}; env MOCK_ENTRA_WORKERS); they "
        "share the store in the state dir",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=_env_int("MOCK_ENTRA_THREADS") or 1,
        help="server threads per worker (default 1: the Python work is CPU-bound; env "
        "MOCK_ENTRA_THREADS)",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="log one line per request to stderr, secrets redacted (default: off)",
    )
    parser.add_argument(
        "--managed-identity-port",
        type=int,
        default=_env_int("MOCK_ENTRA_MANAGED_IDENTITY_PORT"),
        metavar="PORT",
        help="also serve the managed identity endpoints (App Service's /msi/token, IMDS's "
        "/metadata/identity/oauth2/token) over plain HTTP on --host at PORT (default: off; env "
        "MOCK_ENTRA_MANAGED_IDENTITY_PORT); `info --json` shows IDENTITY_ENDPOINT and "
        "IDENTITY_HEADER",
    )
    parser.add_argument(
        "--managed-identity-header",
        default=os.environ.get("MOCK_ENTRA_MANAGED_IDENTITY_HEADER") or None,
        metavar="SECRET",
        help="the X-IDENTITY-HEADER value /msi/token wants (default: a random one kept in the "
        "state dir; env MOCK_ENTRA_MANAGED_IDENTITY_HEADER)",
    )


def _info_options(parser: argparse.ArgumentParser) -> None:
    # Not given (None): what the running server recorded in the state dir, else the default.
    parser.add_argument(
        "--host",
        default=os.environ.get("MOCK_ENTRA_HOST") or None,
        help="the address the server listens on (default: what `serve` recorded in the state "
        "dir, else 127.0.0.1; env MOCK_ENTRA_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_env_int("MOCK_ENTRA_PORT"),
        help=f"the server's HTTPS port (default: what `serve` recorded, else {DEFAULT_PORT}; "
        "env MOCK_ENTRA_PORT)",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("MOCK_ENTRA_CONFIG"),
        metavar="FILE",
        help="the config the server serves (default: what `serve` recorded, else the embedded "
        "demo tenant; env MOCK_ENTRA_CONFIG)",
    )
    _state_dir(parser, "the state dir the server uses, read only")
    _store(parser, "the store the server uses (default: what `serve` recorded)")
    parser.add_argument(
        "--public-url",
        default=os.environ.get("MOCK_ENTRA_PUBLIC_URL") or None,
        metavar="URL",
        help="the https://host[:port] the server was given with serve --public-url (default: "
        "what `serve` recorded; env MOCK_ENTRA_PUBLIC_URL)",
    )
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("MOCK_ENTRA_ADMIN_KEY") or None,
        metavar="KEY",
        help="the admin API's key, shown as admin_key (the server never records it; env "
        "MOCK_ENTRA_ADMIN_KEY)",
    )


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-entra", description="A local Microsoft Entra ID v2.0 mock."
    )
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "serve",
        help="serve the mock over HTTPS",
        description="Serve the mock (sign-in pages, tokens, discovery, a fake Microsoft Graph) "
        "over HTTPS until Ctrl-C. The state dir is made on first use: a CA to trust, TLS and "
        "signing keys, the store, a .gitignore of everything; while serving, serving.json in "
        "it says what is served (ports, config file, whether the admin API is on) for "
        "`mock-entra info`.",
    )
    _serve_options(s)
    i = sub.add_parser(
        "info",
        help="print what a client needs to use the mock, and whether it is running",
        description="Read the state dir that `mock-entra serve` made (never create one) and "
        "print the authority, client, users and CA, and whether the server answers. The "
        "running server's host, port and config are read from the state dir unless given.",
    )
    _info_options(i)
    i.add_argument("--json", action="store_true", help="one JSON object instead of a summary")
    i.add_argument(
        "--check", action="store_true", help="exit 1 unless the server answers (HTTPS, via the CA)"
    )
    i.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for the state dir (and, with --check, for the server)",
    )
    c = sub.add_parser(
        "config",
        help="print a config as TOML (the embedded defaults, or --config merged and checked)",
        description="Print the embedded defaults (--defaults), or the effective config that "
        "--config gives after checking and merging, as TOML that --config accepts.",
    )
    c.add_argument("--defaults", action="store_true", help="the embedded defaults")
    c.add_argument(
        "--config",
        default=os.environ.get("MOCK_ENTRA_CONFIG"),
        metavar="FILE",
        help="a config file to check and print (env MOCK_ENTRA_CONFIG)",
    )
    c.add_argument("--json", action="store_true", help="JSON instead of TOML")
    return parser
