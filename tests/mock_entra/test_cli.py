"""`mock-entra info`, `serve` and `--version`, as users run them."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

from mock_entra.ports import free_port
from mock_entra.pytest_plugin import copy_keys

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


@pytest.mark.slow  # a `serve` process (the session's mock_entra_server starts one too)
def test_serve_answers_over_https_and_stops_on_sigint(state_dir: Path):
    port = free_port()
    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_entra", "serve", "--port", str(port), "--workers", "1",
         "--state-dir", str(state_dir), "--config", str(example)],
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOCK_ENTRA_ADMIN_KEY": "", "MOCK_ENTRA_PORT": ""},
    )  # fmt: skip
    try:
        # Neither --port nor --config: `info` reads what the running server recorded.
        done = run_cli("info", "--check", "--wait", "20", "--json", "--state-dir", str(state_dir))
        assert done.returncode == 0, done.stdout + done.stderr
        info = json.loads(done.stdout)
        assert info["server_running"] is True and info["base_url"] == f"https://localhost:{port}"
        assert info["tenant_id"] == "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"  # the example's
        assert info["config_file"] == str(example.resolve()) and info["admin_api"] is False
        url = f"{info['authority']}/v2.0/.well-known/openid-configuration"
        response = requests.get(url, verify=info["ca_file"], timeout=2)
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
    assert not (state_dir / "serving.json").exists()


def test_serve_on_a_taken_port_says_which(state_dir: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--state-dir", str(state_dir))
    assert done.returncode != 0
    assert str(port) in done.stderr and "--port" in done.stderr


@pytest.mark.parametrize(
    ("where", "identity"),
    [
        ("under a file", False),
        ("a file", False),
        ("damaged store", False),
        # The managed identity process opens the store too: still one line, no traceback.
        ("damaged store", True),
    ],
)
def test_serve_on_an_unusable_state_dir_says_why_in_one_line(
    where: str, identity: bool, tmp_path: Path, state_dir: Path
):
    # Root ignores permissions here, so unusable means: a file in the way, or a store that
    # SQLite cannot open (what a read-only or full disk also gives it).
    (tmp_path / "file").write_text("not a directory")
    target = {"under a file": tmp_path / "file" / "state", "a file": tmp_path / "file"}.get(
        where, state_dir
    )
    if where == "damaged store":
        (state_dir / "store.sqlite3").write_bytes(b"not a database" * 512)
    extra = ["--managed-identity-port", str(free_port())] if identity else []
    done = run_cli("serve", "--port", str(free_port()), "--state-dir", str(target), *extra)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # no traceback, no "serving on"
    cause = (
        "file is not a database (store.sqlite3)"
        if where == "damaged store"
        else ("Not a directory")
    )
    assert lines[0] == f"mock-entra: state dir {target.resolve()} is not usable: {cause}"


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_serve_on_a_full_or_read_only_disk_says_why_in_one_line(
    error: int, tmp_path: Path, monkeypatch, capsys
):
    # A full or read-only disk, injected where the state dir's files are written.
    from mock_entra.cli import main
    from mock_entra.core.pki import state as pki

    def fail(path: Path, data: bytes, mode: int) -> None:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(pki, "write_atomic", fail)
    target = tmp_path / "state"
    assert main(["serve", "--port", str(free_port()), "--state-dir", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"mock-entra: state dir {target} is not usable: {os.strerror(error)}\n"
    )


def test_serving_imports_no_flask_until_needed(state_dir: Path):
    # Cold start: `mock-entra serve` answers discovery, JWKS and tokens without Flask, which
    # comes with the first sign-in page. (PyJWT and cryptography.x509 are loaded at start:
    # the keys and certificates are checked, and tokens signed, with them.)
    code = (
        "import sys\n"
        "from mock_entra.cli import _build_app\n"
        "from mock_entra.core.config import DEFAULT_CONFIG\n"
        f"app = _build_app(DEFAULT_CONFIG, {str(state_dir)!r}, None)\n"
        "heavy = {'flask', 'requests', 'tomllib'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "app.app.front.flask\n"
        "assert 'flask' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_spawned_worker_builds_its_own_app(state_dir: Path, monkeypatch):
    # Off Linux granian spawns workers: the loader pickles without the built app.
    import functools
    import pickle

    from mock_entra import server
    from mock_entra.cli import _build_app
    from mock_entra.core.config import DEFAULT_CONFIG
    from mock_entra.server import _Loader
    from mock_entra.web.wsgi import MockApp

    # This process is no worker: tying it to its "server" (itself) would end the test run.
    tied: list[int] = []
    monkeypatch.setattr(server, "exit_with_parent", tied.append)
    build = functools.partial(_build_app, DEFAULT_CONFIG, state_dir, None)
    built = build()
    loader = pickle.loads(pickle.dumps(_Loader(built, build)))
    assert loader.app is None
    assert isinstance(loader().app, MockApp) and loader() is loader()
    assert set(tied) == {os.getpid()}  # the server's pid travels with the loader


# --- info: never generates, says whether a server answers ----------------------------------------


def test_info_where_there_is_no_state_generates_nothing_and_says_so(
    tmp_path: Path, monkeypatch, capsys
):
    from mock_entra.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MOCK_ENTRA_STATE_DIR", raising=False)
    assert main(["info"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"mock-entra: no mock state in {tmp_path / '.mock-entra'}: start `mock-entra serve` "
        "first or pass --state-dir\n"
    )
    assert main(["info", "--json", "--state-dir", "elsewhere"]) == 2
    assert list(tmp_path.iterdir()) == []  # no CA, no keys, no directory


def test_info_finds_the_state_through_the_environment_as_serve_does(
    state_dir: Path, monkeypatch, capsys
):
    from mock_entra.cli import main

    monkeypatch.setenv("MOCK_ENTRA_STATE_DIR", str(state_dir))
    assert main(["info", "--json", "--port", str(free_port())]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["ca_file"] == str(state_dir.resolve() / "ca.pem")
    assert info["server_running"] is False


def test_info_check_without_a_server_exits_1_and_says_down(state_dir: Path, capsys):
    from mock_entra.cli import main

    port = free_port()
    assert main(["info", "--check", "--port", str(port), "--state-dir", str(state_dir)]) == 1
    out = capsys.readouterr().out
    assert f"server         down: nothing answers at https://localhost:{port}" in out
    assert main(["info", "--port", str(port), "--state-dir", str(state_dir)]) == 0  # no --check


@pytest.fixture(scope="module")
def https_mock(key_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The mock's WSGI app served over HTTPS in a thread, from a state dir of its own: what
    `info --check` probes, without a process start (nor the session's shared server, whose
    config other modules choose)."""
    import ssl
    import threading

    from werkzeug.serving import make_server

    from mock_entra.web.wsgi import create_app

    state = copy_keys(key_template, tmp_path_factory.mktemp("https-mock") / "state")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(state / "server.pem", state / "server-key.pem")
    server = make_server("127.0.0.1", 0, create_app(state_dir=state), ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, state
    server.shutdown()
    thread.join(5)


def test_info_check_with_the_server_running_exits_0(https_mock, capsys):
    from mock_entra.cli import main

    port, state = https_mock
    base_url = f"https://localhost:{port}"
    args = ["info", "--port", str(port), "--state-dir", str(state)]
    assert main([*args, "--check", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info) >= INFO_KEYS | {"server_running", "ca_bundle", "base_url", "admin_key"}
    assert info["server_running"] is True
    assert info["authority"] == f"{base_url}/{info['tenant_id']}"
    assert main([*args, "--check"]) == 0
    summary = capsys.readouterr().out
    assert f"server         up: answers at {base_url} (TLS verified against ca.pem)" in summary
    for value in (info["authority"], info["client_id"], info["redirect_uris"][0], info["ca_file"]):
        assert value in summary
    assert "adele@contoso.onmicrosoft.com / Passw0rd!1  (Adele Vance)" in summary


def test_info_check_against_another_mocks_server_is_not_running(https_mock, tmp_path: Path, capsys):
    # Same port, but another state dir whose CA did not issue that server's certificate.

    from mock_entra.cli import main
    from mock_entra.core.pki import certificates
    from mock_entra.core.pki.state import StatePaths

    port, state = https_mock
    other = copy_keys(state, tmp_path / "other")
    ca = certificates.make_ca()  # a new CA in place of the copied one
    StatePaths(other).ca_cert.write_bytes(ca.cert_pem)
    StatePaths(other).ca_key.write_bytes(ca.key_pem)
    assert main(["info", "--check", "--port", str(port), "--state-dir", str(other)]) == 1
    assert "its certificate is not from" in capsys.readouterr().out


def test_info_check_against_a_server_for_another_config_is_not_running(
    https_mock, tmp_path: Path, capsys
):
    from mock_entra.cli import main

    port, state = https_mock
    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    args = ["info", "--check", "--port", str(port), "--state-dir", str(state)]
    assert main([*args, "--config", str(example)]) == 1
    assert "answers at" in capsys.readouterr().out


# --- --version on every command ------------------------------------------------------------------


def test_every_command_has_version(capsys):
    from importlib.metadata import version

    from client_app.cli import main as client_app_main
    from conformance.cli import main as conformance_main
    from entra_lab.cli import main as entra_lab_main
    from mock_entra.cli import main as mock_entra_main

    expected = version("entra-lab")
    commands = {
        "mock-entra": mock_entra_main,
        "client-app": client_app_main,
        "conformance": conformance_main,
        "entra-lab": entra_lab_main,
    }
    scripts = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    for name, main in commands.items():
        target = scripts["project"]["scripts"][name]
        assert target == f"{main.__module__}:main"
        with pytest.raises(SystemExit) as exited:
            main(["--version"])
        assert exited.value.code == 0
        assert capsys.readouterr().out == f"{name} {expected}\n"


def test_info_for_a_tenant_without_apps_or_users_is_still_a_summary(
    state_dir: Path, tmp_path: Path, capsys
):
    from mock_entra.cli import main

    bare = tmp_path / "bare.toml"
    bare.write_text('[[tenants]]\ntenant_id = "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"\n'
                    'display_name = "Empty"\n')  # fmt: skip
    args = ["info", "--config", str(bare), "--state-dir", str(state_dir), "--port", "1"]
    assert main(args) == 0
    assert "client id      (no app in the default tenant)" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["client_id"] is None and info["users"] == [] and info["redirect_uris"] == []


# --- serve records what it serves; info reads it --------------------------------------------------


def test_serve_records_what_it_serves_never_the_key_and_removes_it_when_it_stops(
    tmp_path: Path, monkeypatch
):
    import mock_entra.cli

    state = tmp_path / "project" / ".mock-entra"  # a new state dir, as on a first run
    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    port = free_port()
    seen: dict = {}

    def fake_serve(build, paths, options, announce) -> None:
        # granian's place: look while "serving"
        seen["record"] = json.loads((paths.root / "serving.json").read_text())
        seen["files"] = b"".join(p.read_bytes() for p in paths.root.iterdir() if p.is_file())

    monkeypatch.setattr(mock_entra.cli, "serve", fake_serve)
    argv = ["serve", "--port", str(port), "--state-dir", str(state), "--config", str(example)]
    assert mock_entra.cli.main([*argv, "--admin-key", "k3y-never-written"]) == 0
    record = seen["record"]
    assert record["port"] == port and record["host"] == "127.0.0.1"
    assert record["base_url"] == f"https://localhost:{port}"
    assert record["config_file"] == str(example.resolve()) and record["admin_api"] is True
    assert record["pid"] == os.getpid()
    assert b"k3y-never-written" not in seen["files"]
    assert not (state / "serving.json").exists()  # stopped: no longer served

    assert mock_entra.cli.main(argv[:-2]) == 0  # no --config: the embedded defaults
    assert seen["record"]["config_file"] is None and seen["record"]["admin_api"] is False


def test_a_new_state_dir_keeps_itself_out_of_git(tmp_path: Path):
    from mock_entra.core.pki.state import ensure_state

    project = tmp_path / "project"
    project.mkdir()
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(project)], check=True)
    (project / "app.py").write_text("")
    paths = ensure_state(project / ".mock-entra")
    assert paths.gitignore.read_text().splitlines()[-1] == "*"
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "?? app.py\n"  # the CA's key and the rest are ignored
    # Never into a folder with anything else in it (`--state-dir .` is someone's project).
    ensure_state(project)
    assert not (project / ".gitignore").exists()


@pytest.fixture(scope="module")
def https_example(key_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """examples/mock-entra.toml served over HTTPS in a thread (as `serve --config` would)."""
    import ssl
    import threading

    from werkzeug.serving import make_server

    from mock_entra.core.config import load_config
    from mock_entra.web.wsgi import create_app

    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    state = copy_keys(key_template, tmp_path_factory.mktemp("https-example") / "state")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(state / "server.pem", state / "server-key.pem")
    app = create_app(load_config(example), state_dir=state, admin_key="k3y")
    server = make_server("127.0.0.1", 0, app, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, state, example
    server.shutdown()
    thread.join(5)


def test_info_describes_the_running_server_from_what_serve_recorded(https_example, capsys):
    from mock_entra.cli import main
    from mock_entra.core.pki.state import StatePaths
    from mock_entra.info import ServingRecord, write_serving

    port, state, example = https_example
    record = ServingRecord.now(
        host="127.0.0.1",
        port=port,
        base_url=f"https://localhost:{port}",
        config_file=str(example),
        admin_api=True,
    )
    write_serving(StatePaths(state), record)  # what `serve --config ... --admin-key` writes
    args = ["info", "--state-dir", str(state), "--check"]  # no --port, no --config
    assert main([*args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["server_running"] is True
    assert info["tenant_id"] == "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"  # the example's
    assert info["base_url"] == f"https://localhost:{port}"
    assert info["config_file"] == str(example.resolve())
    assert info["admin_api"] is True and info["admin_key"] is None  # the key is not recorded
    assert main([*args, "--json", "--admin-key", "k3y"]) == 0
    assert json.loads(capsys.readouterr().out)["admin_key"] == "k3y"
    assert main(args) == 0
    summary = capsys.readouterr().out
    assert f"config         {example.resolve()}" in summary
    assert "admin API      on (the key is never recorded: pass --admin-key" in summary
    # Another port asked for: the record is another server's, not used.
    assert main(["info", "--state-dir", str(state), "--port", "1", "--json"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["config_file"] is None and other["admin_api"] is None


def test_a_record_whose_server_is_gone_is_ignored(state_dir: Path, capsys):
    from mock_entra.cli import main
    from mock_entra.core.pki.state import StatePaths
    from mock_entra.info import ServingRecord, read_serving, write_serving

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    record = ServingRecord(int(gone.stdout), "127.0.0.1", 1, "https://localhost:1",
                           "/nowhere.toml", True, "2026-01-01T00:00:00+00:00")  # fmt: skip
    write_serving(StatePaths(state_dir), record)
    assert read_serving(StatePaths(state_dir)) is None
    assert main(["info", "--json", "--state-dir", str(state_dir)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["base_url"] == "https://localhost:8443" and info["config_file"] is None


def test_info_check_stops_waiting_when_another_config_answers(https_mock, monkeypatch, capsys):
    # Waiting cannot make a server for another config become this one: one probe, not 30 s.
    import mock_entra.cli

    port, state = https_mock
    probes = []
    real = mock_entra.cli.server_status
    monkeypatch.setattr(
        mock_entra.cli, "server_status", lambda *a, **k: probes.append(a) or real(*a, **k)
    )
    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    argv = ["info", "--check", "--wait", "30", "--port", str(port), "--state-dir", str(state)]
    assert mock_entra.cli.main([*argv, "--config", str(example)]) == 1
    assert len(probes) == 1
    assert "but not for this config" in capsys.readouterr().out


def test_each_command_help_describes_its_own_options(capsys):
    from mock_entra.cli import main

    def help_of(*command: str) -> str:
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        return " ".join(capsys.readouterr().out.split())  # argparse's line breaks undone

    serve_help, info_help = help_of("serve"), help_of("info")
    assert "Serve the mock" in serve_help  # a description of its own
    assert "--host HOST address to listen on" in serve_help
    assert "--workers WORKERS worker processes (default 2;" in serve_help
    assert "--admin-key KEY turn the admin API on" in serve_help
    assert "listen on" not in info_help and "turn the admin API on" not in info_help
    assert "--host HOST the address the server listens on (default: what `serve` recorded" in (
        info_help
    )
    assert "--admin-key KEY the admin API's key, shown as admin_key" in info_help


def test_serve_given_config_text_keeps_it_in_the_state_dir_for_info(
    tmp_path: Path, monkeypatch, capsys
):
    """MOCK_ENTRA_CONFIG holding TOML (a container's way): served, written privately into the
    state dir, and named by serving.json, so that `info` without the variable reads it too."""
    import mock_entra.cli

    state = tmp_path / "state"
    example = Path(__file__).parents[2] / "examples" / "mock-entra.toml"
    text = example.read_text()
    seen: dict = {}

    def fake_serve(build, paths, options, announce) -> None:
        seen["record"] = json.loads((paths.root / "serving.json").read_text())
        seen["config"] = build.args[0]  # what `_build_app` would serve
        monkeypatch.delenv("MOCK_ENTRA_CONFIG")
        assert mock_entra.cli.main(["info", "--json", "--state-dir", str(state)]) == 0
        seen["info"] = json.loads(capsys.readouterr().out)

    monkeypatch.setattr(mock_entra.cli, "serve", fake_serve)
    monkeypatch.setenv("MOCK_ENTRA_CONFIG", text)
    argv = ["serve", "--port", str(free_port()), "--state-dir", str(state)]
    assert mock_entra.cli.main(argv) == 0
    copy = state / "config-from-env.toml"
    assert copy.read_text() == text and copy.stat().st_mode & 0o077 == 0
    assert seen["record"]["config_file"] == str(copy.resolve())
    assert seen["config"].default_tenant.tenant_id == "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"
    assert seen["info"]["tenant_id"] == "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"
    assert seen["info"]["config_file"] == str(copy.resolve())
    # `info` given the text itself reads it, and names the same copy.
    monkeypatch.setenv("MOCK_ENTRA_CONFIG", text)
    assert mock_entra.cli.main(["info", "--json", "--state-dir", str(state)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tenant_id"] == "4f3c8d2e-9a7b-4c1d-8e6f-0a1b2c3d4e5f"
    assert info["config_file"] == str(copy.resolve())
