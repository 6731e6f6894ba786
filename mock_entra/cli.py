"""`mock-entra serve` and `mock-entra info --json`."""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from mock_entra.core.config import DEFAULT_CONFIG, ConfigError, MockConfig, load_config
from mock_entra.core.pki import ensure_state
from mock_entra.server import ServeOptions, info, public_host, serve

DEFAULT_STATE_DIR = ".mock-entra"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=os.environ.get("MOCK_ENTRA_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("MOCK_ENTRA_PORT", 8443)),
        help="HTTPS port (default 8443)",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("MOCK_ENTRA_CONFIG"),
        help="TOML or JSON file with tenants, apps and users (default: the embedded demo tenant)",
    )
    parser.add_argument(
        "--state-dir",
        default=os.environ.get("MOCK_ENTRA_STATE_DIR", DEFAULT_STATE_DIR),
        help="where the CA, TLS and signing keys and the store are kept "
        f"(default {DEFAULT_STATE_DIR})",
    )
    parser.add_argument(
        "--admin-key",
        default=os.environ.get("MOCK_ENTRA_ADMIN_KEY") or None,
        help="turn the admin API on, protected by this key (default: off)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-entra", description="A local Microsoft Entra ID v2.0 mock."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the mock over HTTPS")
    _common(s)
    s.add_argument("--workers", type=int, default=int(os.environ.get("MOCK_ENTRA_WORKERS", 2)))
    s.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("MOCK_ENTRA_THREADS", 1)),
        help="server threads per worker (default 1: the Python work is CPU-bound)",
    )
    s.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="log one line per request to stderr, secrets redacted (default: off)",
    )
    i = sub.add_parser("info", help="print what a client needs to use the mock")
    _common(i)
    i.add_argument("--json", action="store_true", help="one JSON object (the only format)")
    return parser


def _config(path: str | None) -> MockConfig:
    return DEFAULT_CONFIG if not path else load_config(path)


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _build_app(
    config: MockConfig, state_dir: Path, admin_key: str | None, access_log: bool = False
) -> Any:
    """What `mock-entra serve` runs: the mock (`wsgi.create_app`, as everywhere) for granian's
    RSGI interface, request bodies read in full before the app sees them."""
    # Imported here: `info` should not pay for the web layer.
    from mock_entra.web.rsgi import BufferedWSGI
    from mock_entra.web.wsgi import create_app

    mock = create_app(config, state_dir=state_dir, admin_key=admin_key, access_log=access_log)
    return BufferedWSGI(mock)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = _config(args.config)
    except ConfigError as exc:
        print(f"mock-entra: config error: {exc}", file=sys.stderr)
        return 2
    paths = ensure_state(Path(args.state_dir))
    base_url = f"https://{public_host(args.host)}:{args.port}"
    if args.command == "info":
        print(json.dumps(info(config, paths, base_url, args.admin_key), indent=2))
        return 0
    if not _port_free(args.host, args.port):
        print(
            f"mock-entra: port {args.port} on {args.host} is already in use. "
            "Choose another port with --port.",
            file=sys.stderr,
        )
        return 1
    tenant = config.default_tenant
    print(
        f"mock-entra: serving https on {base_url} (authority {base_url}/{tenant.tenant_id},"
        f" CA {paths.ca_cert})",
        file=sys.stderr,
        flush=True,
    )
    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        access_log=args.access_log,
    )
    # A partial of a module-level function: it pickles, should workers be spawned.
    build = functools.partial(_build_app, config, paths.root, args.admin_key, args.access_log)
    try:
        serve(build, paths, options)
    except OSError as exc:
        print(
            f"mock-entra: cannot listen on {args.host}:{args.port}: {exc.strerror}. "
            "Choose another port with --port.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
