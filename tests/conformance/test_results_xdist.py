"""The results file under pytest-xdist: observations and artifacts made in workers reach the
one file the controller writes, and workers write none of their own."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from conformance.results import WORKER_OUTPUT, RunRecorder


def test_a_workers_observations_and_artifacts_reach_the_controllers_records() -> None:
    worker = RunRecorder(None)
    worker.target = {"kind": "mock", "authority": "https://localhost:1/t/v2.0"}
    worker.observe("t.py::a", "id_token.claims", {"sub", "aud"})
    worker.add_artifact("t.py::a", Path("/r/a.png"))
    worker.record("t.py::quiet")  # nothing seen: not sent

    controller = RunRecorder(Path("unused.json"))
    node = SimpleNamespace(workeroutput={WORKER_OUTPUT: worker.worker_output()})
    controller.pytest_testnodedown(node, None)
    controller.pytest_testnodedown(SimpleNamespace(workeroutput={}), None)  # an old worker

    data = controller.to_dict(0)
    assert data["target"] == worker.target
    (record,) = data["tests"]
    assert record["nodeid"] == "t.py::a"
    assert record["observations"] == {"id_token.claims": ["aud", "sub"]}
    assert record["artifacts"] == ["/r/a.png"]


@pytest.mark.slow
def test_a_run_on_two_workers_writes_one_results_file_with_every_observation(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_seen="""
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_observes(observe, n):
            observe("number", n)
        """
    )
    out = pytester.path / "run.json"
    result = pytester.runpytest_subprocess(
        "-p", "conformance.plugin", "-n", "2", f"--conformance-results={out}"
    )
    result.assert_outcomes(passed=6)
    data = json.loads(out.read_text())
    seen = {t["nodeid"]: t["observations"] for t in data["tests"]}
    assert {v["number"] for v in seen.values()} == set(range(6))
    assert all(t["outcome"] == "passed" for t in data["tests"])
