"""Container tests and browser tests never at once (`tests/network_lock.py`): the lock, which
test takes it how, and, in a run on two pytest-xdist workers, that each holds it as it should."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.network_lock import (
    WORKER_KEY,
    NetworkLock,
    pytest_configure_node,
    role,
    tentative_addresses,
)

ROOT = Path(__file__).resolve().parents[1]


def test_browser_tests_share_the_lock_and_a_container_test_has_it_alone(tmp_path: Path) -> None:
    lock = NetworkLock(tmp_path / "lock")
    with (
        lock.held(exclusive=False),
        lock.held(exclusive=False, blocking=False),
        pytest.raises(BlockingIOError),
        lock.held(exclusive=True, blocking=False),
    ):
        pass
    with lock.held(exclusive=True):
        for exclusive in (False, True):
            with pytest.raises(BlockingIOError), lock.held(exclusive=exclusive, blocking=False):
                pass
    with lock.held(exclusive=True, blocking=False):  # free again
        pass


def test_tentative_ipv6_addresses_are_read_from_the_kernels_table(tmp_path: Path) -> None:
    table = tmp_path / "if_inet6"
    table.write_text(
        "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n"  # permanent
        "fe80000000000000004224fffe598710 05 40 20 40  br-1234\n"  # tentative
        "fe80000000000000004224fffe598711 06 40 20 c0  veth99\n"  # tentative, permanent
    )
    assert tentative_addresses(table) == [
        "fe80000000000000004224fffe598710",
        "fe80000000000000004224fffe598711",
    ]
    assert tentative_addresses(tmp_path / "absent") == []


def test_a_container_test_takes_the_lock_alone_a_browser_test_shared_others_not(
    pytester: pytest.Pytester,
) -> None:
    source = """
        import pytest

        @pytest.mark.docker
        @pytest.mark.browser  # a container test may drive a browser too: it stays exclusive
        def test_container(): pass

        @pytest.mark.browser
        def test_browser(): pass

        def test_other(): pass
        """
    container, browser, other = pytester.getitems(source)
    assert (role(container), role(browser), role(other)) == (True, False, None)


def test_the_controller_hands_out_a_lock_only_when_container_tests_run(
    monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(pytestconfig.option, "markexpr", "")
    monkeypatch.setattr(pytestconfig.option, "run_slow", False)
    plain = SimpleNamespace(config=pytestconfig, workerinput={})
    pytest_configure_node(plain)
    assert plain.workerinput == {}

    monkeypatch.setenv("CI", "true")
    ci = SimpleNamespace(config=pytestconfig, workerinput={})
    pytest_configure_node(ci)
    assert Path(ci.workerinput[WORKER_KEY]).parent.is_dir()


@pytest.mark.slow  # two pytest-xdist workers in a child pytest
def test_on_two_workers_each_test_holds_the_lock_as_its_kind_says(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import fcntl
        import pytest

        def blocked(request, flag):
            with open(request.config.workerinput["entra_lab_network_lock"]) as handle:
                try:
                    fcntl.flock(handle, flag | fcntl.LOCK_NB)
                except BlockingIOError:
                    return True
                return False

        @pytest.mark.docker
        @pytest.mark.parametrize("n", range(3))
        def test_container(request, n):
            assert blocked(request, fcntl.LOCK_SH)

        @pytest.mark.browser
        @pytest.mark.parametrize("n", range(3))
        def test_browser(request, n):
            assert blocked(request, fcntl.LOCK_EX) and not blocked(request, fcntl.LOCK_SH)
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("CI", raising=False)
    result = pytester.runpytest_subprocess(
        "-p", "tests.selection", "-p", "tests.network_lock", "-n", "2", "--run-slow"
    )
    result.assert_outcomes(passed=6)
