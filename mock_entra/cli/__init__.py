"""`mock-entra serve`, `mock-entra info [--json] [--check]` and `mock-entra config --defaults`.

Exit codes: 0 fine; 1 the server cannot listen, or `info --check` finds none running; 2 a
usage, config or state-dir problem (one message on stderr).

The commands' options are `cli.parser`'s; the managed identity process `cli.identity`'s.
"""

from __future__ import annotations

import argparse
import functools
import json
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_entra.cli.identity import ManagedIdentityOptions, start_managed_identity, stop_process
from mock_entra.cli.parser import DEFAULT_HOST, DEFAULT_PORT, build_parser
from mock_entra.core.config import (
    DEFAULT_CONFIG,
    ConfigError,
    MockConfig,
    config_text_format,
    load_config_value,
)
from mock_entra.core.pki.state import StateDirError, StatePaths, ensure_state, write_atomic
from mock_entra.core.store.backend import StoreError
from mock_entra.core.store.location import StoreLocation, StoreUrlError
from mock_entra.info import (
    ManagedIdentityInfo,
    ServerStatus,
    ServingRecord,
    find_state,
    identity_header,
    info,
    read_identity_header,
    read_serving,
    remove_serving,
    server_status,
    summary_text,
    write_serving,
)
from mock_entra.server import ServeOptions, public_host, serve
from mock_entra.web.hosts import Hosts, PublicUrlError, parse_public_url

CONFIG_TEXT_FILE = "config-from-env"  # + .toml or .json, in the state dir


def _config(value: str | None) -> MockConfig:
    """The config a --config / MOCK_ENTRA_CONFIG value gives: a file's path, or the config
    itself as text (`config_text_format`: JSON starting with `{`, or TOML on several lines)."""
    return DEFAULT_CONFIG if not value else load_config_value(value)


def _config_file(value: str | None, root: Path) -> str | None:
    """The file a config value names: its path, or, for config text, the state dir's copy of
    it that `serve` writes (so that serving.json and `info` name a file either way)."""
    if not value:
        return None
    fmt = config_text_format(value)
    return str(Path(value).resolve()) if fmt is None else str(root / f"{CONFIG_TEXT_FILE}.{fmt}")


def _print_config(args: argparse.Namespace) -> int:
    from mock_entra.core.config import config_to_dict, config_to_toml

    config = DEFAULT_CONFIG if args.defaults else _config(args.config)
    if args.json:
        print(json.dumps(config_to_dict(config), indent=2))
        return 0
    what = "the embedded defaults" if args.defaults or not args.config else args.config
    if not args.defaults and args.config and config_text_format(args.config):
        what = "the config text given"
    header = (
        f"mock-entra config: {what}, as a file for `mock-entra serve --config FILE`.\n"
        'To add to the defaults instead of replacing them, start a file with extends = "defaults"\n'
        "and list only what you add or change (docs/configuration.md)."
    )
    sys.stdout.write(config_to_toml(config, header=header))
    return 0


@dataclass(frozen=True)
class _InfoTarget:
    """The server `info` describes: its options as given, else as the running `serve`
    recorded them in the state dir (`serving.json`), else the defaults."""

    served: ServingRecord | None
    base_url: str  # where this machine reaches it
    config_file: str | None
    config: MockConfig
    public_url: str | None = None  # what clients are told, when serve has one

    @classmethod
    def of(cls, args: argparse.Namespace, paths: StatePaths) -> _InfoTarget:
        served = read_serving(paths)
        host = args.host or (served.host if served else DEFAULT_HOST)
        port = args.port or (served.port if served else DEFAULT_PORT)
        if served and (served.port != port or public_host(served.host) != public_host(host)):
            served = None  # the record is of a server elsewhere: not the one asked about
        config_file = args.config or (served.config_file if served else None)
        config = _config(config_file)  # a ConfigError is reported by `main`
        base_url = f"https://{public_host(host)}:{port}"
        public_url = args.public_url or (
            served.base_url if served and served.base_url != base_url else None
        )
        return cls(served, base_url, config_file, config, public_url)

    def status(self, paths: StatePaths) -> ServerStatus:
        return server_status(
            self.base_url,
            self.config.default_tenant.tenant_id,
            paths.ca_cert,
            public_url=self.public_url,
        )


def _info(args: argparse.Namespace) -> int:
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
    target = _InfoTarget.of(args, paths)
    status = target.status(paths)
    while args.check and not status.running and time.monotonic() < deadline:
        if status.other and (target.served or args.port):
            break  # another server answers where this one is said to be: waiting won't help
        time.sleep(0.2)
        target = _InfoTarget.of(args, paths)  # a server starting meanwhile records itself
        status = target.status(paths)
    mi_port = target.served.managed_identity_port if target.served else None
    mi_header = read_identity_header(paths.root) if mi_port else None
    managed_identity = (
        ManagedIdentityInfo.of(public_host(target.served.host), mi_port, mi_header)
        if target.served and mi_port and mi_header
        else None
    )
    data = info(
        target.config,
        paths,
        target.public_url or target.base_url,
        args.admin_key,
        config_file=_config_file(target.config_file, paths.root),
        admin_api=target.served.admin_api if target.served else None,
        managed_identity=managed_identity,
        store=args.store.shown(paths.store)
        if args.store.shared
        else (target.served.store if target.served else None),
    )
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
    config: MockConfig,
    state_dir: Path,
    admin_key: str | None,
    access_log: bool = False,
    hosts: Hosts | None = None,
    store: StoreLocation | None = None,
) -> Any:
    """What `mock-entra serve` runs: the mock (`wsgi.create_app`, as everywhere) for granian's
    RSGI interface, request bodies read in full before the app sees them."""
    # Imported here: `info` should not pay for the web layer.
    from mock_entra.web.rsgi import BufferedWSGI
    from mock_entra.web.wsgi import create_app

    mock = create_app(
        config,
        state_dir=state_dir,
        admin_key=admin_key,
        access_log=access_log,
        hosts=hosts,
        store=store,
    )
    return BufferedWSGI(mock)


def _announce_both(announce: Callable[[], None], line: str) -> None:
    announce()
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "store"):
        try:
            args.store = StoreLocation.parse(args.store)
        except StoreUrlError as exc:
            print(f"mock-entra: {exc}", file=sys.stderr)
            return 2
    if getattr(args, "public_url", None) is not None:
        try:
            args.public_url = parse_public_url(args.public_url)
        except PublicUrlError as exc:
            print(f"mock-entra: --public-url: {exc}", file=sys.stderr)
            return 2
    try:
        if args.command == "config":
            return _print_config(args)
        if args.command == "info":
            return _info(args)
        config = _config(args.config)
    except ConfigError as exc:
        print(f"mock-entra: config error: {exc}", file=sys.stderr)
        return 2
    try:
        return _serve(args, config)
    except (StateDirError, StoreError) as exc:  # not a directory, read-only, full, damaged
        print(f"mock-entra: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace, config: MockConfig) -> int:
    paths = ensure_state(Path(args.state_dir))
    config_file = _config_file(args.config, paths.root)
    fmt = config_text_format(args.config) if args.config else None
    if args.config and fmt:
        try:  # the text, kept where serving.json points, for `info` and for people
            text_file = paths.root / f"{CONFIG_TEXT_FILE}.{fmt}"
            write_atomic(text_file, args.config.encode("utf-8"), 0o600)
        except OSError as error:  # read-only, full
            raise StateDirError(paths.root, error) from error
    local_url = f"https://{public_host(args.host)}:{args.port}"
    base_url = args.public_url or local_url
    hosts = Hosts.serving(
        args.host, args.port, certificate=paths.server_cert, public_url=args.public_url
    )
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
        f"mock-entra: serving https on {local_url}"
        + (f" as {base_url}" if base_url != local_url else "")
        + f" (authority {base_url}/{tenant.tenant_id},"
        f" CA {paths.ca_cert}"
        + (f", store {args.store.shown(paths.store)}" if args.store.shared else "")
        + ")",
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
    build = functools.partial(
        _build_app, config, paths.root, args.admin_key, options.access_log, hosts, args.store
    )
    record = ServingRecord.now(
        host=args.host,
        port=args.port,
        base_url=base_url,
        config_file=config_file,
        admin_api=args.admin_key is not None,
        managed_identity_port=args.managed_identity_port,
        store=args.store.shown(paths.store) if args.store.shared else None,
    )
    try:
        write_serving(paths, record)  # for `mock-entra info`; never the admin key
    except OSError as error:  # read-only, full
        raise StateDirError(paths.root, error) from error
    # After serving.json is written: the identity process checks the state dir as it opens
    # it, and would sweep away a half-written file of ours as a stale one.
    identity = None
    if args.managed_identity_port:
        mi = ManagedIdentityOptions(
            args.host,
            args.managed_identity_port,
            identity_header(paths.root, args.managed_identity_header),
            args.store,
        )
        try:
            identity = start_managed_identity(config, paths.root, args.admin_key, mi, base_url)
        except OSError as exc:
            print(
                f"mock-entra: cannot listen on {args.host}:{args.managed_identity_port} for the "
                f"managed identity endpoints: {exc.strerror}. Choose another "
                "--managed-identity-port.",
                file=sys.stderr,
            )
            remove_serving(paths, record)
            return 1
        # Said with "serving https", once the store opened: never before a state dir error.
        announce = functools.partial(
            _announce_both,
            announce,
            f"mock-entra: managed identity endpoints on http://{public_host(args.host)}:"
            f"{args.managed_identity_port} (/msi/token, /metadata/identity/oauth2/token)",
        )
    try:
        serve(build, paths, options, announce)  # opens the store: maybe `StateDirError`
    except (StateDirError, StoreError):
        raise
    except OSError as exc:
        print(
            f"mock-entra: cannot listen on {args.host}:{args.port}: {exc.strerror}. "
            "Choose another port with --port.",
            file=sys.stderr,
        )
        return 1
    finally:
        if identity is not None:
            stop_process(identity)
        remove_serving(paths, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
