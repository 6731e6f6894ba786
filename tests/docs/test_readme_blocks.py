"""Every bash and Python block of README.md runs (conventions: `readme_blocks`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mock_entra.ports import free_port
from tests.docs.readme_blocks import RUN, SAMPLES, Block, Sandbox, blocks, chains, run_chain

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
BLOCKS = blocks(README.read_text())
CHAINS = chains(BLOCKS)


def test_every_block_says_what_it_is():
    unlabelled = [b.name for b in BLOCKS if b.lang not in RUN | SAMPLES]
    assert not unlabelled, (
        f"blocks without a known info string (bash, python, text...): {unlabelled}"
    )
    for block in BLOCKS:
        if "skip" in block.directives:
            assert block.directives.get("reason"), f"{block.name}: skip needs reason=..."


def test_readme_blocks_run_on_the_minimum_python():
    assert sys.version_info[:2] == (3, 11), "requires-python is >=3.11: run the docs tests on 3.11"


# Process-level (uv run, servers, a nested pytest): `slow`, run by CI and --run-slow.
@pytest.mark.slow
@pytest.mark.parametrize("chain", CHAINS, ids=["+".join(b.name for b in c) for c in CHAINS])
def test_readme_block(chain: list[Block], tmp_path: Path) -> None:
    skipped = [b for b in chain if "skip" in b.directives]
    if skipped:
        pytest.skip(f"README {skipped[0].name}: {skipped[0].directives['reason']}")
    box = Sandbox(ROOT, tmp_path.resolve(), free_port(), free_port())
    run_chain(chain, box)
