"""Repository-wide test options: the `slow` and `docker` markers.

`slow` marks process-level tests (servers started as processes, fresh venvs, races run many
times). A plain `uv run pytest` skips them so the suite stays quick on a laptop; `--run-slow`,
or `CI` set in the environment (as CI sets it), runs them too. `docker` tests skip themselves
when no container engine answers.
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run tests marked slow (process-level); on when CI is set",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: process-level test, skipped unless --run-slow or CI is set"
    )
    config.addinivalue_line(
        "markers", "docker: needs a container engine; skipped with the reason when none answers"
    )


def run_slow(config: pytest.Config) -> bool:
    return bool(config.getoption("--run-slow") or os.environ.get("CI"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if run_slow(config):
        return
    skip = pytest.mark.skip(reason="slow process-level test: run with --run-slow (CI runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
