"""`entra-lab demo`: start the mock and the client app, wait until both answer, print how to
use them, and stop both (process groups included) on Ctrl-C, SIGTERM or SIGHUP, or as soon as
either one dies.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TextIO

from entra_lab.ports import next_free_port, port_problem
from entra_lab.probes import answers_200, new_session
from entra_lab.processes import Child, stop_all
from entra_lab.wiring import (
    DEFAULT_APP_PORT,
    DEFAULT_MANAGED_IDENTITY_PORT,
    DEFAULT_MOCK_PORT,
    DEFAULT_STATE_DIR,
    LOOPBACK,
    DemoPlan,
    plan_demo,
)
from mock_entra.core.config import ConfigError
from mock_entra.core.pki.state import StateDirError

READY_TIMEOUT = 30.0
POLL_SECONDS = 0.1
# SIGHUP too: closing the terminal must not orphan the servers (they are in their own
# sessions, so the terminal's hang-up reaches only the launcher).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class DemoOptions:
    """The command line of `entra-lab demo`."""

    mock_port: int = DEFAULT_MOCK_PORT
    app_port: int = DEFAULT_APP_PORT
    state_dir: Path = Path(DEFAULT_STATE_DIR)
    ready_timeout: float = READY_TIMEOUT
    config_file: Path | None = None  # the mock's config (`--config`); None: the embedded one
    managed_identity_port: int = DEFAULT_MANAGED_IDENTITY_PORT
    secretless: bool = False  # the app signs in with its managed identity (`--secretless`)

    def wiring(self) -> dict[str, Any]:
        """`plan_demo`'s arguments: every option but the launcher's own timeout."""
        options = dataclasses.asdict(self)
        del options["ready_timeout"]
        return options


class StopSignals:
    """Turns SIGINT/SIGTERM/SIGHUP into a flag that the launcher polls, so shutdown always
    runs to the end instead of being cut short by a KeyboardInterrupt at a random line."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = self.received or signum

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]  # a saved handler


class _Failed(Exception):
    """The demo cannot go on; the message says why (shown on stderr)."""


def port_errors(options: DemoOptions) -> list[str]:
    """One message per port that cannot be used, each saying how to pick another."""
    errors = []
    taken = (options.mock_port, options.app_port, options.managed_identity_port)
    for flag, port, what in (
        ("--mock-port", options.mock_port, "the mock Entra ID"),
        ("--app-port", options.app_port, "the client app"),
        (
            "--managed-identity-port",
            options.managed_identity_port,
            "the mock's managed identity endpoints",
        ),
    ):
        problem = port_problem(port)
        if problem is None:
            continue
        other = next_free_port(port, avoid=taken)
        hint = f", e.g. `uv run entra-lab demo {flag} {other}`" if other else ""
        errors.append(
            f"entra-lab: port {port} ({what}) {problem} on localhost. "
            f"Choose another one with {flag}{hint}."
        )
    return errors


def run_demo(options: DemoOptions, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the demo until a stop signal (exit 0) or a failure (exit 1; 2 for a config error).
    `out`/`err` default to the streams of the moment of the call (not of the import)."""
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    with StopSignals() as signals:
        errors = port_errors(options)
        if errors:
            print("\n".join(errors), file=err)
            return 1
        try:
            try:
                plan = plan_demo(**options.wiring())
            except ConfigError as error:
                print(f"entra-lab: config error: {error}", file=err, flush=True)
                return 2
            except StateDirError as error:  # says which dir and why, in one line
                raise _Failed(str(error)) from None
            except OSError as error:
                raise _Failed(
                    f"cannot prepare the state dir {options.state_dir}: {error}"
                ) from None
            _run(plan, options, signals, out, started)
        except (_Failed, OSError) as failure:
            print(f"entra-lab: {failure}", file=err, flush=True)
            return 1
    print("entra-lab: stopped.", file=out, flush=True)
    return 0


def _run(
    plan: DemoPlan, options: DemoOptions, signals: StopSignals, out: TextIO, started: float
) -> None:
    """Start both services, wait until they answer, print the banner and supervise them until
    a stop signal; whatever happens, stop both before returning or raising."""
    children: list[Child] = []
    try:
        # The app needs only the CA bundle (plan_demo wrote it) to start, not a running mock:
        # start both at once and wait for both.
        for name, argv, env in (
            ("mock-entra", plan.mock_argv, plan.mock_env),
            ("client-app", plan.app_argv, plan.app_env),
        ):
            children.append(Child.start(name, argv, env, plan.log_dir / f"{name}.log"))
        _wait_ready(plan, options, children, signals)
        if signals.received is None:
            print(_banner(plan, time.monotonic() - started), file=out, flush=True)
            _supervise(children, signals)
    finally:
        if signals.received is not None:
            name = signal.Signals(signals.received).name
            print(f"entra-lab: {name}: stopping...", file=out, flush=True)
        stop_all(children)


def _wait_ready(
    plan: DemoPlan, options: DemoOptions, children: Sequence[Child], signals: StopSignals
) -> None:
    """Poll both services until they answer; raise `_Failed` if one exits or time runs out."""
    mock_child, app_child = children
    pending = {
        mock_child.name: (plan.discovery_url, plan.info["ca_file"]),
        app_child.name: (f"http://{LOOPBACK}:{options.app_port}/healthz", True),
    }
    deadline = time.monotonic() + options.ready_timeout
    with new_session() as session:
        while pending and signals.received is None:
            _check_alive(children)
            for child in children:
                if child.name in pending:
                    url, verify = pending[child.name]
                    if answers_200(session, url, verify=verify):
                        del pending[child.name]
            if pending and time.monotonic() > deadline:
                name = next(iter(pending))
                child = next(c for c in children if c.name == name)
                raise _Failed(
                    f"{name} did not answer {pending[name][0]} within "
                    f"{options.ready_timeout:.0f}s. Its output ({child.log_path}):\n"
                    f"{child.log_tail()}"
                )
            if pending:
                time.sleep(POLL_SECONDS)


def _supervise(children: Sequence[Child], signals: StopSignals) -> None:
    """Block until a stop signal; raise `_Failed` as soon as a service exits by itself."""
    while signals.received is None:
        _check_alive(children)
        time.sleep(POLL_SECONDS)


def _check_alive(children: Sequence[Child]) -> None:
    for child in children:
        code = child.poll()
        if code is not None:
            others = ", ".join(c.name for c in children if c is not child)
            raise _Failed(
                f"{child.name} exited with code {code}; stopping {others}. "
                f"Its output ({child.log_path}):\n{child.log_tail()}"
            )


def _banner(plan: DemoPlan, seconds: float) -> str:
    """What a person needs: the URL to open, where sign-in happens, who to sign in as."""
    info = plan.info
    users = info["users"]
    width = max(len(f"{u['username']} / {u['password']}") for u in users)
    sign_in = [f"{u['username']} / {u['password']}".ljust(width) + f"   ({u['display_name']})"
               for u in users]  # fmt: skip
    return "\n".join(
        [
            f"entra-lab demo is ready in {seconds:.1f}s",
            f"  app:        {plan.app_url}",
            f"  authority:  {plan.mock_authority}",
            f"  sign in as: {sign_in[0]}",
            *(f"              {line}" for line in sign_in[1:]),
            *_identity_lines(plan),
            f"  mock CA:    {info['ca_file']}",
            f"              (browsers warn once about {info['base_url']}: accept, or import it)",
            f"  logs:       {plan.log_dir}",
            "Ctrl-C stops everything.",
        ]
    )


def _identity_lines(plan: DemoPlan) -> list[str]:
    """Where code gets managed identity tokens (the header: `mock-entra info --json`), and
    how the app authenticates."""
    identity = plan.info.get("managed_identity")
    if not identity:
        return []
    if plan.secretless:
        client_id = plan.app_settings["MANAGED_IDENTITY_CLIENT_ID"]
        how = f"secretless: the token of managed identity {client_id}"
    else:
        how = "client secret (--secretless: its managed identity's token instead)"
    return [
        f"  identity:   {identity['identity_endpoint']} (IMDS: {identity['imds_host']})",
        f"  app auth:   {how}",
    ]
