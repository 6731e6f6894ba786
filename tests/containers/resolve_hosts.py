"""A pytest plugin (`-p tests.containers.resolve_hosts`) for the simulated App Service run:
the suites' own HTTP calls (requests, the TLS pin check) reach `<app>.azurewebsites.net:443`
at the local TLS front end, as the browser does through Chromium's `--host-resolver-rules`.

`ENTRA_LAB_RESOLVE` holds `host:port=ip:port` pairs separated by `;`. Only those exact host
and port pairs are rewritten; every other name resolves as usual. This stands in for DNS,
nothing else: TLS still verifies the certificate for the real host name.
"""

from __future__ import annotations

import os
import socket
from typing import Any

ENV = "ENTRA_LAB_RESOLVE"


def parse(value: str) -> dict[tuple[str, int], tuple[str, int]]:
    """`a.example:443=127.0.0.1:8443;...` as {(host, port): (ip, port)}."""
    rules = {}
    for pair in filter(None, value.split(";")):
        name, _, address = pair.partition("=")
        host, _, port = name.rpartition(":")
        ip, _, target_port = address.rpartition(":")
        rules[(host.lower(), int(port))] = (ip, int(target_port))
    return rules


def install(rules: dict[tuple[str, int], tuple[str, int]]) -> None:
    """Wrap `socket.getaddrinfo` so the mapped (host, port) pairs resolve to their targets."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str):
            try:
                target = rules.get((host.lower(), int(port or 0)))
            except (TypeError, ValueError):
                target = None
            if target is not None:
                return original(target[0], target[1], *args, **kwargs)
        return original(host, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def pytest_configure() -> None:
    rules = parse(os.environ.get(ENV, ""))
    if rules:
        install(rules)
