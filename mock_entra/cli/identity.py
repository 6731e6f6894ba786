"""`serve --managed-identity-port`: the managed identity endpoints in a process of their own."""

from __future__ import annotations

import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from mock_entra.core.config import MockConfig
from mock_entra.core.pki.state import StateDirError
from mock_entra.core.store.backend import StoreError
from mock_entra.core.store.location import StoreLocation
from mock_entra.server import exit_with_parent


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


def stop_process(process: BaseProcess) -> None:
    if process.is_alive():
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
