"""Time the test suite as a developer runs it (not a test; figures go in docs/performance.md).

`uv run pytest` (the default: pytest-xdist workers, the headless shell), side by side in one
sitting with the same run in one process (`-n 0`) and, with `--full-chromium`, with the full
Chromium instead of `chromium-headless-shell`. Variants alternate, `--rounds` times, so that
drift on a shared machine hits them all alike. Container tests are left out (`-m "not
docker"`), as on a machine without an engine; `CI` is unset, so `slow` tests are skipped as a
plain run skips them.

Per run: wall seconds, CPU seconds of every process the run waited for (pytest, its workers,
the servers and browsers they started), and pytest's summary line.

    uv run python bench/bench_suite.py [--rounds 2] [--full-chromium] [--json out.json]
        [-- extra pytest arguments]
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


def variants(full_chromium: bool) -> list[Variant]:
    found = [Variant("default (xdist workers)", ()), Variant("one process (-n 0)", ("-n", "0"))]
    if full_chromium:
        found.append(Variant("default, full Chromium", (), (("CONFORMANCE_BROWSER", "chromium"),)))
    return found


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(variant: Variant, extra: list[str]) -> Timing:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | dict(variant.env)
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not docker",
        *variant.args, *extra,
    ]  # fmt: skip
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
    parser.add_argument("--full-chromium", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    args = parser.parse_args()

    timings: list[Timing] = []
    for round_ in range(1, args.rounds + 1):
        for variant in variants(args.full_chromium):
            timing = run(variant, args.pytest_args)
            timings.append(timing)
            print(
                f"round {round_}  {timing.variant:26} wall {timing.wall:6.1f} s  "
                f"cpu {timing.cpu:6.1f} s  exit {timing.status}  {timing.summary}",
                flush=True,
            )
            for line in timing.failed:
                print(f"    {line}", flush=True)
    print()
    for variant in variants(args.full_chromium):
        walls = [t.wall for t in timings if t.variant == variant.name]
        cpus = [t.cpu for t in timings if t.variant == variant.name]
        print(
            f"{variant.name:26} wall median {statistics.median(walls):6.1f} s "
            f"(min {min(walls):.1f}, max {max(walls):.1f})  "
            f"cpu median {statistics.median(cpus):.1f} s"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2))
    return 0 if all(t.status == 0 for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
