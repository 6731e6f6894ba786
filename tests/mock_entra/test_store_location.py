"""`serve --store` / `MOCK_ENTRA_STORE`: which store a value names, how it is shown (never a
password), and the one-line errors of a value or a database the mock cannot use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mock_entra import cli
from mock_entra.core.store.backend import shown_url
from mock_entra.core.store.location import StoreLocation, StoreUrlError
from mock_entra.pytest_plugin import copy_keys


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://mock:s3cret@db:5432/entra", "postgresql://mock@db:5432/entra"),
        ("postgres://mock:s3cret@db/entra?sslmode=require", "postgres://mock@db/entra"),
        (
            "postgresql://db/entra?password=s3cret&options=-csearch_path%3Dx",
            "postgresql://db/entra",
        ),
        ("postgresql://mock:s3cret@[::1]:5433/entra", "postgresql://mock@[::1]:5433/entra"),
    ],
)
def test_a_store_url_is_shown_without_its_password(url, shown):
    assert StoreLocation.parse(url).shown(Path("unused")) == shown == shown_url(url)
    assert "s3cret" not in shown


def test_no_value_is_the_state_dirs_sqlite_file(tmp_path):
    location = StoreLocation.parse("")
    assert not location.shared and location == StoreLocation.parse(None)
    assert location.shown(tmp_path / "store.sqlite3") == str(tmp_path / "store.sqlite3")


@pytest.mark.parametrize(
    "value", ["mysql://db/x", "/var/lib/store.sqlite3", "postgresql://h:x/d", "postgresql://[::1/d"]
)
def test_other_values_are_a_usage_error(value, tmp_path, capsys):
    with pytest.raises(StoreUrlError):
        StoreLocation.parse(value)
    state = tmp_path / "state"
    assert cli.main(["serve", "--state-dir", str(state), "--store", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mock-entra: --store") and err.count("\n") == 1
    assert not state.exists()  # refused before anything is made


def test_a_database_that_does_not_answer_stops_serve_in_one_line(
    key_template, tmp_path, capsys, monkeypatch
):
    from mock_entra.ports import free_port

    state = copy_keys(key_template, tmp_path / "state")
    # Nothing listens on a port just found free: the connection is refused at once.
    url = f"postgresql://mock:s3cret@127.0.0.1:{free_port('127.0.0.1')}/entra"
    monkeypatch.setenv("MOCK_ENTRA_STORE", url)
    port = str(free_port("127.0.0.1"))
    assert cli.main(["serve", "--state-dir", str(state), "--port", port]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(f"mock-entra: store {shown_url(url)} is not usable: ")
    assert "s3cret" not in "\n".join(err)


def test_info_says_which_store(key_template, tmp_path, capsys, monkeypatch):
    state = copy_keys(key_template, tmp_path / "state")
    monkeypatch.delenv("MOCK_ENTRA_STORE", raising=False)
    assert cli.main(["info", "--state-dir", str(state), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["store"] == str(state.resolve() / "store.sqlite3")
    url = "postgresql://mock:s3cret@db:5432/entra"
    assert cli.main(["info", "--state-dir", str(state), "--store", url]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  store +postgresql://mock@db:5432/entra$", out, re.M), out
    assert "s3cret" not in out
