"""The report: JUnit XML merged with the results file, as HTML and as a terminal table."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from conformance.cli import progress_line
from conformance.report import load_run, render_html, summary_table, write_report
from conformance.results import FORMAT

# The smallest valid PNG (1x1, transparent).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="2" tests="4" time="3.5">
<testcase classname="conformance.suites.test_idp_protocol" name="test_discovery_ok" time="0.25"/>
<testcase classname="conformance.suites.test_app_e2e" name="test_sign_in" time="2.5">
  <failure message="AssertionError: &lt;script&gt;alert(1)&lt;/script&gt;">trace</failure>
</testcase>
<testcase classname="conformance.suites.test_app_e2e" name="test_second_user" time="0.01">
  <skipped type="pytest.skip" message="needs a second test user">skip</skipped>
</testcase>
<testcase classname="conformance.suites.test_app_e2e" name="test_refresh" time="0.7">
  <skipped type="pytest.xfail" message="app gap">xfail</skipped>
</testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A report folder as `conformance run` leaves it, with one failure's artifacts."""
    artifacts = tmp_path / "artifacts" / "test_sign_in"
    artifacts.mkdir(parents=True)
    (artifacts / "screenshot-0-0.png").write_bytes(PNG)
    (artifacts / "trace-0.zip").write_bytes(b"PK")
    (tmp_path / "junit.xml").write_text(JUNIT)
    results = {
        "format": FORMAT,
        "target": {"kind": "mock", "authority": "https://localhost:8443/tenant"},
        "started_at": "2026-01-01T00:00:00+00:00",
        "duration": 3.5,
        "exit_status": 1,
        "tests": [
            {
                "nodeid": "conformance/suites/test_idp_protocol.py::test_discovery_ok",
                "outcome": "passed",
                "duration": 0.25,
                "message": "",
                "observations": {"discovery.fields": ["issuer", "jwks_uri"]},
                "artifacts": [],
            },
            {
                "nodeid": "conformance/suites/test_app_e2e.py::test_sign_in",
                "outcome": "failed",
                "duration": 2.5,
                "message": "AssertionError",
                "observations": {},
                "artifacts": [
                    str(artifacts / "screenshot-0-0.png"),
                    str(artifacts / "trace-0.zip"),
                ],
            },
        ],
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    return tmp_path


def test_junit_outcomes_are_merged_with_observations_and_artifacts(report_dir: Path) -> None:
    run = load_run(report_dir)
    by_key = {t.key: t for t in run.tests}
    assert {k: t.outcome for k, t in by_key.items()} == {
        "test_idp_protocol::test_discovery_ok": "passed",
        "test_app_e2e::test_sign_in": "failed",
        "test_app_e2e::test_second_user": "skipped",
        "test_app_e2e::test_refresh": "xfailed",
    }
    assert run.observations == {"discovery.fields": ["issuer", "jwks_uri"]}
    assert len(by_key["test_app_e2e::test_sign_in"].artifacts) == 2
    assert run.target["kind"] == "mock" and run.exit_status == 1


def test_html_report_is_self_contained_and_escapes_test_output(report_dir: Path) -> None:
    html = write_report(report_dir).read_text()
    assert "data:image/png;base64," + base64.b64encode(PNG).decode() in html
    assert 'href="artifacts/test_sign_in/trace-0.zip"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "https://localhost:8443/tenant" in html
    assert "discovery.fields" in html
    assert "<link" not in html and 'src="http' not in html  # nothing fetched from elsewhere


def test_summary_table_counts_per_suite_and_lists_failures(report_dir: Path) -> None:
    table = summary_table(load_run(report_dir))
    lines = table.splitlines()
    e2e = next(line for line in lines if line.startswith("test_app_e2e"))
    assert e2e.split() == ["test_app_e2e", "0", "1", "0", "1", "1", "3.2s"]
    total = next(line for line in lines if line.startswith("total"))
    assert total.split()[:6] == ["total", "1", "1", "0", "1", "1"]
    assert any(line.startswith("FAILED  test_app_e2e::test_sign_in") for line in lines)


def test_results_file_alone_is_enough_for_a_report(report_dir: Path) -> None:
    (report_dir / "junit.xml").unlink()
    run = load_run(report_dir / "results.json")
    assert [t.outcome for t in run.tests] == ["passed", "failed"]
    assert "test_sign_in" in render_html(run, report_dir)


def test_a_folder_without_results_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_run(tmp_path)


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            "conformance/suites/test_app_e2e.py::test_sign_in PASSED                  [ 12%]",
            "[ 12%] PASSED  test_app_e2e::test_sign_in",
        ),
        (
            "conformance/suites/test_app_e2e.py::test_x XFAIL (app gap)              [100%]",
            "[100%] XFAIL   test_app_e2e::test_x",
        ),
        ("E   AssertionError: boom", None),
    ],
)
def test_run_shows_one_compact_progress_line_per_test(line: str, shown: str | None) -> None:
    assert progress_line(line) == shown
