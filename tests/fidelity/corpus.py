"""The fidelity corpus: real Entra and Graph exchanges (one JSON file each in `exchanges/`) and
the differences from the mock that are known and explained (`known_differences.toml`)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

HERE = Path(__file__).parent
EXCHANGES = HERE / "exchanges"
KNOWN = HERE / "known_differences.toml"

Provenance = Literal["recorded", "observed", "documented"]
PROVENANCES: tuple[Provenance, ...] = ("recorded", "observed", "documented")
# The endpoints the corpus covers, in the order docs/fidelity.md lists them.
ENDPOINTS = (
    "discovery",
    "jwks",
    "instance_discovery",
    "user_realm",
    "authorize",
    "devicecode",
    "token",
    "graph",
)


@dataclass(frozen=True)
class Exchange:
    """One request to Entra or Graph and the answer the real service gave."""

    name: str  # the file's stem
    endpoint: str
    title: str
    source: str  # a URL, or owner/repo@commit:path
    provenance: Provenance
    request: dict[str, Any]  # method, url (a pattern: {tenant}), params that matter
    response: dict[str, Any]  # status, headers clients read, body
    replay: dict[str, Any]  # how the mock is put in the equivalent state (see replay.py)
    # Values the source replaced with stand-ins (e.g. a fixed fake ID token): compared by
    # JSON type only, as `body.id_token`.
    sanitised: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownDifference:
    exchange: str
    difference: str  # exactly as compare.py words it
    reason: str
    source: str


@dataclass(frozen=True)
class OpenItem:
    """A difference the audit of issue 19 found that is not fixed yet and that no exchange of
    the corpus shows: what it is, why it stays, where the truth is written."""

    item: str
    reason: str
    source: str


@dataclass(frozen=True)
class Decision:
    """An item of the audit of issue 19 that no differing exchange of the corpus shows, and what
    was decided from its sources: fixed (with the test that shows it) or kept, and why."""

    item: str
    decision: str
    source: str


class CorpusError(ValueError):
    pass


def _exchange(path: Path) -> Exchange:
    raw = json.loads(path.read_text(encoding="utf-8"))
    missing = {"endpoint", "title", "source", "provenance", "request", "response", "replay"} - set(
        raw
    )
    if missing:
        raise CorpusError(f"{path.name}: missing {sorted(missing)}")
    if raw["provenance"] not in PROVENANCES:
        raise CorpusError(f"{path.name}: provenance {raw['provenance']!r}")
    if raw["endpoint"] not in ENDPOINTS:
        raise CorpusError(f"{path.name}: endpoint {raw['endpoint']!r}")
    if not {"method", "url"} <= set(raw["request"]) or "status" not in raw["response"]:
        raise CorpusError(f"{path.name}: request needs method and url, response a status")
    fields = {k: raw[k] for k in Exchange.__dataclass_fields__ if k in raw}
    fields["sanitised"] = tuple(raw.get("sanitised", ()))
    return Exchange(name=path.stem, **fields)


@cache
def exchanges() -> tuple[Exchange, ...]:
    return tuple(_exchange(p) for p in sorted(EXCHANGES.glob("*.json")))


@cache
def known_differences() -> tuple[KnownDifference, ...]:
    raw = tomllib.loads(KNOWN.read_text(encoding="utf-8"))
    found = []
    for entry in raw.get("difference", []):
        missing = {"exchange", "difference", "reason", "source"} - set(entry)
        if missing:
            raise CorpusError(f"known difference {entry}: missing {sorted(missing)}")
        found.append(KnownDifference(**{k: entry[k] for k in KnownDifference.__dataclass_fields__}))
    return tuple(found)


@cache
def open_items() -> tuple[OpenItem, ...]:
    raw = tomllib.loads(KNOWN.read_text(encoding="utf-8"))
    found = []
    for entry in raw.get("open", []):
        missing = {"item", "reason", "source"} - set(entry)
        if missing:
            raise CorpusError(f"open item {entry}: missing {sorted(missing)}")
        found.append(OpenItem(**{k: entry[k] for k in OpenItem.__dataclass_fields__}))
    return tuple(found)


@cache
def decisions() -> tuple[Decision, ...]:
    raw = tomllib.loads(KNOWN.read_text(encoding="utf-8"))
    found = []
    for entry in raw.get("decided", []):
        missing = {"item", "decision", "source"} - set(entry)
        if missing:
            raise CorpusError(f"decision {entry}: missing {sorted(missing)}")
        found.append(Decision(**{k: entry[k] for k in Decision.__dataclass_fields__}))
    return tuple(found)


def known_for(name: str) -> list[KnownDifference]:
    return [k for k in known_differences() if k.exchange == name]


@dataclass
class Tally:
    exchanges: int = 0
    matching: int = 0
    known: int = 0
    provenance: dict[str, int] = field(default_factory=dict)
