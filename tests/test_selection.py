"""Which tests a run runs (`tests/selection.py`): a plain run skips the container tests with one
reason line and sets none of them up; CI, `--run-slow` and `-m docker` run them."""

from __future__ import annotations

import pytest

from tests.selection import CONTAINER_REASON, containers_asked, in_ci, selects_docker

# Two modules of container tests, and a session fixture standing for the image build: it
# leaves a file behind when it runs.
CONTAINER_TESTS = {
    "conftest": """
        import pathlib
        import pytest

        @pytest.fixture(scope="session")
        def image():
            pathlib.Path("built").write_text("image")  # in the run's folder (its cwd)
            return "image"
        """,
    "test_compose": """
        import pytest

        pytestmark = pytest.mark.docker

        def test_up(image): pass
        def test_down(image): pass
        """,
    "test_app_service": """
        import pytest

        @pytest.mark.docker
        def test_start(image): pass

        def test_not_a_container_test(): pass
        """,
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("false", False), ("0", False), ("No", False),
     ("true", True), ("1", True), ("yes", True), ("TRUE", True)],
)  # fmt: skip
def test_ci_is_a_true_value_of_the_ci_variable(value: str | None, expected: bool) -> None:
    assert in_ci({} if value is None else {"CI": value}) is expected


@pytest.mark.parametrize(
    ("markexpr", "expected"),
    [("docker", True), ("docker or slow", True), ("docker and not slow", True),
     ("(docker)", True), ("docker and slow", True), ("slow or docker", True),
     ("", False), ("not docker", False), ("slow", False), ("not slow", False),
     ("slow and not docker", False), ("docker and not docker", False), ("docker and", False)],
)  # fmt: skip
def test_a_mark_expression_asks_for_container_tests_when_it_selects_them_for_docker(
    markexpr: str, expected: bool
) -> None:
    assert selects_docker(markexpr) is expected


def test_container_tests_run_in_ci_with_run_slow_or_with_m_docker_only() -> None:
    assert not containers_asked(ci=False, run_slow=False, markexpr="")
    assert not containers_asked(ci=False, run_slow=False, markexpr="not slow")
    assert containers_asked(ci=True, run_slow=False, markexpr="")
    assert containers_asked(ci=False, run_slow=True, markexpr="")
    assert containers_asked(ci=False, run_slow=False, markexpr="docker")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeconftest(CONTAINER_TESTS["conftest"])
    pytester.makepyfile(
        test_compose=CONTAINER_TESTS["test_compose"],
        test_app_service=CONTAINER_TESTS["test_app_service"],
    )
    return pytester.runpytest("-p", "tests.selection", "-p", "no:xdist", "-ra", *args)


def built(pytester: pytest.Pytester) -> bool:
    return (pytester.path / "built").exists()


def test_a_plain_run_skips_container_tests_with_one_reason_line_and_builds_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = run(pytester)
    result.assert_outcomes(passed=1, skipped=3)
    skipped = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert len(skipped) == 1, result.outlines
    assert skipped[0].startswith("SKIPPED [3] ") and skipped[0].endswith(CONTAINER_REASON)
    assert "-m docker" in CONTAINER_REASON and "--run-slow" in CONTAINER_REASON
    assert not built(pytester)


@pytest.mark.parametrize(
    ("env", "args"),
    [({"CI": "true"}, ()), ({}, ("--run-slow",)), ({}, ("-m", "docker"))],
    ids=["CI=true", "--run-slow", "-m docker"],
)
def test_ci_run_slow_and_m_docker_run_the_container_tests(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: tuple[str, ...],
) -> None:
    monkeypatch.delenv("CI", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run(pytester, *args)
    if args == ("-m", "docker"):
        result.assert_outcomes(passed=3, deselected=1)
    else:
        result.assert_outcomes(passed=4)
    assert built(pytester)


def test_ci_false_is_a_plain_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "false")
    run(pytester).assert_outcomes(passed=1, skipped=3)
    assert not built(pytester)
