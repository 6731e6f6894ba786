"""The README's fault-scenario table is the one `conformance.scenario_table` renders from the
catalogue and the robustness suite's last recorded outcomes, and every scenario has one."""

from __future__ import annotations

import json

from conformance import scenario_table
from mock_entra.core.faults import CATALOGUE


def test_readme_table_is_generated_from_catalogue_and_recorded_outcomes():
    expected = scenario_table.render(scenario_table.load_outcomes())
    actual = scenario_table.readme_table(scenario_table.README.read_text())
    assert actual == expected, "run: python -m conformance.scenario_table --write"


def test_every_scenario_has_a_recorded_outcome():
    recorded = scenario_table.load_outcomes()
    assert set(recorded) == {s.name for s in CATALOGUE}
    assert set(recorded.values()) <= {"passed", "failed"}


def test_outcomes_are_read_from_a_results_file(tmp_path):
    run = {
        "format": "conformance-results/1",
        "tests": [
            {"nodeid": "a.py::t", "observations": {"scenario:graph.forbidden": "passed"}},
            {"nodeid": "a.py::u", "observations": {"scenario:token.throttled": "failed: x"}},
        ],
    }
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    found = scenario_table.outcomes_from_run(scenario_table.load_results(path))
    assert found == {"graph.forbidden": "passed", "token.throttled": "failed"}
    table = scenario_table.render(found)
    assert "| `graph.forbidden` |" in table and "| passes |" in table
    assert "**fails**" in table and "not run" in table
