"""Load and hardening figures for the README's "Limits and hardening" (a script, not a test).

    uv run python bench/hardening.py [--duration 10] [--connections 500] [--json out.json]

Runs `mock-entra serve` and `client-app` as users run them, on this machine (the load
generator shares its cores), and prints Markdown tables:

- load: `--connections` connections for `--duration` seconds each on the mock's discovery
  document, its token endpoint (client credentials: a freshly signed JWT each) and its sign-in
  page (an authorize request: each one starts an unfinished sign-in in the store);
- memory: RSS summed over the mock's master and workers, idle and after 40,000 token requests
  (and after the load above);
- store: the size of the mock's store files after the load, after the purge (a restart purges
  at start), and their permissions;
- slow clients: sockets that send a request body or headers at one byte a second, held open
  while a normal request is timed, against the mock and against the app's `/healthz`.

Load comes from wrk (Debian: `apt-get install wrk`); without it, a Python generator is used
(said in the output: its figures are bounded by the generator, not the server).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
from bench_mock import wrk_percentile_ms  # this folder: the scripts run as `python bench/...`

from client_app.settings import ENV_VARIABLES
from mock_entra.ports import free_port
from mock_entra.processes import terminate

RSS_REQUESTS = 40_000
# Slow clients: one byte a second, as a slowloris or a bad mobile link would.
DRIP_SECONDS = 1.0
# A request that takes longer than this while slow clients are connected counts as stalled.
STALL_SECONDS = 1.0
PROBE_TIMEOUT = 10.0


# -- processes ---------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (Linux /proc)."""
    pids = [pid]
    for parent in pids:  # grows while walking
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(child) for child in children.read_text().split()]
    return pids


def rss_mib(pid: int) -> float:
    """Resident memory summed over a process tree (shared pages counted in each process)."""
    total_kib = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{member}/status").read_text())
            total_kib += int(found.group(1)) if found else 0
    return round(total_kib / 1024, 1)


@dataclass
class Server:
    """A server process started by this script, with its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        terminate(self.process)

    def wait_ready(self, url: str, verify: str | bool, timeout: float = 60) -> None:
        """Poll `url` until 200; exit with the log's tail if the process dies or hangs."""
        deadline = time.monotonic() + timeout
        with requests.Session() as http:
            http.trust_env = False
            while True:
                with contextlib.suppress(requests.RequestException):
                    if http.get(url, verify=verify, timeout=2).status_code == 200:
                        return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = self.log.read_text(errors="replace")[-3000:]
                    self.stop()
                    raise SystemExit(f"{self.name} did not come up ({url}):\n{tail}")
                time.sleep(0.05)


def spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Server:
    """Start `argv` with its output in `workdir/<name>.log`."""
    log = workdir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, process, log)


@dataclass(frozen=True)
class Mock:
    """What the script needs to know about the running mock (from `mock-entra info --json`)."""

    base_url: str
    authority: str
    ca_file: str
    ca_bundle: str
    tenant_id: str
    client_id: str
    client_secret: str
    redirect_uri: str
    graph_endpoint: str

    @property
    def discovery_url(self) -> str:
        return f"{self.authority}/v2.0/.well-known/openid-configuration"

    @property
    def token_url(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    @property
    def token_body(self) -> str:
        return urlencode(
            {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "client_credentials",
                "scope": "https://graph.microsoft.com/.default",
            }
        )

    @property
    def sign_in_url(self) -> str:
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile User.Read",
            "state": "bench",
            "nonce": "bench",
        }
        return f"{self.authority}/oauth2/v2.0/authorize?{urlencode(query)}"


def mock_command(state: Path, port: int, workers: int, *more: str) -> list[str]:
    """`mock-entra <command>` for the bench's state dir and port."""
    command, *rest = more
    serve_only = ["--workers", str(workers)] if command == "serve" else []
    return [sys.executable, "-m", "mock_entra", command, "--port", str(port),
            "--state-dir", str(state), *serve_only, *rest]  # fmt: skip


def start_mock(state: Path, port: int, workers: int, workdir: Path) -> tuple[Server, Mock]:
    """`mock-entra serve` (admin API off, as users run it), ready, and its `info --json`."""
    env = {k: v for k, v in os.environ.items() if k != "MOCK_ENTRA_ADMIN_KEY"}
    server = spawn("mock-entra", mock_command(state, port, workers, "serve"), env, workdir)
    ca = state / "ca.pem"
    deadline = time.monotonic() + 60
    while not ca.exists() and time.monotonic() < deadline and server.process.poll() is None:
        time.sleep(0.05)
    info = json.loads(
        subprocess.check_output(mock_command(state, port, workers, "info", "--json"), env=env)
    )
    mock = Mock(
        base_url=info["base_url"],
        authority=info["authority"],
        ca_file=info["ca_file"],
        ca_bundle=info["ca_bundle"],
        tenant_id=info["tenant_id"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        redirect_uri=info["redirect_uris"][0],
        graph_endpoint=info["graph_endpoint"],
    )
    server.wait_ready(mock.discovery_url, mock.ca_file)
    return server, mock


def start_app(mock: Mock, port: int, workdir: Path) -> tuple[Server, str]:
    """`client-app` (gunicorn, `client_app.gunicorn_conf`) against the mock; its base URL."""
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARIABLES}
    env |= {
        "TENANT_ID": mock.tenant_id,
        "CLIENT_ID": mock.client_id,
        "CLIENT_SECRET": mock.client_secret,
        "AUTHORITY": mock.authority,
        "REDIRECT_URI": f"{base}/getAToken",
        "GRAPH_ENDPOINT": mock.graph_endpoint,
        "CA_BUNDLE": mock.ca_bundle,
        "APP_ENV": "development",
        "SESSION_DIR": str(workdir / "app-sessions"),
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "client_app.cli", "--host", "127.0.0.1", "--port", str(port)]
    server = spawn("client-app", argv, env, workdir)
    server.wait_ready(f"{base}/healthz", False)
    return server, base


# -- load --------------------------------------------------------------------------------------


@dataclass
class Load:
    """One load run: what was asked for and what came back."""

    name: str
    connections: int
    seconds: float
    requests: int
    requests_per_s: int
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    generator: str


def wrk_script(method: str, body: str | None) -> str:
    """A wrk Lua script setting the method and the form body."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines += [
            f'wrk.body = "{body}"',
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class LoadRun:
    """One load run's request and its weight: `run_load`'s arguments, for either generator."""

    name: str
    url: str
    connections: int
    seconds: float
    ca: str  # the CA bundle the Python generator verifies with (wrk does not verify)
    body: str | None = None  # a form to POST; None: GET


def run_wrk(run: LoadRun) -> Load:
    """Load `url` with wrk (two threads, the cores this machine has)."""
    url, connections, seconds, body = run.url, run.connections, run.seconds, run.body
    threads = 2
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script("POST" if body else "GET", body))
    try:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s"]
        command += ["--timeout", "10s", "--latency", "-s", script.name, url]
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)

    def ms(label: str) -> float:
        return round(wrk_percentile_ms(out, label), 1)

    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s)", out)
    assert total, out
    elapsed = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        name=run.name,
        connections=connections,
        seconds=round(elapsed, 1),
        requests=int(total.group(1)),
        requests_per_s=round(int(total.group(1)) / elapsed),
        p50_ms=ms("50"),
        p99_ms=ms("99"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        generator="wrk",
    )


def run_python(run: LoadRun) -> Load:
    """The fallback generator: one keep-alive connection per thread (bounded by the GIL)."""
    url, connections, seconds, ca, body = run.url, run.connections, run.seconds, run.ca, run.body
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    context = ssl.create_default_context(cafile=ca)
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}

    def worker() -> None:
        mine: list[float] = []
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=10)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("POST" if body else "GET", target, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPSConnection(
                    parts.hostname, parts.port, context=context, timeout=10
                )
                with lock:
                    counts["errors"] += 1
                continue
            mine.append(time.perf_counter() - started)
            if status >= 400:
                with lock:
                    counts["non_2xx"] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    began = time.perf_counter()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return Load(
        name=run.name,
        connections=connections,
        seconds=round(elapsed, 1),
        requests=len(latencies),
        requests_per_s=round(len(latencies) / elapsed),
        p50_ms=pct(0.5),
        p99_ms=pct(0.99),
        non_2xx=counts["non_2xx"],
        socket_errors=counts["errors"],
        generator="python",
    )


def run_load(
    name: str,
    url: str,
    *,
    connections: int,
    seconds: float,
    ca: str,
    body: str | None = None,
) -> Load:
    """wrk when installed, else the Python generator."""
    run = LoadRun(name, url, connections, seconds, ca, body)
    return run_wrk(run) if shutil.which("wrk") else run_python(run)


def settle(url: str, verify: str | bool, timeout: float = 60) -> float:
    """Wait until `url` answers within 0.2 s (the server has worked off what the last run left
    queued), so that one run's backlog does not count against the next; returns the wait."""
    began = time.monotonic()
    with requests.Session() as http:
        http.trust_env = False
        while time.monotonic() - began < timeout:
            started = time.monotonic()
            with contextlib.suppress(requests.RequestException):
                http.get(url, verify=verify, timeout=5)
                if time.monotonic() - started < 0.2:
                    break
            time.sleep(0.5)
    return round(time.monotonic() - began, 1)


def run_count(name: str, url: str, *, count: int, ca: str, body: str | None = None) -> int:
    """Load `url` in 5 s runs of 50 connections until at least `count` requests got an answer;
    returns how many did."""
    done = 0
    while done < count:
        load = run_load(name, url, connections=50, seconds=5, ca=ca, body=body)
        if load.requests == 0:
            raise SystemExit(f"{name}: no answers")
        done += load.requests
    return done


# -- slow clients ------------------------------------------------------------------------------


@dataclass
class SlowProbe:
    """Normal requests timed while slow clients hold connections open."""

    target: str
    slow_body: int
    slow_header: int
    probe: str
    timings_s: list[float | None] = field(default_factory=list)
    slow_clients_dropped: int = 0

    @property
    def worst(self) -> str:
        if any(t is None for t in self.timings_s):
            return f"no answer in {PROBE_TIMEOUT:.0f} s"
        return f"{max(t for t in self.timings_s if t is not None):.3f} s"

    @property
    def answered(self) -> str:
        ok = sum(1 for t in self.timings_s if t is not None and t <= STALL_SECONDS)
        return f"{ok}/{len(self.timings_s)}"


def open_socket(url: str, ca: str | None) -> socket.socket:
    """A connected socket to `url`'s host (TLS when https)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    raw = socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT)
    if parts.scheme != "https":
        return raw
    context = ssl.create_default_context(cafile=ca)
    return context.wrap_socket(raw, server_hostname=parts.hostname)


@contextlib.contextmanager
def slow_clients(
    body_url: str, header_url: str, *, bodies: int, headers: int, ca: str | None
) -> Iterator[Callable[[], int]]:
    """Open `bodies` sockets that send a POST body and `headers` sockets that send request
    headers, each one byte per `DRIP_SECONDS`, for as long as the block runs. Yields a function
    that says how many of them the server has dropped so far."""
    sockets: list[socket.socket] = []
    dropped: set[int] = set()
    stop = threading.Event()
    for _ in range(bodies):
        parts = urlsplit(body_url)
        sock = open_socket(body_url, ca)
        sock.sendall(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
            "a".encode()
        )
        sockets.append(sock)
    for _ in range(headers):
        parts = urlsplit(header_url)
        sock = open_socket(header_url, ca)
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nX-Slow: a".encode())
        sockets.append(sock)

    def drip() -> None:
        while not stop.wait(DRIP_SECONDS):
            for index, sock in enumerate(sockets):
                if index in dropped:
                    continue
                try:
                    sock.sendall(b"a")
                except OSError:
                    dropped.add(index)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        yield lambda: len(dropped)
    finally:
        stop.set()
        dripper.join()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()


def timed(request: Callable[[], requests.Response]) -> float | None:
    """Seconds `request` took to get a 2xx/3xx answer, or None (error or timeout)."""
    started = time.perf_counter()
    try:
        ok = request().status_code < 400
    except requests.RequestException:
        return None
    return round(time.perf_counter() - started, 3) if ok else None


def probe_slow_clients(
    target: str,
    body_url: str,
    header_url: str,
    probes: dict[str, Callable[[], requests.Response]],
    *,
    bodies: int,
    headers: int,
    ca: str | None,
    rounds: int = 3,
) -> list[SlowProbe]:
    """Time each of `probes` `rounds` times while the slow clients are connected."""
    results = [SlowProbe(target, bodies, headers, name) for name in probes]
    with slow_clients(body_url, header_url, bodies=bodies, headers=headers, ca=ca) as dropped:
        time.sleep(2 * DRIP_SECONDS)  # every slow client is connected and dripping
        for _ in range(rounds):
            for result, request in zip(results, probes.values(), strict=True):
                result.timings_s.append(timed(request))
        for result in results:
            result.slow_clients_dropped = dropped()
    return results


# -- the run -----------------------------------------------------------------------------------


def store_files(state: Path) -> dict[str, dict[str, object]]:
    """The mock's store files (`store*` in the state dir): size and permissions."""
    files = {}
    for path in sorted(state.glob("store*")):
        stat = path.stat()
        files[path.name] = {"bytes": stat.st_size, "mode": oct(stat.st_mode & 0o777)}
    return files


def store_mib(files: dict[str, dict[str, object]]) -> float:
    """Total size of `files` in MiB."""
    return round(sum(int(str(f["bytes"])) for f in files.values()) / 2**20, 2)


def session(verify: str | bool) -> Callable[..., requests.Response]:
    """A function doing one request on a fresh connection, proxies ignored."""

    def request(method: str, url: str, **kwargs: object) -> requests.Response:
        with requests.Session() as http:
            http.trust_env = False
            return http.request(method, url, verify=verify, timeout=PROBE_TIMEOUT, **kwargs)  # type: ignore[arg-type]

    return request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=500, help="connections per load run")
    parser.add_argument("--workers", type=int, default=2, help="mock worker processes")
    parser.add_argument(
        "--rss-requests", type=int, default=RSS_REQUESTS, help="token requests before the RSS"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        print(
            "wrk not found (Debian/Ubuntu: apt-get install wrk); using the Python generator, "
            "whose figures are bounded by the generator, not the server.",
            file=sys.stderr,
        )
    figures: dict[str, object] = {
        "cpus": os.cpu_count(),
        "generator": "wrk" if shutil.which("wrk") else "python",
    }
    with tempfile.TemporaryDirectory(prefix="entra-lab-hardening-") as tmp:
        workdir = Path(tmp)
        state = workdir / "mock-state"
        port = free_port()
        mock_server, mock = start_mock(state, port, args.workers, workdir)
        app_server: Server | None = None
        try:
            ca = mock.ca_file
            request = session(ca)
            rss = {"idle": rss_mib(mock_server.process.pid)}
            run_load(
                "warm-up", mock.token_url, connections=16, seconds=2, ca=ca, body=mock.token_body
            )
            rss["after warm-up"] = rss_mib(mock_server.process.pid)
            done = run_count(
                "token", mock.token_url, count=args.rss_requests, ca=ca, body=mock.token_body
            )
            rss[f"after {done:,} token requests"] = rss_mib(mock_server.process.pid)

            loads = []
            for name, url, body in (
                ("discovery", mock.discovery_url, None),
                ("token (client credentials)", mock.token_url, mock.token_body),
                ("sign-in page (authorize)", mock.sign_in_url, None),
            ):
                settle(url, ca)
                loads.append(
                    run_load(
                        name,
                        url,
                        connections=args.connections,
                        seconds=args.duration,
                        ca=ca,
                        body=body,
                    )
                )
            settle(mock.discovery_url, ca)
            rss["after the load runs"] = rss_mib(mock_server.process.pid)
            store = {"after the load runs": store_files(state)}

            settle(mock.sign_in_url, ca)
            probes = probe_slow_clients(
                "mock",
                mock.token_url,
                mock.sign_in_url,
                {
                    "sign-in page": lambda: request("GET", mock.sign_in_url),
                    "token request": lambda: request(
                        "POST",
                        mock.token_url,
                        data=mock.token_body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    ),
                },
                bodies=2,
                headers=50,
                ca=ca,
            )

            app_server, app_url = start_app(mock, free_port(), workdir)
            healthz = session(False)
            for bodies, headers in ((2, 50), (4, 0), (0, 50)):
                probes += probe_slow_clients(
                    "app",
                    f"{app_url}/getAToken",
                    f"{app_url}/",
                    {"/healthz": lambda: healthz("GET", f"{app_url}/healthz")},
                    bodies=bodies,
                    headers=headers,
                    ca=None,
                )

            # The purge runs at start (and periodically): a restart shows what it leaves.
            mock_server.stop()
            mock_server, mock = start_mock(state, port, args.workers, workdir)
            store["after the purge (restart)"] = store_files(state)
        finally:
            if app_server is not None:
                app_server.stop()
            mock_server.stop()

    figures |= {
        "loads": [asdict(load) for load in loads],
        "rss_mib": rss,
        "store": store,
        "slow_clients": [asdict(p) | {"worst": p.worst, "answered": p.answered} for p in probes],
    }
    print_tables(loads, rss, store, probes)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def print_tables(
    loads: list[Load],
    rss: dict[str, float],
    store: dict[str, dict[str, dict[str, object]]],
    probes: list[SlowProbe],
) -> None:
    """The figures as Markdown tables."""
    print(f"\nLoad ({loads[0].generator}, {os.cpu_count()} cores shared with the generator)\n")
    print(
        "| endpoint | connections | requests | requests/s | p50 | p99 | non-2xx | socket errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for load in loads:
        print(
            f"| {load.name} | {load.connections} | {load.requests:,} | {load.requests_per_s:,} "
            f"| {load.p50_ms} ms | {load.p99_ms} ms | {load.non_2xx} | {load.socket_errors} |"
        )
    print("\nMock memory (RSS, master + workers)\n")
    print("| when | RSS |")
    print("|---|---:|")
    for when, mib in rss.items():
        print(f"| {when} | {mib} MiB |")
    print("\nMock store files\n")
    print("| when | total | files |")
    print("|---|---:|---|")
    for when, files in store.items():
        listing = ", ".join(
            f"{name} {int(str(f['bytes'])) / 2**20:.2f} MiB {f['mode']}"
            for name, f in files.items()
        )
        print(f"| {when} | {store_mib(files)} MiB | {listing} |")
    print(f"\nSlow clients (1 byte/{DRIP_SECONDS:.0f} s each; a normal request timed 3 times)\n")
    print(
        "| server | slow-body | slow-header | timed | within 1 s | slowest | slow clients dropped |"
    )
    print("|---|---:|---:|---|---:|---:|---:|")
    for p in probes:
        print(
            f"| {p.target} | {p.slow_body} | {p.slow_header} | {p.probe} | {p.answered} "
            f"| {p.worst} | {p.slow_clients_dropped} |"
        )


if __name__ == "__main__":
    sys.exit(main())
