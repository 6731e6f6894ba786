"""The app's session files (issue 18, findings 1 and 8): a directory of its own, JSON that is
never unpickled, and a bounded number of files however many anonymous sign-ins start."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import stat
import struct
import time
from pathlib import Path

import pytest
from client_app_fakes import FakeIdP, session_cookie, sign_in, start_login

from client_app import Settings, SettingsError, cli, create_app
from client_app.session_store import CHECK_EVERY, SessionFiles
from client_app.settings import DEFAULT_SESSION_DIR
from mock_entra.ports import free_port

KEY_PREFIX = "entra_lab:"  # flask-session's SESSION_KEY_PREFIX in create_app


class _Payload:
    """What an attacker plants: unpickling it creates `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _plant(session_dir: Path, sid: str, content: bytes) -> None:
    name = hashlib.sha256((KEY_PREFIX + sid).encode()).hexdigest()
    expires = int(time.time()) + 3600
    (session_dir / name).write_bytes(struct.pack("I", expires) + content)


def test_a_planted_pickle_is_never_unpickled(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    marker = tmp_path / "ran"
    sid = "a" * 43
    _plant(Path(settings.session_dir), sid, pickle.dumps(_Payload(marker)))
    client = app.test_client()
    client.set_cookie("entra_lab_session", sid)
    response = client.get("/")
    assert response.status_code == 200
    assert not marker.exists(), "the session file was unpickled: its code ran"
    assert 'id="user-name"' not in response.text  # read as no session


def test_sessions_are_written_as_json(settings: Settings, idp: FakeIdP) -> None:
    app = create_app(settings)
    client = app.test_client()
    sign_in(client, idp)
    files = [p for p in Path(settings.session_dir).iterdir() if p.is_file()]
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        body = path.read_bytes()[4:]
        assert body.startswith(b"{"), body[:20]


def test_a_missing_session_dir_is_made_private(settings: Settings, tmp_path: Path) -> None:
    session_dir = tmp_path / "new" / "sessions"
    create_app(dataclasses.replace(settings, session_dir=str(session_dir)))
    assert stat.S_IMODE(session_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_a_session_dir_others_can_write_is_refused(
    settings: Settings, tmp_path: Path, mode: int
) -> None:
    session_dir = tmp_path / "shared"
    session_dir.mkdir()
    session_dir.chmod(mode)
    with pytest.raises(SettingsError, match=r"SESSION_DIR .* writable by other users"):
        create_app(dataclasses.replace(settings, session_dir=str(session_dir)))


def test_a_session_dir_of_another_user_is_refused(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_dir = tmp_path / "theirs"
    session_dir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(session_dir, 65534, 65534)  # nobody's, as another local user would make it
    else:  # cannot give a directory away: be another user instead
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)
    with pytest.raises(SettingsError, match=r"SESSION_DIR .* belongs to another user"):
        create_app(dataclasses.replace(settings, session_dir=str(session_dir)))


def test_client_app_says_so_in_one_line(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session_dir = tmp_path / "shared"
    session_dir.mkdir()
    session_dir.chmod(0o777)
    for name, value in {**env, "SESSION_DIR": str(session_dir)}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "SESSION_DIR" in err and "writable by other users" in err
    assert "Traceback" not in err


def test_the_default_session_dir_is_per_user() -> None:
    assert DEFAULT_SESSION_DIR.endswith(f"-{os.geteuid()}")


def test_a_flood_of_anonymous_sign_ins_stays_bounded_and_keeps_signed_in_users(
    settings: Settings, idp: FakeIdP
) -> None:
    cap = 2 * CHECK_EVERY
    app = create_app(settings, max_sessions=cap)
    user = app.test_client()
    sign_in(user, idp)
    assert session_cookie(user) is not None
    session_dir = Path(settings.session_dir)
    for _ in range(6 * cap):
        start_login(app.test_client())  # a new browser each time: a new pending session
    count = sum(1 for p in session_dir.iterdir() if p.is_file())
    assert count <= cap + CHECK_EVERY, count
    assert 'id="user-name"' in user.get("/").text, "the signed-in user was evicted"


def test_pending_sessions_expire_sooner_than_signed_in_ones(tmp_path: Path) -> None:
    files = SessionFiles(
        str(tmp_path / "s"), pending_lifetime=60, is_pending=lambda v: "user" not in v
    )
    files.set("pending", {"auth_flow": {}}, timeout=12 * 3600)
    files.set("signed-in", {"user": {}}, timeout=12 * 3600)
    now = time.time()

    def expiry(key: str) -> int:
        with open(files._get_filename(key), "rb") as f:
            return int(struct.unpack("I", f.read(4))[0])

    assert expiry("pending") <= now + 61
    assert expiry("signed-in") >= now + 12 * 3600 - 5
