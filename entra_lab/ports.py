"""Is a local TCP port free? Checked on both loopback addresses the demo's URLs may reach."""

from __future__ import annotations

import errno
import socket

# The demo's URLs say "localhost", which a browser may resolve to ::1 before 127.0.0.1: a
# server already on [::1]:PORT (macOS AirPlay on *:5000, say) would answer instead of ours.
LOOPBACKS = ("127.0.0.1", "::1")


def port_problem(port: int, hosts: tuple[str, ...] = LOOPBACKS) -> str | None:
    """Why `port` cannot be used on `hosts` ("is already in use", ...), or None if it can.

    Binds with SO_REUSEADDR, as gunicorn does, so a port in TIME_WAIT counts as free. An
    address this machine lacks (no IPv6) is skipped: nothing can listen there either.
    """
    for host in hosts:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return "is already in use"
                if error.errno == errno.EACCES:
                    return "needs privileges to listen on"
    return None


def next_free_port(after: int, *, avoid: tuple[int, ...] = (), tries: int = 50) -> int | None:
    """The first free port above `after` (skipping `avoid`), to suggest in an error message."""
    for port in range(after + 1, min(after + 1 + tries, 65536)):
        if port not in avoid and port_problem(port) is None:
            return port
    return None
