"""`conformance diff`: where a mock run and a live run disagree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.diff import diff_runs, format_diff
from conformance.report import Run, TestResult


def run_of(kind: str, tests: dict[str, str], observations: dict[str, Any]) -> Run:
    """A run with the given outcomes; all observations on the first test."""
    results = [
        TestResult(key.split("::")[0], key.split("::")[1], outcome)
        for key, outcome in tests.items()
    ]
    results[0].observations = observations
    return Run({"kind": kind}, 1.0, 0, "", results)


# What both runs observed alike; each adds where they disagree.
_AGREED = {
    "id_token.claims": ["aud", "iss", "sid"],
    "discovery.token_endpoint": "{host}/{tenant}/oauth2/v2.0/token",
}
_DISCOVERY = "test_idp_protocol::test_discovery"
MOCK = run_of(
    "mock",
    {_DISCOVERY: "passed", "test_app_e2e::test_refresh": "xfailed"},
    {
        "discovery.fields": ["issuer", "jwks_uri", "kerberos_endpoint"],
        "error.invalid_scope": {"error": "invalid_scope", "codes": ["AADSTS70011"]},
        **_AGREED,
    },
)
LIVE = run_of(
    "live",
    {_DISCOVERY: "passed", "test_idp_protocol::test_scope": "failed"},
    {
        "discovery.fields": ["issuer", "jwks_uri", "mtls_endpoint_aliases"],
        "error.invalid_scope": {"error": "invalid_scope", "codes": ["AADSTS650053"]},
        **_AGREED,
    },
)


def test_diff_reports_outcomes_fields_and_error_codes_that_differ() -> None:
    diff = diff_runs(MOCK, LIVE)
    found = {(d.section, d.item): (d.a, d.b) for d in diff.differences}
    assert found == {
        ("outcome", "test_app_e2e::test_refresh"): ("xfailed", "(absent)"),
        ("outcome", "test_idp_protocol::test_scope"): ("(absent)", "failed"),
        ("discovery", "discovery.fields"): (
            "only here: kerberos_endpoint",
            "only here: mtls_endpoint_aliases",
        ),
        ("error", "error.invalid_scope"): (
            '{"codes": ["AADSTS70011"], "error": "invalid_scope"}',
            '{"codes": ["AADSTS650053"], "error": "invalid_scope"}',
        ),
    }
    assert (diff.compared_tests, diff.compared_observations) == (3, 4)


def test_diff_output_is_side_by_side_and_grouped_by_section() -> None:
    text = format_diff(diff_runs(MOCK, LIVE), "A: mock", "B: live", width=100)
    assert "4 differences" in text
    assert "== discovery" in text and "== outcome" in text and "== error" in text
    row = next(line for line in text.splitlines() if line.startswith("discovery.fields"))
    assert row.index("kerberos_endpoint") < row.index("mtls_endpoint_aliases")
    assert "id_token.claims" not in text  # equal claim names are not listed


def test_identical_runs_agree() -> None:
    diff = diff_runs(MOCK, MOCK)
    assert diff.same
    assert "agree" in format_diff(diff, "A", "B")


def write_results(folder: Path, run: Run) -> Path:
    """A results file for `run` (what the plugin writes)."""
    folder.mkdir()
    tests = [
        {
            "nodeid": f"conformance/suites/{t.suite}.py::{t.name}",
            "outcome": t.outcome,
            "duration": 0.1,
            "message": "",
            "observations": t.observations,
            "artifacts": [],
        }
        for t in run.tests
    ]
    data = {"format": "conformance-results/1", "target": run.target, "tests": tests}
    (folder / "results.json").write_text(json.dumps(data))
    return folder


def test_diff_command_exits_1_on_differences_0_when_equal_2_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock = write_results(tmp_path / "mock", MOCK)
    live = write_results(tmp_path / "live", LIVE)
    assert main(["diff", str(mock), str(live)]) == 1
    out = capsys.readouterr().out
    assert "A: mock" in out and "B: live" in out and "AADSTS650053" in out
    assert main(["diff", str(mock), str(mock / "results.json")]) == 0
    assert main(["diff", str(mock), str(tmp_path / "nowhere")]) == 2


def test_run_passes_pytest_options_on_with_or_without_the_separator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import conformance.cli

    calls: list[tuple[str, Path, list[str]]] = []
    monkeypatch.setattr(conformance.cli, "run", lambda *args: calls.append(args) or 0)
    assert main(["run", "--run-slow", "--target", "live", "-k", "discovery", "-x"]) == 0
    assert main(["run", "--report", str(tmp_path), "--", "--run-slow", "-k", "a or b"]) == 0
    assert calls == [
        ("live", Path("conformance-report"), ["--run-slow", "-k", "discovery", "-x"]),
        ("mock", tmp_path, ["--run-slow", "-k", "a or b"]),
    ]


def test_diff_refuses_options_it_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diff", "a", "b", "--run-slow"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --run-slow" in capsys.readouterr().err


def test_run_help_describes_the_command_and_names_every_entra_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance.targets import LIVE_OPTIONAL, LIVE_REQUIRED

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    shown = capsys.readouterr().out
    assert "Run the conformance suites" in shown and "--run-slow" in shown
    for name in (*LIVE_REQUIRED, *LIVE_OPTIONAL):
        assert name in shown, name


@pytest.mark.slow
def test_run_on_the_mock_writes_a_report_with_progress_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this repository, whose pytest options spread tests over pytest-xdist workers: `run`
    # is one process whatever they say, so its progress lines and results keep their shape.
    report = tmp_path / "report"
    status = main(["run", "--report", str(report), "-k", "discovery"])  # pytest's -k, as it is
    out = capsys.readouterr().out
    assert status == 0, out
    assert "PASSED  test_idp_protocol::test_discovery_document_lists" in out, out
    results = json.loads((report / "results.json").read_text())
    observed = [t for t in results["tests"] if t["observations"]]
    assert observed and results["target"]["kind"] == "mock", results["target"]
    assert (report / "report.html").exists() and (report / "junit.xml").exists()
