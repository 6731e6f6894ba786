"""`mock-entra serve`, `mock-entra info [--json] [--check]` and `mock-entra config --defaults`.

Exit codes: 0 fine; 1 the server cannot listen, or `info --check` finds none running; 2 a
usage, config or state-dir problem (one message on stderr).
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

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
from mock_entra.server import ServeOptions, exit_with_parent, public_host, serve
from mock_entra.web.hosts import Hosts, PublicUrlError, parse_public_url

DEFAULT_STATE_DIR = ".mock-entra"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
DEFAULT_WORKERS = ServeOptions.workers
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
    from mock_entra.core.config import config_to_dict
    from mock_entra.core.config.load import config_to_toml

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


@dataclass(frozen=True)
class ManagedIdentityOptions:
    """`serve --managed-identity-port`: where the managed identity endpoints listen (plain
    HTTP, `web.managed_identity`) and the `X-IDENTITY-HEADER` they want."""

    host: str
    port: int
    identity_header: str
    store: StoreLocation = field(default_factory=StoreLocation)  # the HTTPS mock's


def start_managed_identity(
    config: MockConfig,
    state_root: Path,
    admin_key: str | None,
    options: ManagedIdentityOptions,
    base_url: str,
) -> BaseProcess:
    """The managed identity endpoints in a process of their own (granian serves one app,
    over TLS), on the same state dir (keys, store, clock) as the HTTPS mock. The port is
    bound here, before the fork: a taken port is an `OSError` now, not a dead child later."""
    from mock_entra.web.managed_identity import make_managed_identity_server

    server = make_managed_identity_server(None, options.host, options.port)
    # fork: the child inherits the bound socket; nothing else runs threads yet.
    context = multiprocessing.get_context("fork")
    process = context.Process(
        target=_run_managed_identity,
        args=(
            server,
            config,
            state_root,
            admin_key,
            options.identity_header,
            base_url,
            os.getpid(),
            options.store,
        ),
        name="mock-entra-managed-identity",
        daemon=True,
    )
    process.start()
    server.server_close()  # the child has it
    return process


def _run_managed_identity(
    server: Any,
    config: MockConfig,
    state_root: Path,
    admin_key: str | None,
    header: str,
    base_url: str,
    parent: int,
    store: StoreLocation,
) -> None:
    from mock_entra.core.runtime import open_runtime
    from mock_entra.web.managed_identity import ManagedIdentityApp

    exit_with_parent(parent)
    for signum in (signal.SIGINT, signal.SIGTERM):  # a terminal's Ctrl-C: the parent stops us
        signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.SIG_IGN)
    try:
        runtime = open_runtime(config, state_dir=state_root, admin_key=admin_key, store=store)
    except (StateDirError, StoreError):
        # The parent opens the same store and says why in one line; no second report here.
        os._exit(2)
    server.set_app(ManagedIdentityApp(runtime, identity_header=header, base_url=base_url))
    server.serve_forever()


def _announce_both(announce: Callable[[], None], line: str) -> None:
    announce()
    print(line, file=sys.stderr, flush=True)


def stop_process(process: BaseProcess) -> None:
    if process.is_alive():
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


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
