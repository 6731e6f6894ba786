"""A run's report: JUnit XML (outcomes, times, messages) merged with the results file
(target, observations, screenshots, traces), rendered as a self-contained HTML page and as a
terminal summary table.

A report folder, as `conformance run --report DIR` leaves it::

    DIR/junit.xml  DIR/results.json  DIR/report.html  DIR/pytest-output.txt  DIR/artifacts/…
"""

from __future__ import annotations

import base64
import html
import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from conformance.results import Outcome, load_results, records

JUNIT = "junit.xml"
RESULTS = "results.json"
HTML = "report.html"
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


@dataclass
class TestResult(Outcome):
    """One test as the report shows it."""

    __test__ = False  # not a pytest test class

    suite: str  # the test file's stem
    name: str
    outcome: str

    @property
    def key(self) -> str:
        """`suite::name`, the same for a test in any run (used by the diff)."""
        return f"{self.suite}::{self.name}"


@dataclass
class Run:
    """A whole run: its target, timing and tests."""

    target: dict[str, Any]
    duration: float
    exit_status: int | None
    started_at: str
    tests: list[TestResult]

    def counts(self, suite: str | None = None) -> Counter[str]:
        """Outcome counts, for one suite or all."""
        return Counter(t.outcome for t in self.tests if suite is None or t.suite == suite)

    @property
    def suites(self) -> list[str]:
        """Suite names in first-seen order."""
        return list(dict.fromkeys(t.suite for t in self.tests))

    @property
    def observations(self) -> dict[str, Any]:
        """Every test's observations in one mapping (keys are unique by convention)."""
        merged: dict[str, Any] = {}
        for test in self.tests:
            merged.update(test.observations)
        return merged


def _suite_of_classname(classname: str) -> str:
    # "conformance.suites.test_idp_protocol[.TestClass]" -> "test_idp_protocol"
    parts = classname.split(".")
    tests = [p for p in parts if p.startswith("test")]
    return tests[-1] if tests else parts[-1]


def parse_junit(path: Path) -> list[TestResult]:
    """The test cases of a JUnit XML file (pytest's xunit2 flavour)."""
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = child.get("message") or (child.text or "").strip()
                if child.tag == "skipped" and child.get("type") == "pytest.xfail":
                    outcome = "xfailed"
                break
        tests.append(
            TestResult(
                suite=_suite_of_classname(case.get("classname", "")),
                name=case.get("name", ""),
                outcome=outcome,
                duration=float(case.get("time") or 0),
                message=message,
            )
        )
    return tests


def load_run(location: Path) -> Run:
    """A run from a report folder (JUnit + results) or from a results file alone."""
    folder = location if location.is_dir() else location.parent
    results_path = location if location.is_file() else folder / RESULTS
    junit_path = folder / JUNIT
    if not results_path.exists() and not junit_path.exists():
        raise FileNotFoundError(f"no {RESULTS} or {JUNIT} in {folder}")
    data = load_results(results_path) if results_path.exists() else {}
    by_key = {}
    for rec in records(data):
        outcome = {f.name: getattr(rec, f.name) for f in fields(Outcome)}
        by_key[f"{rec.suite}::{rec.name}"] = TestResult(rec.suite, rec.name, rec.outcome, **outcome)
    if junit_path.exists():
        # JUnit is pytest's own account of outcomes and times: it wins where both know a test.
        for case in parse_junit(junit_path):
            known = by_key.get(case.key)
            if known is not None:
                case.observations, case.artifacts = known.observations, known.artifacts
                case.message = case.message or known.message
                if known.outcome == "xpassed":
                    case.outcome = "xpassed"
            by_key[case.key] = case
    return Run(
        target=data.get("target", {}),
        duration=float(data.get("duration") or sum(t.duration for t in by_key.values())),
        exit_status=data.get("exit_status"),
        started_at=data.get("started_at", ""),
        tests=list(by_key.values()),
    )


# -- terminal ----------------------------------------------------------------------------------


def _summary_row(label: str, tests: list[TestResult]) -> tuple[str, ...]:
    counts = Counter(t.outcome for t in tests)
    return (
        label,
        *(str(counts[o]) for o in ("passed", "failed", "error", "skipped")),
        str(counts["xfailed"] + counts["xpassed"]),
        f"{sum(t.duration for t in tests):.1f}s",
    )


def summary_table(run: Run) -> str:
    """Per-suite counts and time, a total, then one line per failed test."""
    header = ("suite", "passed", "failed", "error", "skipped", "xfail", "time")
    rows = [_summary_row(s, [t for t in run.tests if t.suite == s]) for s in run.suites]
    total = _summary_row("total", run.tests)
    widths = [max(len(r[i]) for r in (header, *rows, total)) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    out = [line(header), rule, *(line(r) for r in rows), rule, line(total)]
    bad = [t for t in run.tests if t.outcome in ("failed", "error", "xpassed")]
    if bad:
        out.append("")
        for test in bad:
            first = test.message.splitlines()[0] if test.message else ""
            out.append(f"{test.outcome.upper():7} {test.key}: {first}")
    return "\n".join(out)


# -- HTML --------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right}
.passed{color:#107c10}.failed,.error,.xpassed{color:#c50f1f;font-weight:600}
.skipped,.xfailed{color:#8a6d00}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5rem;margin:.3rem 0;max-height:20rem;
overflow:auto}img{max-width:min(100%,40rem);border:1px solid #ccc;margin:.3rem 0}
details summary{cursor:pointer}
"""


def _artifact_html(path_text: str, folder: Path) -> str:
    path = Path(path_text)
    if not path.is_absolute():
        path = folder / path
    name = html.escape(path.name)
    try:
        shown = path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    if path.suffix == ".png" and path.exists():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<div>{name}<br><img alt="{name}" src="data:image/png;base64,{data}"></div>'
    link = html.escape(shown)
    return (
        f'<div>trace: <a href="{link}">{link}</a> (<code>playwright show-trace {link}</code>)</div>'
    )


def render_html(run: Run, folder: Path) -> str:
    """The report as one HTML page (screenshots embedded, traces linked relative to `folder`)."""
    esc = html.escape
    total = run.counts()
    target = run.target
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>conformance report: {esc(str(target.get('kind', '?')))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Conformance report: {esc(str(target.get('kind', 'unknown target')))}</h1>",
        "<p>"
        + ", ".join(f'<span class="{o}">{total[o]} {o}</span>' for o in OUTCOMES if total[o])
        + f" in {run.duration:.1f}s; started {esc(run.started_at)}</p>",
        "<table><tr><th>target</th><th></th></tr>",
        *(f"<tr><td>{esc(k)}</td><td>{esc(str(v))}</td></tr>" for k, v in target.items()),
        "</table>",
        "<table><tr><th>suite</th><th>test</th><th>outcome</th><th class=num>time</th></tr>",
    ]
    for test in run.tests:
        details = []
        if test.message:
            details.append(f"<pre>{esc(test.message)}</pre>")
        details += [_artifact_html(a, folder) for a in test.artifacts]
        if test.observations:
            observed = json.dumps(test.observations, indent=2, sort_keys=True)
            details.append(
                f"<details><summary>observations</summary><pre>{esc(observed)}</pre></details>"
            )
        parts.append(
            f"<tr><td>{esc(test.suite)}</td><td>{esc(test.name)}{''.join(details)}</td>"
            f'<td class="{esc(test.outcome)}">{esc(test.outcome)}</td>'
            f"<td class=num>{test.duration:.2f}s</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(folder: Path) -> Path:
    """Build `folder/report.html` from the folder's JUnit XML and results file."""
    run = load_run(folder)
    out = folder / HTML
    out.write_text(render_html(run, folder), encoding="utf-8")
    return out
