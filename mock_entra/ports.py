"""A free TCP port, for starting a server on an ephemeral port: the repository's one helper
(the mock's `MockEntra.start`, the conformance stack, the tests and the benchmarks use it)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (the OS picks it). Another process may take
    it before the caller binds it: a server started on it should retry (`MockEntra.start` does)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
