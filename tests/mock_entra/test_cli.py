"""`mock-entra info --json` and `mock-entra serve`, as users run them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

INFO_KEYS = {
    "authority",
    "tenant_id",
    "graph_endpoint",
    "ca_file",
    "client_id",
    "client_secret",
    "redirect_uris",
    "users",
}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mock_entra", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_info_json_has_the_contract_keys(state_dir: Path):
    done = run_cli("info", "--json", "--port", "9443", "--state-dir", str(state_dir))
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert set(info) >= INFO_KEYS
    assert info["authority"] == f"https://localhost:9443/{info['tenant_id']}"
    assert info["graph_endpoint"] == "https://localhost:9443/v1.0"
    assert Path(info["ca_file"]).is_absolute() and Path(info["ca_file"]).exists()
    assert all({"username", "password", "display_name"} <= set(u) for u in info["users"])


def test_info_reads_a_config_file(state_dir: Path):
    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    done = run_cli("info", "--json", "--config", str(example), "--state-dir", str(state_dir))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tenant_id"] == "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"


def test_a_broken_config_file_is_one_clear_message(tmp_path: Path, state_dir: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tenants]]\ntenant_id = "x"\ndisplay_name = "X"\nfavourite_colour = 1\n')
    done = run_cli("info", "--json", "--config", str(bad), "--state-dir", str(state_dir))
    assert done.returncode == 2
    assert "favourite_colour" in done.stderr and "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_over_https_and_stops_on_sigint(state_dir: Path):
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_entra",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--state-dir",
            str(state_dir),
        ],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOCK_ENTRA_ADMIN_KEY": ""},
    )
    try:
        info = json.loads(
            run_cli("info", "--json", "--port", str(port), "--state-dir", str(state_dir)).stdout
        )
        url = f"{info['authority']}/v2.0/.well-known/openid-configuration"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = requests.get(url, verify=info["ca_file"], timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "mock-entra serve did not come up"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["issuer"] == f"{info['authority']}/v2.0"
        admin = requests.get(
            f"https://localhost:{port}/_admin/requests", verify=info["ca_file"], timeout=2
        )
        assert admin.status_code == 404  # the admin API is off by default
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)
    assert process.returncode == 0


def test_serve_on_a_taken_port_says_which(state_dir: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--state-dir", str(state_dir))
    assert done.returncode != 0
    assert str(port) in done.stderr and "--port" in done.stderr


def test_serving_imports_no_flask_jwt_or_x509_until_needed(state_dir: Path):
    # Cold start: `mock-entra serve` answers discovery, JWKS and tokens without them; Flask
    # comes with the first sign-in page.
    code = (
        "import sys\n"
        "from mock_entra.cli import _build_app\n"
        "from mock_entra.core.config import DEFAULT_CONFIG\n"
        f"app = _build_app(DEFAULT_CONFIG, {str(state_dir)!r}, None)\n"
        "heavy = {'flask', 'jwt', 'requests', 'cryptography.x509', 'tomllib'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "app.app.front.flask\n"
        "assert 'flask' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_spawned_worker_builds_its_own_app(state_dir: Path):
    # Off Linux granian spawns workers: the loader pickles without the built app.
    import functools
    import pickle

    from mock_entra.cli import _build_app
    from mock_entra.core.config import DEFAULT_CONFIG
    from mock_entra.server import _Loader
    from mock_entra.web.wsgi import MockApp

    build = functools.partial(_build_app, DEFAULT_CONFIG, state_dir, None)
    built = build()
    loader = pickle.loads(pickle.dumps(_Loader(built, build)))
    assert loader.app is None
    assert isinstance(loader().app, MockApp) and loader() is loader()
