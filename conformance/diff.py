"""Where two runs disagree (typically the mock and a real tenant): per test outcome, per
discovery field, per claim name, per error code.

Observations are compared by key: lists as sets (what only one side has), everything else by
value. Values the suites record are already made generic (`{host}`, `{tenant}`), and opaque
or varying values (`aio`, `rh`, `uti`, key ids, timestamps) are recorded as names only, so a
difference here is a real difference in shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conformance.report import Run

MISSING = "(absent)"


@dataclass(frozen=True)
class Difference:
    """One disagreement: what, and each side's view of it."""

    section: str  # "outcome" or the observation key's first part ("discovery", "id_token"…)
    item: str
    a: str
    b: str


@dataclass
class RunDiff:
    """All disagreements between run A and run B."""

    differences: list[Difference] = field(default_factory=list)
    compared_tests: int = 0
    compared_observations: int = 0

    @property
    def same(self) -> bool:
        """Whether the runs agree on everything compared."""
        return not self.differences


def _show(value: Any) -> str:
    if value is None:
        return MISSING
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def diff_runs(a: Run, b: Run) -> RunDiff:
    """Compare outcomes test by test, then observations key by key."""
    result = RunDiff()
    tests_a = {t.key: t for t in a.tests}
    tests_b = {t.key: t for t in b.tests}
    for key in sorted(tests_a.keys() | tests_b.keys()):
        result.compared_tests += 1
        out_a = tests_a[key].outcome if key in tests_a else MISSING
        out_b = tests_b[key].outcome if key in tests_b else MISSING
        if out_a != out_b:
            result.differences.append(Difference("outcome", key, out_a, out_b))

    obs_a, obs_b = a.observations, b.observations
    for key in sorted(obs_a.keys() | obs_b.keys()):
        result.compared_observations += 1
        section = key.split(".", 1)[0]
        value_a, value_b = obs_a.get(key), obs_b.get(key)
        if isinstance(value_a, list) and isinstance(value_b, list):
            only_a = sorted(set(map(_show, value_a)) - set(map(_show, value_b)))
            only_b = sorted(set(map(_show, value_b)) - set(map(_show, value_a)))
            if only_a or only_b:
                result.differences.append(
                    Difference(
                        section,
                        key,
                        "only here: " + (", ".join(only_a) or "-"),
                        "only here: " + (", ".join(only_b) or "-"),
                    )
                )
        elif value_a != value_b:
            result.differences.append(Difference(section, key, _show(value_a), _show(value_b)))
    return result


def _wrap(text: str, width: int) -> list[str]:
    lines = []
    while len(text) > width:
        cut = text.rfind(" ", 0, width)
        cut = cut if cut > 0 else width
        lines.append(text[:cut])
        text = text[cut:].lstrip()
    return [*lines, text]


def format_diff(diff: RunDiff, label_a: str, label_b: str, width: int = 120) -> str:
    """A side-by-side text table of the differences, one block per section; long values wrap
    within their column, names of things never do."""
    head = f"compared {diff.compared_tests} tests and {diff.compared_observations} observations: "
    if diff.same:
        return head + f"{label_a} and {label_b} agree."
    out = [head + f"{len(diff.differences)} differences."]
    sections = dict.fromkeys(d.section for d in diff.differences)
    for section in sections:
        rows = [d for d in diff.differences if d.section == section]
        item_w = max(len(d.item) for d in rows)
        side_w = max(20, (width - item_w - 4) // 2)
        out += ["", f"== {section}", f"{'':{item_w}}  {label_a:{side_w}}  {label_b}".rstrip()]
        for d in rows:
            left, right = _wrap(d.a, side_w), _wrap(d.b, side_w)
            for i in range(max(len(left), len(right))):
                item = d.item if i == 0 else ""
                a = left[i] if i < len(left) else ""
                b = right[i] if i < len(right) else ""
                out.append(f"{item:{item_w}}  {a:{side_w}}  {b}".rstrip())
    return "\n".join(out)
