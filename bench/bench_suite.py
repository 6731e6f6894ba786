"""Time the test suite as a developer runs it and as CI runs it (not a test; figures go in
docs/performance.md).

Side by side, in one sitting: `uv run pytest` as a developer runs it (the default: `CI` unset,
so `slow` and container tests are skipped; pytest-xdist workers, the headless shell) and CI's
run (`CI=true`: every test, the container tests too when an engine answers: `DOCKER_HOST`, or
the Docker sandbox's socket, as `tests/containers/engine.py` finds it; the line before the
timings says which). `--one-process` adds the default run in one process (`-n 0`),
`--full-chromium` the default run with the full Chromium instead of `chromium-headless-shell`.
Variants alternate, `--rounds` times, so that drift on a shared machine hits them all alike;
CI's run (minutes with an engine) can take fewer rounds: `--ci-rounds` (0, or `--no-ci`,
leaves it out). The end of the output is each variant's median.

Per run: wall seconds, CPU seconds of every process the run waited for (pytest, its workers,
the servers and browsers they started), the 1-minute load average as it ended (the run itself
keeps about one runnable process per core: much more means other work shared the machine),
pytest's summary line and, when an engine answers, what happened on it meanwhile (`docker
events` by kind, e.g. `image tag`, `network create`; any client's, should the engine be
shared): a default run should show none, CI's its builds and networks.

    uv run python bench/bench_suite.py [--rounds 3] [--ci-rounds 1 | --no-ci] [--one-process]
        [--full-chromium] [--json out.json] [-- extra pytest arguments]
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
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.containers.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^=+ (?P<text>.*(passed|failed|skipped).*) =+$")
CI_NAME = "CI (CI=true uv run pytest)"


@dataclass(frozen=True)
class Variant:
    name: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    rounds: int = 1


@dataclass(frozen=True)
class Timing:
    variant: str
    wall: float
    cpu: float
    summary: str
    status: int
    failed: tuple[str, ...] = ()
    engine_events: str = ""  # "" without an engine; "none", or "3 image tag, 2 network create"
    load: float = 0.0  # the 1-minute load average as the run ended: other work on the machine


def variants(args: argparse.Namespace) -> list[Variant]:
    rounds = args.rounds
    found = [Variant("default (uv run pytest)", (), rounds=rounds)]
    ci_rounds = 0 if args.no_ci else rounds if args.ci_rounds is None else args.ci_rounds
    if ci_rounds > 0:
        found.append(Variant(CI_NAME, (), (("CI", "true"),), rounds=ci_rounds))
    if args.one_process:
        found.append(Variant("default, one process (-n 0)", ("-n", "0"), rounds=rounds))
    if args.full_chromium:
        chromium = (("CONFORMANCE_BROWSER", "chromium"),)
        found.append(Variant("default, full Chromium", (), chromium, rounds=rounds))
    return found


def find_engine() -> Engine | str:
    """The container engine CI's run would drive (as the container tests find it), or why none."""
    sys.path.insert(0, str(ROOT))
    from tests.containers.engine import find_engine as find

    return find()


def engine_line(engine: Engine | str) -> str:
    if isinstance(engine, str):
        return f"container engine: none ({engine})"
    return f"container engine: up ({engine.host or 'the docker CLI default'})"


def engine_events(engine: Engine | str, since: float, until: float) -> str:
    """What happened on the engine between two times, by kind: `docker events` (objects
    created, tagged, destroyed: a build tags an image, compose creates networks)."""
    if isinstance(engine, str):
        return ""
    done = engine.run(
        "events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
        "--format", "{{.Type}} {{.Action}}", check=False, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        return f"unknown (docker events: {done.stderr.strip()[:80]})"
    counts = Counter(line.split(":")[0] for line in done.stdout.splitlines() if line.strip())
    return ", ".join(f"{n} {kind}" for kind, n in counts.most_common()) or "none"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(variant: Variant, extra: list[str], engine: Engine | str) -> Timing:
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
    cpu, started, since = children_cpu(), time.monotonic(), time.time()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - started, children_cpu() - cpu
    events, load = engine_events(engine, since, time.time()), os.getloadavg()[0]
    summary = next(
        (m["text"] for line in done.stdout.splitlines() if (m := SUMMARY.match(line.strip()))),
        done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "(no output)",
    )
    lines = done.stdout.splitlines()
    failed = tuple(line for line in lines if line.startswith(("FAILED", "ERROR")))
    return Timing(
        variant.name, round(wall, 1), round(cpu, 1), summary, done.returncode, failed, events,
        round(load, 1),
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ci-rounds", type=int, help="rounds of CI's run (default: --rounds)")
    parser.add_argument("--one-process", action="store_true")
    parser.add_argument("--full-chromium", action="store_true")
    parser.add_argument("--no-ci", action="store_true", help="leave CI's run out")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    args = parser.parse_args()

    engine = find_engine()
    print(f"{engine_line(engine)}; load average {os.getloadavg()[0]:.1f}", flush=True)
    chosen = variants(args)
    timings: list[Timing] = []
    for round_ in range(1, max(v.rounds for v in chosen) + 1):
        for variant in (v for v in chosen if round_ <= v.rounds):
            timing = run(variant, args.pytest_args, engine)
            timings.append(timing)
            print(
                f"round {round_}  {timing.variant:28} wall {timing.wall:6.1f} s  "
                f"cpu {timing.cpu:6.1f} s  load {timing.load:4.1f}  exit {timing.status}  "
                f"{timing.summary}",
                flush=True,
            )
            if timing.engine_events:
                print(f"    engine events meanwhile: {timing.engine_events}", flush=True)
            for line in timing.failed:
                print(f"    {line}", flush=True)
    print()
    for variant in chosen:
        walls = [t.wall for t in timings if t.variant == variant.name]
        cpus = [t.cpu for t in timings if t.variant == variant.name]
        print(
            f"{variant.name:28} wall median {statistics.median(walls):6.1f} s "
            f"of {len(walls)} (min {min(walls):.1f}, max {max(walls):.1f})  "
            f"cpu median {statistics.median(cpus):.1f} s"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2))
    return 0 if all(t.status == 0 for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
