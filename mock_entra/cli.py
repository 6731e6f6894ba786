"""`mock-entra serve`, `mock-entra info [--json] [--check]` and `mock-entra config --defaults`.

Exit codes: 0 fine; 1 the server cannot listen, or `info --check` finds none running; 2 a
usage, config or state-dir problem (one message on stderr).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from mock_entra.core.config import DEFAULT_CONFIG, ConfigError, MockConfig, load_config
from mock_entra.core.pki import StateDirError, ensure_state
from mock_entra.info import find_state, info, server_status, summary_text
from mock_entra.server import ServeOptions, public_host, serve

DEFAULT_STATE_DIR = ".mock-entra"
DISTRIBUTION = "entra-lab"


class VersionAction(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any):
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(DISTRIBUTION)
        except PackageNotFoundError:
            found = "(not installed)"
        sys.stdout.write(f"{parser.prog} {found}\n")  # stdout, as argparse's own `version`
        parser.exit()


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
    parser.add_argument("--version", action=VersionAction)
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
    i = sub.add_parser(
        "info",
        help="print what a client needs to use the mock, and whether it is running",
        description="Read the state dir that `mock-entra serve` made (never create one) and "
        "print the authority, client, users and CA, and whether the server answers.",
    )
    _common(i)
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
    c.add_argument("--config", default=os.environ.get("MOCK_ENTRA_CONFIG"), help="a config file")
    c.add_argument("--json", action="store_true", help="JSON instead of TOML")
    return parser


def _config(path: str | None) -> MockConfig:
    return DEFAULT_CONFIG if not path else load_config(path)


def _print_config(args: argparse.Namespace) -> int:
    from mock_entra.core.config import config_to_dict
    from mock_entra.core.config_load import config_to_toml

    config = DEFAULT_CONFIG if args.defaults else _config(args.config)
    if args.json:
        print(json.dumps(config_to_dict(config), indent=2))
        return 0
    what = "the embedded defaults" if args.defaults or not args.config else args.config
    header = (
        f"mock-entra config: {what}, as a file for `mock-entra serve --config FILE`.\n"
        'To add to the defaults instead of replacing them, start a file with extends = "defaults"\n'
        "and list only what you add or change (docs/configuration.md)."
    )
    sys.stdout.write(config_to_toml(config, header=header))
    return 0


def _info(args: argparse.Namespace, config: MockConfig) -> int:
    deadline = time.monotonic() + max(args.wait, 0.0)
    state = Path(args.state_dir)
    paths = find_state(state)
    while paths is None and time.monotonic() < deadline:
        time.sleep(0.1)
        paths = find_state(state)
    if paths is None:
        print(
            f"mock-entra: no mock state in {state.resolve()}: start `mock-entra serve` first "
            "or pass --state-dir",
            file=sys.stderr,
        )
        return 2
    base_url = f"https://{public_host(args.host)}:{args.port}"
    tenant_id = config.default_tenant.tenant_id
    status = server_status(base_url, tenant_id, paths.ca_cert)
    while args.check and not status.running and time.monotonic() < deadline:
        time.sleep(0.2)
        status = server_status(base_url, tenant_id, paths.ca_cert)
    data = info(config, paths, base_url, args.admin_key)
    if args.json:
        print(json.dumps({**data, "server_running": status.running}, indent=2))
    else:
        print(summary_text(data, status, paths.root))
    return 1 if args.check and not status.running else 0


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
        if args.command == "config":
            return _print_config(args)
        config = _config(args.config)
    except ConfigError as exc:
        print(f"mock-entra: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "info":
        return _info(args, config)
    try:
        return _serve(args, config)
    except StateDirError as exc:  # not a directory, read-only, full, damaged
        print(f"mock-entra: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace, config: MockConfig) -> int:
    paths = ensure_state(Path(args.state_dir))
    base_url = f"https://{public_host(args.host)}:{args.port}"
    if not _port_free(args.host, args.port):
        print(
            f"mock-entra: port {args.port} on {args.host} is already in use. "
            "Choose another port with --port.",
            file=sys.stderr,
        )
        return 1
    tenant = config.default_tenant
    announce = functools.partial(
        print,
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
    build = functools.partial(_build_app, config, paths.root, args.admin_key, options.access_log)
    try:
        serve(build, paths, options, announce)  # opens the store: maybe `StateDirError`
    except StateDirError:
        raise
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
