"""Benchmark the mock as `mock-entra serve` runs it (not a test; numbers go in the README).

Measures, on this machine, with the load generator sharing the cores:
- token endpoint (client credentials: a freshly RS256-signed JWT per request), HTTPS with
  keep-alive, 16 connections: throughput and latency percentiles;
- discovery document and JWKS: throughput and latency;
- cold start: process spawn to the first 200, with existing keys and bytecode (this machine
  sets PYTHONDONTWRITEBYTECODE, so the project's bytecode is compiled first, as any normal
  first run leaves it);
- memory after the load: RSS summed over master + workers (shared pages counted in each) and
  PSS (shared pages split), then again once a sign-in page has loaded Flask;
- `openssl speed -multi <cores> rsa2048` (the OpenSSL tool's RSA-2048 signatures/s over all
  cores), and with --peer once per round, next to the two servers' token loads;
- the signing ceiling: RS256 signatures/s over all cores with nothing else running: a bare
  OpenSSL RSA-2048 signature (what any server is bounded by) and a whole token as the mock
  signs it (PyJWT with the mock's key); and the CPU time of each, with the same JWS put
  together by hand, alternated in one process (it decided that tokens go through PyJWT);
- with --compare, the same app under gunicorn and cheroot (`bench/servers.py`);
- with --peer oidc-provider, Node's oidc-provider (panva, `bench/node/`) issuing the same kind
  of token (client credentials, client_secret_post, a fresh RS256 JWT from an RSA-2048 key)
  over HTTPS with the mock's own TLS certificate, in as many cluster workers as the mock has
  granian workers; both servers run at once and the token loads alternate, `--rounds` times.

Load comes from wrk (Debian package `wrk`) when installed, else from a Python generator.

    uv run python bench/bench_mock.py [--workers 2] [--duration 10] [--compare]
        [--peer oidc-provider] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import multiprocessing
import os
import re
import shutil
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
from mock_entra.core.pki.state import ensure_state
from mock_entra.ports import free_port
from mock_entra.processes import terminate

TOKEN_BODY = urlencode(
    {
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "grant_type": "client_credentials",
        "scope": "https://graph.microsoft.com/.default",
    }
)


def serve_command(server: str, state: Path, port: int, workers: int) -> list[str]:
    if server == "granian":  # what `mock-entra serve` runs
        return [sys.executable, "-m", "mock_entra", "serve", "--port", str(port),
                "--workers", str(workers), "--state-dir", str(state)]  # fmt: skip
    script = str(Path(__file__).with_name("servers.py"))
    return [sys.executable, script, server, "--port", str(port), "--workers", str(workers),
            "--state-dir", str(state)]  # fmt: skip


def start_server(
    state: Path, port: int, workers: int, server: str = "granian"
) -> tuple[subprocess.Popen, float]:
    """Spawn a server and return it with the time to its first 200 (seconds)."""
    url = f"https://localhost:{port}/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration"
    env = {**os.environ, "MOCK_ENTRA_ADMIN_KEY": ""}
    started = time.perf_counter()
    proc = subprocess.Popen(
        serve_command(server, state, port, workers),
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
            raise SystemExit(f"{server} exited before answering")
        time.sleep(0.005)


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for p in pids:  # grows while walking: children, grandchildren, ...
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            pids += [int(c) for c in task.read_text().split()]
    return pids


def memory_mib(pid: int) -> dict[str, float]:
    """RSS summed over a process tree (shared pages in each) and PSS (shared pages split)."""
    rss = pss = 0
    for p in _tree(pid):
        status, rollup = Path(f"/proc/{p}/status"), Path(f"/proc/{p}/smaps_rollup")
        if status.exists():
            m = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            rss += int(m.group(1)) if m else 0
        if rollup.exists():
            m = re.search(r"^Pss:\s+(\d+) kB", rollup.read_text(), re.M)
            pss += int(m.group(1)) if m else 0
    return {"rss_sum_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1)}


# A Graph access token's claims, about the size the token endpoint signs.
_CLAIMS = {"aud": "00000003-0000-0000-c000-000000000000", "iat": 1, "nbf": 1, "exp": 2,
           "tid": DEFAULT_TENANT_ID, "filler": "x" * 900}  # fmt: skip


def _signers() -> dict:
    """name -> a function signing one token-sized input with an RSA-2048 key."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from mock_entra.core.pki.certificates import make_signing_key
    from mock_entra.core.tokens.signing import SigningKey

    pair = make_signing_key()
    key = SigningKey("kid", pair.key, pair.cert)  # type: ignore[arg-type]
    header = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"RS256","kid":"kid"}').rstrip(b"=")

    def by_hand(claims: dict) -> bytes:  # the same JWS without PyJWT, for comparison only
        payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = header + b"." + payload.rstrip(b"=")
        signature = pair.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")

    # Both make the same bytes (PKCS#1 v1.5 is deterministic): the comparison is fair.
    assert by_hand(_CLAIMS).decode() == key.sign(_CLAIMS, {"kid": "kid"})
    return {
        "openssl": lambda: pair.key.sign(b"x" * 1200, padding.PKCS1v15(), hashes.SHA256()),
        "pyjwt-token": lambda: key.sign(_CLAIMS, {"kid": "kid"}),
        "by-hand-token": lambda: by_hand(_CLAIMS),
    }


def _sign_for(kind: str, seconds: float, out: multiprocessing.Queue) -> None:
    sign = _signers()[kind]
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sign()
        count += 1
    out.put(count)


def signing_ceiling(kind: str, seconds: float = 3.0) -> int:
    """RS256 signatures (or signed tokens) per second over all cores, nothing else running."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_sign_for, args=(kind, seconds, out))
        for _ in range(os.cpu_count() or 1)
    ]
    for proc in procs:
        proc.start()
    total = sum(out.get() for _ in procs)
    for proc in procs:
        proc.join()
    return round(total / seconds)


def openssl_speed(seconds: int, cores: int) -> float | None:
    """`openssl speed -multi CORES -seconds S rsa2048`: RSA-2048 signatures/s over all cores, as
    the OpenSSL command-line tool measures them (the sum over its processes); None without it."""
    if shutil.which("openssl") is None:
        return None
    done = subprocess.run(
        ["openssl", "speed", "-multi", str(cores), "-seconds", str(seconds), "rsa2048"],
        capture_output=True,
        text=True,
        timeout=seconds * 4 + 60,
        check=False,
    )
    # The summary line: "rsa 2048 bits 0.000465s 0.000017s   2148.6  57435.5" (sign/s, verify/s)
    match = re.search(r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+[\d.]+\s*$", done.stdout, re.M)
    return float(match[1]) if match else None


def signing_cpu(seconds: float = 6.0) -> dict[str, float]:
    """CPU microseconds per signature and per token: a bare OpenSSL signature, a token through
    PyJWT, and the same JWS by hand, alternated in one process in batches of 20 (CPU time, so
    other processes on a shared machine count less)."""
    signers = _signers()
    spent, count = dict.fromkeys(signers, 0.0), dict.fromkeys(signers, 0)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for name, sign in signers.items():
            started = time.thread_time()
            for _ in range(20):
                sign()
            spent[name] += time.thread_time() - started
            count[name] += 20
    return {f"{name}_us": round(1e6 * spent[name] / count[name], 1) for name in signers}


def run_wrk(url: str, duration: int, connections: int, body: str | None) -> dict:
    script = None
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body)}\n"
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
        return wrk_percentile_ms(out, label)

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


def wrk_percentile_ms(out: str, label: str) -> float:
    """A latency percentile (`label`: "50", "99", ...) of wrk's `--latency` output, in ms."""
    found = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
    if not found:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


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


def load(url: str, body: str | None, args: argparse.Namespace, ca: str) -> dict:
    if shutil.which("wrk"):
        run_wrk(url, 2, args.connections, body)  # warm up
        return run_wrk(url, args.duration, args.connections, body)
    return run_python(url, args.duration, args.connections, body, ca)


NODE_DIR = Path(__file__).with_name("node")
PEER_TOKEN_BODY = urlencode(  # bench/node/oidc_provider_server.mjs's client and scope
    {
        "grant_type": "client_credentials",
        "client_id": "bench-client",
        "client_secret": "bench-secret-bench-secret-bench-secret",
        "scope": "api.read",
    }
)


def start_peer(state: Path, port: int, workers: int) -> subprocess.Popen:
    """oidc-provider over HTTPS with the mock's TLS certificate, `workers` cluster workers."""
    if shutil.which("node") is None:
        raise SystemExit("--peer oidc-provider needs Node.js (node and npm on PATH)")
    if not (NODE_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    command = ["node", "oidc_provider_server.mjs", "--port", str(port),
               "--cert", str(state / "server.pem"), "--key", str(state / "server-key.pem"),
               "--workers", str(workers)]  # fmt: skip
    proc = subprocess.Popen(
        command,
        cwd=NODE_DIR,
        env={**os.environ, "NODE_ENV": "production"},
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    url = f"https://localhost:{port}/.well-known/openid-configuration"
    session = requests.Session()
    session.trust_env = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if session.get(url, verify=str(state / "ca.pem"), timeout=1).status_code == 200:
                token = session.post(
                    url.replace("/.well-known/openid-configuration", "/token"),
                    data=PEER_TOKEN_BODY,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    verify=str(state / "ca.pem"),
                    timeout=5,
                )
                assert token.json()["access_token"].count(".") == 2, token.text  # a JWT
                return proc
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            raise SystemExit("oidc-provider exited before answering")
        time.sleep(0.05)
    terminate(proc)
    raise SystemExit("oidc-provider did not answer")


def against_peer(state: Path, args: argparse.Namespace, ca: str) -> dict:
    """The mock's and oidc-provider's token endpoints, both running, loads alternating."""
    mock_port, peer_port = free_port(), free_port()
    mock, _ = start_server(state, mock_port, args.workers)
    peer = start_peer(state, peer_port, args.workers)
    mock_token = f"https://localhost:{mock_port}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token"
    peer_base = f"https://localhost:{peer_port}"
    rounds: list[dict] = []
    try:
        for number in range(1, args.rounds + 1):
            one = {
                "mock": load(mock_token, TOKEN_BODY, args, ca),
                "oidc_provider": load(f"{peer_base}/token", PEER_TOKEN_BODY, args, ca),
                # The machine's ceiling in the same round, the servers idle meanwhile.
                "openssl_sign_per_s": openssl_speed(args.duration, os.cpu_count() or 1),
            }
            rounds.append(one)
            print(f"round {number}: mock token {one['mock']}", flush=True)
            print(f"round {number}: oidc-provider token {one['oidc_provider']}", flush=True)
            print(f"round {number}: openssl speed rsa2048 {one['openssl_sign_per_s']}/s")
        discovery = load(f"{peer_base}/.well-known/openid-configuration", None, args, ca)
        jwks = load(f"{peer_base}/jwks", None, args, ca)
        print(f"oidc-provider discovery {discovery}\noidc-provider jwks {jwks}", flush=True)
    finally:
        terminate(peer)
        terminate(mock)

    def median(who: str, what: str) -> float:
        return statistics.median(r[who][what] for r in rounds)

    summary = {
        "peer": "oidc-provider",
        "transport": "HTTPS (both, the same certificate), keep-alive",
        "rounds": rounds,
        "mock_token_per_s_median": median("mock", "requests_per_s"),
        "oidc_provider_token_per_s_median": median("oidc_provider", "requests_per_s"),
        "mock_token_p99_ms_median": median("mock", "p99_ms"),
        "oidc_provider_token_p99_ms_median": median("oidc_provider", "p99_ms"),
        "oidc_provider_discovery": discovery,
        "oidc_provider_jwks": jwks,
    }
    summary["mock_over_oidc_provider"] = round(
        summary["mock_token_per_s_median"] / summary["oidc_provider_token_per_s_median"], 2
    )
    ceilings = [r["openssl_sign_per_s"] for r in rounds if r["openssl_sign_per_s"]]
    if ceilings:
        summary["openssl_sign_per_s_median"] = statistics.median(ceilings)
        summary["mock_share_of_openssl"] = round(
            summary["mock_token_per_s_median"] / summary["openssl_sign_per_s_median"], 3
        )
    print(
        f"token median: mock {summary['mock_token_per_s_median']}/s, oidc-provider "
        f"{summary['oidc_provider_token_per_s_median']}/s "
        f"(x{summary['mock_over_oidc_provider']}); openssl speed "
        f"{summary.get('openssl_sign_per_s_median')}/s "
        f"(mock {summary.get('mock_share_of_openssl')} of it)",
        flush=True,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--compare", action="store_true", help="also gunicorn and cheroot")
    parser.add_argument(
        "--peer", choices=["oidc-provider"], help="also Node's oidc-provider, side by side"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating token loads (--peer)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="mock-entra-bench-"))
    ensure_state(state)  # keys exist before the cold-start measurement, as after a first run
    import mock_entra

    compileall.compile_dir(Path(mock_entra.__file__).parent, quiet=1)
    results: dict = {"machine": {"cpus": os.cpu_count()}, "workers": args.workers}
    for kind in ("openssl", "pyjwt-token"):
        results[f"signing_ceiling_{kind}_per_s"] = signing_ceiling(kind)
        print(f"signing ceiling, {kind:18} {results[f'signing_ceiling_{kind}_per_s']}/s")
    cores = os.cpu_count() or 1
    results["openssl_speed_rsa2048_sign_per_s"] = openssl_speed(3, cores)
    print(f"openssl speed -multi {cores} rsa2048 {results['openssl_speed_rsa2048_sign_per_s']}/s")
    results["signing_cpu"] = signing_cpu()
    print(f"CPU per signature, one process {results['signing_cpu']}", flush=True)
    cold = []
    for _ in range(5):
        proc, seconds = start_server(state, free_port(), args.workers)
        cold.append(seconds)
        terminate(proc)
    results["cold_start_ms"] = round(1000 * statistics.median(cold))
    print(f"cold start (median of 5)   {results['cold_start_ms']} ms", flush=True)

    ca = str(state / "ca.pem")
    servers = ["granian", "gunicorn", "cheroot"] if args.compare else ["granian"]
    try:
        for server in servers:
            port = free_port()
            proc, _ = start_server(state, port, args.workers, server)
            base = f"https://localhost:{port}/{DEFAULT_TENANT_ID}"
            targets = {
                "token_client_credentials": (f"{base}/oauth2/v2.0/token", TOKEN_BODY),
                "discovery": (f"{base}/v2.0/.well-known/openid-configuration", None),
                "jwks": (f"{base}/discovery/v2.0/keys", None),
            }
            try:
                for name, (url, body) in targets.items():
                    result = load(url, body, args, ca)
                    key = name if server == "granian" else f"{server}_{name}"
                    results[key] = result
                    print(f"{server:9} {name:26} {result}", flush=True)
                memory = memory_mib(proc.pid)
                # A sign-in page: Flask is imported now, in the worker that serves it.
                authorize = f"{base}/oauth2/v2.0/authorize?client_id={DEFAULT_CLIENT_ID}"
                requests.get(authorize, verify=ca, timeout=30)
                after_page = memory_mib(proc.pid)
                results["memory" if server == "granian" else f"{server}_memory"] = {
                    "after_load": memory,
                    "after_a_sign_in_page": after_page,
                }
                print(f"{server:9} memory after load {memory}; after a sign-in page {after_page}")
            finally:
                terminate(proc)
        if args.peer:
            results["peer"] = against_peer(state, args, ca)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
