"""`conformance run` and `conformance diff`.

    conformance run [--target mock|live] [--report DIR] [pytest options, e.g. --run-slow -k X]
    conformance diff A B

`run` runs pytest on the suites in a subprocess (so the plugin, options and exit codes are
exactly those of `pytest --target …`), shows one progress line per test, then writes
JUnit XML, the results file and a self-contained `report.html` into DIR, and prints a
summary table and the suite's wall time. Its exit status is pytest's. Options it does not
know go to pytest as they are (after `--` too, as before).
`diff` compares two report folders (or results files); it exits 1 when they disagree.
Both need the `entra-lab[conformance]` extra; without it they say so in one line (exit 2).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from client_app.extra import missing_extra
from conformance.targets import LIVE_OPTIONAL, LIVE_REQUIRED

SUITES = Path(__file__).parent / "suites"
DEFAULT_REPORT = "conformance-report"
OUTPUT = "pytest-output.txt"
# pytest -v lines: "path::test PASSED   [ 12%]"
_PROGRESS = re.compile(
    r"^(?P<test>\S+::\S+)\s+(?P<outcome>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b.*?"
    r"(?:\[\s*(?P<pct>\d+)%\])?\s*$"
)


def pytest_command(target: str, report: Path, extra: Sequence[str]) -> list[str]:
    """The pytest command line `run` uses."""
    from conformance.report import JUNIT, RESULTS

    return [
        sys.executable, "-m", "pytest", str(SUITES), "-v", "-p", "no:cacheprovider",
        # One process, whatever a project's pytest options say (entra-lab's own spread tests
        # over pytest-xdist workers): a live tenant sees one sign-in at a time, and the
        # progress lines keep their shape.
        "-o", "addopts=",
        "-p", "conformance.plugin", f"--target={target}",
        f"--junitxml={report / JUNIT}",
        f"--conformance-results={report / RESULTS}",
        f"--output={report / 'artifacts'}",
        # pytest-playwright's --tracing (used when it is installed) defaults to off.
        "--tracing=retain-on-failure",
        *extra,
    ]  # fmt: skip


def progress_line(line: str) -> str | None:
    """A compact progress line for a pytest -v result line, or None."""
    match = _PROGRESS.match(line.strip())
    if not match:
        return None
    test = match["test"].split("/")[-1].replace(".py::", "::")
    pct = f"[{int(match['pct']):3d}%]" if match["pct"] else "[    ]"
    return f"{pct} {match['outcome']:7} {test}"


def run(target: str, report: Path, extra: Sequence[str]) -> int:
    """Run the suites against `target`, write the report into `report`, print the summary."""
    from conformance.report import HTML, JUNIT, RESULTS, load_run, summary_table, write_report

    report.mkdir(parents=True, exist_ok=True)
    for stale in (JUNIT, RESULTS, HTML, OUTPUT):
        (report / stale).unlink(missing_ok=True)
    shutil.rmtree(report / "artifacts", ignore_errors=True)

    command = pytest_command(target, report, extra)
    print(f"conformance: running the suites against --target {target}", flush=True)
    started = time.monotonic()
    raw: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            raw.append(line)
            shown = progress_line(line)
            if shown:
                print(shown, flush=True)
    wall = time.monotonic() - started
    (report / OUTPUT).write_text("".join(raw))
    status = process.returncode

    if not (report / RESULTS).exists() and not (report / JUNIT).exists():
        # pytest stopped before running anything (e.g. live target not configured): say why.
        print("".join(raw).rstrip(), file=sys.stderr)
        return status or 1
    html = write_report(report)
    print()
    print(summary_table(load_run(report)))
    print()
    print(f"suite wall time: {wall:.1f}s (pytest exit status {status})")
    print(f"report: {html}\njunit:  {report / JUNIT}\npytest output: {report / OUTPUT}")
    return status


def diff(a: Path, b: Path) -> int:
    """Print where runs `a` and `b` disagree; 0 when they agree, 1 otherwise."""
    from conformance.diff import diff_runs, format_diff
    from conformance.report import load_run

    run_a, run_b = load_run(a), load_run(b)
    label_a = f"A: {run_a.target.get('kind', a.name)}"
    label_b = f"B: {run_b.target.get('kind', b.name)}"
    result = diff_runs(run_a, run_b)
    print(format_diff(result, label_a, label_b))
    return 0 if result.same else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    from mock_entra.version import installed_version  # the mock's package only when asked

    parser = argparse.ArgumentParser(prog="conformance", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser(
        "run",
        help="run the suites and write a report",
        description=textwrap.fill(
            "Run the conformance suites (pytest + Playwright) against the local mock stack or "
            "a live tenant, then write junit.xml, results.json and report.html into the report "
            "folder and print a summary. Any other option goes to pytest as it is (--run-slow, "
            "-k EXPR, -x, --headed, --tracing on...), with or without `--` before it.",
            width=88,
        ),
        epilog=_LIVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [-h] [--target {mock,live}] [--report DIR] [pytest options...]",
        allow_abbrev=False,  # a pytest option must never be taken for an abbreviation of ours
    )
    r.add_argument(
        "--target",
        choices=("mock", "live"),
        default="mock",
        help="mock: start the local mock and app (default); live: the tenant and deployed app "
        "the ENTRA_* variables describe",
    )
    r.add_argument(
        "--report",
        default=DEFAULT_REPORT,
        metavar="DIR",
        help=f"the report folder (default {DEFAULT_REPORT})",
    )
    d = sub.add_parser("diff", help="show where two reports disagree")
    d.add_argument("a", type=Path, help="report folder or results.json (e.g. the mock run)")
    d.add_argument("b", type=Path, help="report folder or results.json (e.g. the live run)")
    return parser


def _live_epilog() -> str:
    width = max(len(name) for name in (*LIVE_REQUIRED, *LIVE_OPTIONAL))
    lines = ["--target live reads (see .env.example):", "  required:"]
    lines += [f"    {name.ljust(width)}  {text}" for name, text in LIVE_REQUIRED.items()]
    lines.append("  optional:")
    lines += [f"    {name.ljust(width)}  {text}" for name, text in LIVE_OPTIONAL.items()]
    return "\n".join(lines)


_LIVE_EPILOG = _live_epilog()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `conformance` console script."""
    parser = build_parser()
    args, passed_on = parser.parse_known_args(argv)
    if args.command != "run" and passed_on:
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    problem = missing_extra("conformance", "conformance")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.command == "run":
        if "--" in passed_on:  # the separator of earlier versions: what follows goes on as is
            passed_on.remove("--")
        return run(args.target, Path(args.report), passed_on)
    try:
        return diff(args.a, args.b)
    except (OSError, ValueError) as error:
        print(f"conformance diff: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
