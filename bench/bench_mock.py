"""Benchmark the mock as `mock-entra serve` runs it (not a test; numbers go in the README).

Measures, on this machine, with the load generator sharing the cores:
- token endpoint (client credentials: a freshly RS256-signed JWT per request), HTTPS with
  keep-alive, 16 connections: throughput and latency percentiles;
- discovery document and JWKS: throughput and latency;
- cold start: process spawn to the first 200, with existing keys;
- RSS of the server (master + workers) after the load.

Load comes from wrk (Debian package `wrk`) when installed, else from a Python generator.

    uv run python bench/bench_mock.py [--workers 2] [--duration 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

from mock_entra.core.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_TENANT_ID,
)
from mock_entra.core.pki import ensure_state

TOKEN_BODY = urlencode(
    {
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
    }
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(state: Path, port: int, workers: int) -> tuple[subprocess.Popen, float]:
    """Spawn `mock-entra serve` and return it with the time to its first 200 (seconds)."""
    url = f"https://localhost:{port}/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration"
    env = {**os.environ, "MOCK_ENTRA_ADMIN_KEY": ""}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_entra",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--state-dir",
            str(state),
        ],
        env=env,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    session = requests.Session()
    session.trust_env = False
    while True:
        try:
            if session.get(url, verify=str(state / "ca.pem"), timeout=1).status_code == 200:
                return proc, time.perf_counter() - started
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            raise SystemExit("mock-entra exited before answering")
        time.sleep(0.005)


def rss_mib(pid: int) -> float:
    """RSS of a process and its children, in MiB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            m = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            total += int(m.group(1)) if m else 0
    return total / 1024


def run_wrk(url: str, duration: int, connections: int, body: str | None) -> dict:
    script = None
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(
            'wrk.method = "POST"\n'
            f'wrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        )
        script.close()
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script.name]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": round(rps),
        "p50_ms": ms("50"),
        "p90_ms": ms("90"),
        "p99_ms": ms("99"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "generator": "wrk",
    }


def run_python(url: str, duration: int, connections: int, body: str | None, ca: str) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        nonlocal errors
        session = requests.Session()
        session.trust_env = False
        mine = []
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            if body is None:
                r = session.get(url, verify=ca)
            else:
                r = session.post(
                    url,
                    data=body,
                    verify=ca,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            mine.append(time.perf_counter() - t)
            if r.status_code != 200:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return {
        "requests_per_s": round(len(latencies) / duration),
        "p50_ms": pct(0.5),
        "p90_ms": pct(0.9),
        "p99_ms": pct(0.99),
        "errors": errors,
        "generator": "python",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="mock-entra-bench-"))
    ensure_state(state)  # keys exist before the cold-start measurement, as after a first run
    results: dict = {"machine": {"cpus": os.cpu_count()}, "workers": args.workers}
    cold = []
    for _ in range(3):
        proc, seconds = start_server(state, free_port(), args.workers)
        cold.append(seconds)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    results["cold_start_ms"] = round(1000 * statistics.median(cold))

    port = free_port()
    proc, _ = start_server(state, port, args.workers)
    base = f"https://localhost:{port}/{DEFAULT_TENANT_ID}"
    ca = str(state / "ca.pem")
    targets = {
        "token_client_credentials": (f"{base}/oauth2/v2.0/token", TOKEN_BODY),
        "discovery": (f"{base}/v2.0/.well-known/openid-configuration", None),
        "jwks": (f"{base}/discovery/v2.0/keys", None),
    }
    use_wrk = shutil.which("wrk") is not None
    try:
        for name, (url, body) in targets.items():
            run_wrk(url, 2, args.connections, body) if use_wrk else None  # warm up
            results[name] = (
                run_wrk(url, args.duration, args.connections, body)
                if use_wrk
                else run_python(url, args.duration, args.connections, body, ca)
            )
            print(f"{name:26} {results[name]}", flush=True)
        results["rss_after_load_mib"] = round(rss_mib(proc.pid), 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        shutil.rmtree(state, ignore_errors=True)
    print(f"cold start (median of 3)   {results['cold_start_ms']} ms")
    print(f"RSS after load             {results['rss_after_load_mib']} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
