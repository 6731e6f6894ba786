"""docs/fidelity.md is what the corpus and its known differences say, and the README states the
corpus's counts and links the page."""

from __future__ import annotations

from tests.fidelity.report import DOC, README, readme_counts, render


def test_the_fidelity_page_is_generated_from_the_corpus() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/fidelity.md is stale: run `uv run python -m tests.fidelity.report`"
    )


def test_the_readme_links_the_page_and_states_the_counts() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "docs/fidelity.md" in readme
    assert readme_counts() in readme, "run `uv run python -m tests.fidelity.report`"
