"""docs/architecture.md draws the protocol core's tree, one line per module: it must be the
tree on disk, no module missing and none that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "mock_entra" / "core"


def _drawn() -> set[str]:
    """The modules the document's tree names, as paths under mock_entra/core/."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```\nmock_entra/core/\n(.*?)```", text, re.S)
    assert block is not None, "docs/architecture.md has no tree of mock_entra/core/"
    found: set[str] = set()
    package = ""
    for line in block.group(1).splitlines():
        name = line.strip().split()[0]
        if name.endswith("/"):
            package = name
            found.add(package + "__init__.py")  # a package line stands for its __init__
        elif line.startswith("    "):
            found.add(package + name)
        else:
            package = ""
            found.add(name)
    return found


def test_the_documented_core_tree_is_the_tree_on_disk():
    on_disk = {
        p.relative_to(CORE).as_posix() for p in CORE.rglob("*.py") if "__pycache__" not in p.parts
    }
    on_disk.discard("__init__.py")
    drawn = _drawn()
    assert sorted(on_disk - drawn) == [], "modules missing from docs/architecture.md"
    assert sorted(drawn - on_disk) == [], "docs/architecture.md names modules that are gone"


def test_at_most_twelve_modules_sit_directly_in_the_core():
    assert len(list(CORE.glob("*.py"))) <= 12
