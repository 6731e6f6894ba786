"""`entra-lab demo [--mock-port 8443] [--app-port 5000] [--managed-identity-port 8444]
[--state-dir DIR] [--config FILE] [--secretless]`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from entra_lab.wiring import (
    DEFAULT_APP_PORT,
    DEFAULT_MANAGED_IDENTITY_PORT,
    DEFAULT_MOCK_PORT,
    DEFAULT_STATE_DIR,
)
from mock_entra.version import installed_version


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"a port is 1..65535, got {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The `entra-lab` command line."""
    parser = argparse.ArgumentParser(
        prog="entra-lab", description="Local Microsoft Entra ID lab: the mock and the client app."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the mock Entra ID and the client app, wired together (Ctrl-C stops both)",
        description="Start the mock Entra ID (HTTPS, fake Microsoft Graph) and the client app "
        "configured for it; print the app URL and the test users; Ctrl-C stops both.",
    )
    demo.add_argument(
        "--mock-port",
        type=_port,
        default=DEFAULT_MOCK_PORT,
        help=f"HTTPS port of the mock (default {DEFAULT_MOCK_PORT})",
    )
    demo.add_argument(
        "--app-port",
        type=_port,
        default=DEFAULT_APP_PORT,
        help=f"HTTP port of the client app (default {DEFAULT_APP_PORT})",
    )
    demo.add_argument(
        "--managed-identity-port",
        type=_port,
        default=DEFAULT_MANAGED_IDENTITY_PORT,
        help="plain HTTP port of the mock's managed identity endpoints (App Service's "
        "/msi/token, IMDS's /metadata/identity/oauth2/token; "
        f"default {DEFAULT_MANAGED_IDENTITY_PORT})",
    )
    demo.add_argument(
        "--secretless",
        action="store_true",
        help="run the app with no client secret: it signs in with its managed identity's token "
        "(MANAGED_IDENTITY_CLIENT_ID, IDENTITY_ENDPOINT and IDENTITY_HEADER, as on App Service)",
    )
    demo.add_argument(
        "--state-dir",
        type=Path,
        default=Path(DEFAULT_STATE_DIR),
        help=f"the mock's CA, keys and store, and the logs (default {DEFAULT_STATE_DIR})",
    )
    demo.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="the mock's tenants, apps and users (TOML or JSON, as `mock-entra serve --config`); "
        "the app signs in with the first app of the first tenant",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `entra-lab` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    ports = (args.mock_port, args.app_port, args.managed_identity_port)
    if len(set(ports)) < len(ports):
        parser.error("--mock-port, --app-port and --managed-identity-port must differ")
    if os.name != "posix":
        # Process groups and gunicorn: POSIX only (use WSL on Windows).
        print("entra-lab: `demo` needs Linux or macOS (on Windows, use WSL).", file=sys.stderr)
        return 2
    # The demo runs `client-app`: said here, before the mock starts, not in the app's log. Asked
    # of the app's package in a process of its own, as the launcher runs the app.
    check = subprocess.run(
        [sys.executable, "-m", "client_app.extra", "entra-lab demo", "app"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        print(check.stderr.strip() or "entra-lab demo: the app cannot start", file=sys.stderr)
        return 2
    # Imported here so `--help` does not pay for the mock's imports.
    from entra_lab.demo import DemoOptions, run_demo

    options = DemoOptions(
        args.mock_port,
        args.app_port,
        args.state_dir,
        config_file=args.config,
        managed_identity_port=args.managed_identity_port,
        secretless=args.secretless,
    )
    return run_demo(options)


if __name__ == "__main__":
    sys.exit(main())
