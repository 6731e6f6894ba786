"""The README's fault-scenario table, generated: the catalogue (`mock_entra.core.faults`) and
the client-robustness suite's outcomes, never typed by hand.

    uv run pytest conformance/suites/test_client_robustness.py --conformance-results run.json
    python -m conformance.scenario_table --results run.json --write

`--results` keeps the run's outcome per scenario in `docs/robustness-results.json` (the
suite records each as the observation `scenario:<name>`); `--write` puts the table between
the README's markers. Without options it prints the table from the committed outcomes.
A docs test checks that the README's table is what this renders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from conformance.results import load_results, records

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
OUTCOMES = ROOT / "docs" / "robustness-results.json"
START = "<!-- scenario-table:start (python -m conformance.scenario_table --write) -->"
END = "<!-- scenario-table:end -->"
PREFIX = "scenario:"


def outcomes_from_run(data: dict[str, Any]) -> dict[str, str]:
    """Each scenario's outcome in a results file: `passed` or `failed`."""
    found: dict[str, str] = {}
    for record in records(data):
        for key, value in record.observations.items():
            if key.startswith(PREFIX):
                found[key[len(PREFIX) :]] = "passed" if value == "passed" else "failed"
    return dict(sorted(found.items()))


def load_outcomes(path: Path = OUTCOMES) -> dict[str, str]:
    return json.loads(path.read_text())["scenarios"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(outcomes: dict[str, str]) -> str:
    """The Markdown table: every scenario of the catalogue, in its order."""
    from mock_entra.core.faults import catalogue_rows

    lines = [
        "| scenario | what it simulates | the real-world event | OIDF RP test | client_app |",
        "|---|---|---|---|---|",
    ]
    for row in catalogue_rows():
        outcome = outcomes.get(row["name"], "not run")
        verdict = {"passed": "passes", "failed": "**fails**"}.get(outcome, outcome)
        oidf = f"`{row['oidf']}`" if row["oidf"] else ""
        lines.append(
            f"| `{row['name']}` | {_cell(row['description'])} | {_cell(row['event'])} "
            f"| {oidf} | {verdict} |"
        )
    return "\n".join(lines)


def readme_table(text: str) -> str:
    """The table between the README's markers."""
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip("\n")


def write_readme(table: str, path: Path = README) -> None:
    text = path.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    path.write_text(text[:start] + "\n" + table + "\n" + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.scenario_table")
    parser.add_argument("--results", type=Path, help="a --conformance-results file to record")
    parser.add_argument("--write", action="store_true", help="update the README's table")
    args = parser.parse_args(argv)
    if args.results is not None:
        found = outcomes_from_run(load_results(args.results))
        if not found:
            parser.error(f"{args.results} holds no scenario outcomes (run the robustness suite)")
        OUTCOMES.write_text(json.dumps({"scenarios": found}, indent=2) + "\n")
    table = render(load_outcomes())
    if args.write:
        write_readme(table)
    else:
        sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
