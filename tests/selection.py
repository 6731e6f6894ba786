"""Which tests a run runs: a pytest plugin (the root `conftest.py` loads it) for the `slow`
and `docker` markers and `--run-slow`.

A plain `uv run pytest` is the quick run a developer makes: it skips

- `slow` tests (process-level: servers started as processes, fresh venvs, races run many
  times, real timers waited out for seconds), each with the reason;
- container tests (`docker`: image builds, compose, the App Service simulation), with one
  reason line for all of them, whether or not a container engine answers: a build and a
  compose stack cost more than the rest of the run, and their networks would make the
  browser tests wait (`tests.network_lock`).

Both run where asked: with `CI` set to a true value (CI sets `CI=true` and runs the plain
command), with `--run-slow`, and, for the container tests alone, with a `-m` expression that
selects tests for being marked `docker` (`-m docker`, `-m "docker or slow"`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping

import pytest

SLOW_REASON = "slow process-level test: run with --run-slow (CI runs it)"
CONTAINER_REASON = (
    "container tests (image builds, compose): run with -m docker or --run-slow (CI runs them)"
)
# `CI=false` (or 0, no, off) is a machine saying it is not CI; any other value says it is.
NOT_CI = frozenset({"", "0", "false", "no", "off"})
# More identifiers than this in a -m expression: only `docker` on its own is looked at.
MAX_IDENTS = 10


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether `CI` says this run is CI's (GitHub Actions, GitLab and most others set `CI=true`)."""
    return environ.get("CI", "").strip().lower() not in NOT_CI


def selects_docker(markexpr: str) -> bool:
    """Whether the `-m` expression picks tests because they are marked `docker`: some test
    marked `docker` (and any of the expression's other marks) is selected, and would not be
    without `docker`. `docker`, `docker or slow`, `docker and not slow` do; `not docker`,
    `slow`, an empty or malformed expression (pytest reports that itself) do not."""
    from _pytest.mark.expression import Expression  # what `-m` itself compiles with

    try:
        expression = Expression.compile(markexpr)
    except SyntaxError:
        return False
    idents = expression.idents()
    if "docker" not in idents:
        return False
    others = sorted(idents - {"docker"})
    if len(others) > MAX_IDENTS:
        others = []

    def selected(marks: set[str]) -> bool:
        return expression.evaluate(lambda name, /, **_: name in marks)

    for values in itertools.product((False, True), repeat=len(others)):
        marks = {name for name, on in zip(others, values, strict=True) if on}
        if selected(marks | {"docker"}) and not selected(marks):
            return True
    return False


def containers_asked(*, ci: bool, run_slow: bool, markexpr: str) -> bool:
    """Whether container tests run: in CI, with --run-slow, or when -m selects them."""
    return ci or run_slow or selects_docker(markexpr)


def run_slow(config: pytest.Config) -> bool:
    """Whether this run runs `slow` tests: `--run-slow`, or CI."""
    return bool(config.getoption("--run-slow")) or in_ci()


def run_containers(config: pytest.Config) -> bool:
    """Whether this run runs the container tests (`docker`)."""
    return containers_asked(
        ci=in_ci(), run_slow=bool(config.getoption("--run-slow")),
        markexpr=config.option.markexpr or "",
    )  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run tests marked slow (process-level) and the container tests (docker); "
        "on when CI is set",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: process-level test, skipped unless --run-slow or CI is set"
    )
    config.addinivalue_line(
        "markers",
        "docker: container test (image builds, compose), skipped unless -m docker, --run-slow "
        "or CI is set; skipped with the reason when no engine answers",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if run_slow(config):
        return
    skip = pytest.mark.skip(reason=SLOW_REASON)
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a container test not asked for before its fixtures (the image build) set up.
    Raised here rather than added as a `skip` mark, so that pytest's summary folds every
    such skip into one line (a mark's skip is reported at each test module)."""
    if item.get_closest_marker("docker") and not run_containers(item.config):
        pytest.skip(CONTAINER_REASON)
