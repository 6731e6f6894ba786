"""Time the test suite as a developer runs it and as CI runs it (not a test; figures go in
docs/performance.md).

Side by side, in one sitting: `uv run pytest` as a developer runs it (the default: `CI` unset,
so `slow` and container tests are skipped; pytest-xdist workers, the headless shell) and CI's
run (`CI=true`: every test, the container tests too when an engine answers: `DOCKER_HOST`, or
the Docker sandbox's socket, as `tests/containers/engine.py` finds it; the line before the
timings says which). `--one-process` adds the default run in one process (`-n 0`),
`--full-chromium` the default run with the full Chromium instead of `chromium-headless-shell`,
`--no-ci` leaves CI's run out. Variants alternate, `--rounds` times, so that drift on a shared
machine hits them all alike.

Per run: wall seconds, CPU seconds of every process the run waited for (pytest, its workers,
the servers and browsers they started), and pytest's summary line.

    uv run python bench/bench_suite.py [--rounds 2] [--one-process] [--full-chromium] [--no-ci]
        [--json out.json] [-- extra pytest arguments]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^=+ (?P<text>.*(passed|failed).*) =+$")


@dataclass(frozen=True)
class Variant:
    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Timing:
    variant: str
    wall: float
    cpu: float
    summary: str
    status: int
    failed: tuple[str, ...] = ()


def variants(args: argparse.Namespace) -> list[Variant]:
    found = [Variant("default (uv run pytest)", ())]
    if not args.no_ci:
        found.append(Variant("CI (CI=true uv run pytest)", (), (("CI", "true"),)))
    if args.one_process:
        found.append(Variant("default, one process (-n 0)", ("-n", "0")))
    if args.full_chromium:
        found.append(Variant("default, full Chromium", (), (("CONFORMANCE_BROWSER", "chromium"),)))
    return found


def engine_line() -> str:
    """Which container engine CI's run would drive, or why none."""
    sys.path.insert(0, str(ROOT))
    from tests.containers.engine import find_engine

    found = find_engine()
    return f"container engine: {found if isinstance(found, str) else found.host or 'default'}"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(variant: Variant, extra: list[str]) -> Timing:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | dict(variant.env)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *variant.args,
        *extra,
    ]
    cpu, started = children_cpu(), time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - started, children_cpu() - cpu
    summary = next(
        (m["text"] for line in done.stdout.splitlines() if (m := SUMMARY.match(line.strip()))),
        done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "(no output)",
    )
    lines = done.stdout.splitlines()
    failed = tuple(line for line in lines if line.startswith(("FAILED", "ERROR")))
    return Timing(variant.name, round(wall, 1), round(cpu, 1), summary, done.returncode, failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--one-process", action="store_true")
    parser.add_argument("--full-chromium", action="store_true")
    parser.add_argument("--no-ci", action="store_true", help="leave CI's run out")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    args = parser.parse_args()

    print(engine_line(), flush=True)
    timings: list[Timing] = []
    for round_ in range(1, args.rounds + 1):
        for variant in variants(args):
            timing = run(variant, args.pytest_args)
            timings.append(timing)
            print(
                f"round {round_}  {timing.variant:28} wall {timing.wall:6.1f} s  "
                f"cpu {timing.cpu:6.1f} s  exit {timing.status}  {timing.summary}",
                flush=True,
            )
            for line in timing.failed:
                print(f"    {line}", flush=True)
    print()
    for variant in variants(args):
        walls = [t.wall for t in timings if t.variant == variant.name]
        cpus = [t.cpu for t in timings if t.variant == variant.name]
        print(
            f"{variant.name:28} wall median {statistics.median(walls):6.1f} s "
            f"(min {min(walls):.1f}, max {max(walls):.1f})  "
            f"cpu median {statistics.median(cpus):.1f} s"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2))
    return 0 if all(t.status == 0 for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
