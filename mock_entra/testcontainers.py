"""The mock-only image in a test, in one line: a testcontainers-python module.

    from mock_entra.testcontainers import MockEntraContainer

    with MockEntraContainer(image="mock-entra:local", config=my_config) as mock:
        info = mock.info()  # what `mock-entra info --json` gives, as this machine reaches it
        app = msal.ConfidentialClientApplication(
            info["client_id"], client_credential=info["client_secret"],
            authority=info["authority"], verify=info["ca_file"],
        )

Needs the `testcontainers` extra (`pip install 'entra-lab[testcontainers]'`) and the image
the Dockerfile's `mock` target builds (`docker compose --profile mock build mock`, or
`docker build --target mock -t mock-entra:local .`); docs/containers.md.

How the URLs come out right: the mock builds every URL it hands out (authority, issuer,
endpoints in discovery) from the URL its clients use, so it must know the host port before it
starts. The container's 8443 is published on a free port of this machine's 127.0.0.1, chosen
here, and the mock is started with `MOCK_ENTRA_PUBLIC_URL=https://localhost:<that port>`
(a port taken meanwhile by someone else: the next free one is tried). Its TLS certificate names
`localhost`, so the engine must publish ports on this machine (a local engine, not a remote
`DOCKER_HOST`).

Ready means: `mock-entra info --check` answers inside the container (its discovery, over TLS,
for this config), and the same document answers here through the published port, verified
with the container's CA, which `info()` hands over as a file on this machine.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from testcontainers.core.container import DockerContainer

from mock_entra.core.config import MockConfig, config_text_format, config_to_dict
from mock_entra.info import server_status
from mock_entra.ports import free_port

DEFAULT_IMAGE = "mock-entra:local"  # what `docker compose --profile mock build mock` tags
CONTAINER_PORT = 8443  # the image's MOCK_ENTRA_PORT
CA_PATH = "/ca.pem"  # the image's link to its state dir's CA
START_TIMEOUT = 60.0  # seconds: a cold start makes a CA and keys first
PORT_ATTEMPTS = 3
# One environment variable holds at most 128 KiB on Linux (MAX_ARG_STRLEN); a larger config
# is better mounted as a file (with_volume_mapping + MOCK_ENTRA_CONFIG=/path).
MAX_CONFIG_TEXT = 128 * 1024 - 64


class MockEntraStartError(RuntimeError):
    """The container did not become a serving mock; the message carries its last log lines."""


def config_text(config: MockConfig | Mapping[str, Any] | str | Path) -> str:
    """The text MOCK_ENTRA_CONFIG carries for `config`: a `MockConfig` or a dict of the file
    schema as JSON; a `Path` (a file on this machine) or a `str` of TOML or JSON as it is, a
    line break added where one is needed for it to read as text (`config_text_format`)."""
    if isinstance(config, MockConfig):
        text = json.dumps(config_to_dict(config))
    elif isinstance(config, Mapping):
        text = json.dumps(config)
    elif isinstance(config, Path):
        text = config.read_text(encoding="utf-8")
    else:
        text = config
    if config_text_format(text) is None:
        text += "\n"  # one line of TOML: still text, never taken for a path in the container
    if len(text.encode()) > MAX_CONFIG_TEXT:
        raise ValueError(
            f"the config is {len(text.encode()) // 1024} KiB, more than an environment variable "
            "holds: mount it as a file (with_volume_mapping) and set MOCK_ENTRA_CONFIG to its path"
        )
    return text


class MockEntraContainer(DockerContainer):
    """The mock Entra ID in a container, serving `config` (default: the embedded demo tenant)
    on a published port of 127.0.0.1. `info()` is `mock-entra info --json` with this machine's
    URLs and CA files; `admin_key` turns the admin API on (docs/reference.md)."""

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        config: MockConfig | Mapping[str, Any] | str | Path | None = None,
        *,
        admin_key: str | None = None,
        start_timeout: float = START_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(image, **kwargs)
        self.start_timeout = start_timeout
        self.host_port = 0
        self._info: dict[str, Any] | None = None
        self._files = tempfile.TemporaryDirectory(prefix="mock-entra-ca-")
        if config is not None:
            self.with_env("MOCK_ENTRA_CONFIG", config_text(config))
        if admin_key is not None:
            self.with_env("MOCK_ENTRA_ADMIN_KEY", admin_key)

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.host_port}"

    def start(self) -> MockEntraContainer:
        for attempt in range(PORT_ATTEMPTS):
            self.host_port = free_port()
            # Bound to loopback: the mock's users and secrets are for this machine only.
            self.ports[f"{CONTAINER_PORT}/tcp"] = ("127.0.0.1", self.host_port)  # type: ignore[assignment]
            self.with_env("MOCK_ENTRA_PUBLIC_URL", self.base_url)
            try:
                super().start()
                break
            except Exception as exc:  # docker's APIError: the port was taken meanwhile
                if attempt == PORT_ATTEMPTS - 1 or "allocated" not in str(exc).lower():
                    raise
                self._remove_quietly()
        self._info = self._wait_ready()
        return self

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        try:
            super().stop(force=force, delete_volume=delete_volume)
        finally:
            self._files.cleanup()

    def info(self) -> dict[str, Any]:
        """What `mock-entra info --json` says, with `ca_file` and `ca_bundle` as files on this
        machine and every URL under `https://localhost:<host port>`."""
        if self._info is None:
            raise RuntimeError("the container is not started: use it as a context manager")
        return dict(self._info)

    # --- readiness ----------------------------------------------------------------------------

    def _wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.start_timeout
        wait = f"{self.start_timeout:g}"
        # Inside: waits for the state dir and for the server to answer (one exec, not a poll).
        code, out = self._run(["mock-entra", "info", "--json", "--check", "--wait", wait])
        if code != 0:
            raise self._start_error("`mock-entra info --check` in the container failed")
        data = json.loads(out)
        data["ca_file"] = self._copy_out(data["ca_file"], "ca.pem")
        data["ca_bundle"] = self._copy_out(data["ca_bundle"], "ca-bundle.pem")
        tenant = data["tenant_id"]
        while True:  # and here, through the published port, with the container's CA
            status = server_status(self.base_url, tenant, Path(data["ca_file"]))
            if status.running:
                break
            if time.monotonic() > deadline:
                raise self._start_error(f"not reachable from this machine: {status.detail}")
            time.sleep(0.2)
        data["server_running"] = True
        return data

    def _copy_out(self, path: str, name: str) -> str:
        code, out = self._run(["cat", path])
        if code != 0:
            raise self._start_error(f"cannot read {path} in the container")
        target = Path(self._files.name) / name
        target.write_bytes(out)
        return str(target)

    def _run(self, argv: list[str]) -> tuple[int, bytes]:
        """A command in the container: its exit code and its stdout alone (stderr apart)."""
        done = self.get_wrapped_container().exec_run(argv, demux=True)
        stdout, _ = done.output
        return done.exit_code, stdout or b""

    def _start_error(self, what: str) -> MockEntraStartError:
        try:
            stdout, stderr = self.get_logs()
            logs = (stdout + stderr).decode(errors="replace")[-2000:]
        except Exception:  # the container may be gone already
            logs = "(no logs)"
        return MockEntraStartError(f"mock-entra container {self.image}: {what}\n{logs}")

    def _remove_quietly(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):  # already gone
                self._container.remove(force=True)
            self._container = None
