"""Hypothesis budgets: a quick plain run on a laptop, the full search in CI.

Two profiles, loaded by `tests/conftest.py` before any test module is imported:
- `local` (a plain `uv run pytest`): a quarter of the examples;
- `ci` (when `CI` is set, as CI sets it): Hypothesis' own count, 100; `derandomize` stays
  off there, so every CI run searches new inputs.
`HYPOTHESIS_PROFILE=<name>` picks one explicitly (pytest's `--hypothesis-profile` too).

A test that wants more (or fewer) than the default count says so with `examples(n)`: `n` in
CI, scaled down the same way in a local run."""

from __future__ import annotations

import os

from hypothesis import settings

CI_EXAMPLES = 100  # Hypothesis' default max_examples
LOCAL_EXAMPLES = 25

# No deadline: the machines are shared and loaded; these tests check correctness, not speed.
settings.register_profile("ci", max_examples=CI_EXAMPLES, deadline=None)
settings.register_profile("local", max_examples=LOCAL_EXAMPLES, deadline=None)


def load_profile() -> None:
    """Load the profile `HYPOTHESIS_PROFILE` names, else `ci` when `CI` is set, else `local`."""
    settings.load_profile(
        os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "local")
    )


def examples(ci_count: int) -> int:
    """`ci_count` examples under the `ci` profile, the same share of the loaded profile's
    count under any other (at least one)."""
    return max(1, round(ci_count * settings.default.max_examples / CI_EXAMPLES))
