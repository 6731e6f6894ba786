"""The fidelity corpus replayed: each real exchange in `exchanges/` against an in-process mock
put in the equivalent state. Every difference the comparison finds is either fixed or listed,
with its reason and source, in `known_differences.toml` (and so in docs/fidelity.md); a listed
difference that no longer happens must be taken off the list."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_entra.core.clock import FixedClock
from mock_entra.intercept import MockEntraInterceptor
from tests.mock_entra.client_kinds import client_kinds_config

from .check import differences
from .corpus import Exchange, decisions, exchanges, known_differences, known_for, open_items

CORPUS = exchanges()


@pytest.fixture(scope="module")
def shared_mock(tmp_path_factory, key_template: Path) -> Iterator[MockEntraInterceptor]:
    state = tmp_path_factory.mktemp("fidelity") / "state"
    shutil.copytree(key_template, state, ignore=shutil.ignore_patterns("store.sqlite3*"))
    mock = MockEntraInterceptor(client_kinds_config(), state_dir=state, clock=FixedClock())
    yield mock
    mock.stop()


@pytest.fixture
def mock(shared_mock: MockEntraInterceptor) -> MockEntraInterceptor:
    shared_mock.reset()
    clock = shared_mock.clock
    assert isinstance(clock, FixedClock)
    clock.advance(time.time() - clock.now())
    shared_mock.runtime.store.set_clock(clock.now)
    return shared_mock


@pytest.mark.parametrize("exchange", CORPUS, ids=[e.name for e in CORPUS])
def test_the_mock_answers_as_recorded(mock: MockEntraInterceptor, exchange: Exchange) -> None:
    found = sorted(differences(mock, exchange))
    known = sorted(k.difference for k in known_for(exchange.name))
    unexplained = [d for d in found if d not in known]
    gone = [k for k in known if k not in found]
    assert not unexplained, f"new differences (fix them or list them): {unexplained}"
    assert not gone, f"listed differences that no longer happen (take them off): {gone}"


def test_every_known_difference_names_an_exchange_and_a_reason() -> None:
    names = {e.name for e in CORPUS}
    for known in known_differences():
        assert known.exchange in names, known
        assert known.reason.strip() and known.source.strip(), known


def test_every_open_item_has_a_reason_and_a_source() -> None:
    for item in open_items():
        assert item.item.strip() and item.reason.strip() and item.source.strip(), item


def test_every_decision_says_what_was_decided_and_from_which_source() -> None:
    for decision in decisions():
        assert decision.decision.startswith(("Fixed", "Kept")), decision
        assert decision.item.strip() and decision.source.strip(), decision


def test_the_corpus_is_large_and_mostly_from_the_real_services() -> None:
    # The floor: 120 exchanges, 40 of them recorded or observed (not documentation).
    assert len(CORPUS) >= 120
    assert sum(e.provenance != "documented" for e in CORPUS) >= 40
