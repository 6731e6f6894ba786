"""The run's results file: per test outcome, time, message, observations and artifacts.

Written by the plugin when `--conformance-results PATH` is given (the `conformance run`
command always gives it); read by `report.py` and `diff.py`. JUnit XML carries outcomes
too, but not the observations (discovery fields, claim names, error codes) the mock-vs-live
diff is about, nor the screenshot and trace paths.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

FORMAT = "conformance-results/1"
WORKER_OUTPUT = "conformance-results"  # key of a pytest-xdist worker's `workeroutput`
MAX_MESSAGE = 2000


def jsonable(value: Any) -> Any:
    """`value` as plain JSON: sets become sorted lists, tuples lists, mappings dicts."""
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(kw_only=True)
class Outcome:
    """What a run says of a test besides its name: the results file's and the report's."""

    duration: float = 0.0
    message: str = ""
    observations: dict[str, Any] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)


@dataclass
class TestRecord(Outcome):
    """One test's result."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str = "unknown"  # passed, failed, skipped, error, xfailed, xpassed

    @property
    def suite(self) -> str:
        """The test file's stem, e.g. `test_idp_protocol`."""
        return Path(self.nodeid.split("::", 1)[0]).stem

    @property
    def name(self) -> str:
        """The test's name within its file."""
        return self.nodeid.split("::", 1)[-1]


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call" and report.failed:
        return "error"
    return report.outcome


class RunRecorder:
    """A pytest plugin object that collects `TestRecord`s and writes them at session end."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.records: dict[str, TestRecord] = {}
        self.target: dict[str, Any] = {}
        self.started = time.time()

    def record(self, nodeid: str) -> TestRecord:
        """The (possibly new) record of `nodeid`."""
        return self.records.setdefault(nodeid, TestRecord(nodeid))

    def observe(self, nodeid: str, key: str, value: Any) -> None:
        """Store an observation of test `nodeid` (e.g. "id_token.claims" → names)."""
        self.record(nodeid).observations[key] = jsonable(value)

    def add_artifact(self, nodeid: str, path: Path) -> None:
        """Remember a screenshot or trace file of `nodeid`."""
        self.record(nodeid).artifacts.append(str(path))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Fold setup/call/teardown reports into one outcome per test."""
        rec = self.record(report.nodeid)
        rec.duration += report.duration
        if report.when == "call":
            rec.outcome = _outcome(report)
        elif (report.failed or report.skipped) and rec.outcome in ("unknown", "passed"):
            # A skip or error in setup, or an error in teardown after a pass.
            rec.outcome = _outcome(report)
        if report.failed or report.skipped:
            text = _message(report)
            if text and not rec.message:
                rec.message = text[:MAX_MESSAGE]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the results file (only when a path was given and tests ran). A pytest-xdist
        worker hands its observations and artifacts to the controller instead, which writes
        the one file (outcomes reach the controller as reports anyway)."""
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKER_OUTPUT] = self.worker_output()
            return
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.to_dict(int(exitstatus)), indent=2))

    def worker_output(self) -> dict[str, Any]:
        """What a pytest-xdist worker saw beyond outcomes: observations, artifacts, target."""
        seen = {
            nodeid: {"observations": rec.observations, "artifacts": rec.artifacts}
            for nodeid, rec in self.records.items()
            if rec.observations or rec.artifacts
        }
        return {"target": jsonable(self.target), "records": seen}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist, on the controller: fold in what a finished worker saw."""
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if not output:
            return
        if output["target"] and not self.target:
            self.target = output["target"]
        for nodeid, seen in output["records"].items():
            rec = self.record(nodeid)
            rec.observations.update(seen["observations"])
            rec.artifacts.extend(a for a in seen["artifacts"] if a not in rec.artifacts)

    def to_dict(self, exit_status: int) -> dict[str, Any]:
        """The results file's content."""
        return {
            "format": FORMAT,
            "target": self.target,
            "started_at": dt.datetime.fromtimestamp(self.started, dt.UTC).isoformat(),
            "duration": round(time.time() - self.started, 3),
            "exit_status": exit_status,
            "tests": [asdict(r) for r in self.records.values()],
        }


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(report.longrepr or "")


def load_results(path: Path) -> dict[str, Any]:
    """Read a results file, checking its format tag."""
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a conformance results file ({FORMAT})")
    return data


def records(data: Mapping[str, Any]) -> Iterable[TestRecord]:
    """The `TestRecord`s of a loaded results file."""
    for raw in data.get("tests", []):
        yield TestRecord(**raw)
