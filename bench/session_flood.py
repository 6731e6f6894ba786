"""The app's session store under a flood of anonymous sign-ins (a script, not a test).

    uv run python bench/session_flood.py [--count 10500] [--cap 10000]

Writes `--count` pending sign-ins (what each anonymous `/login` stores) into the app's store,
`client_app.session_store.SessionFiles`, and, side by side in the same run, into cachelib's
`FileSystemCache` as the app configured it before (pickle, threshold 10,000). Prints the files
left and the median milliseconds per write over the last 200 writes, where a store at its cap
pays for bounding it.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cachelib import FileSystemCache

from client_app.session_store import SessionFiles

PENDING = {
    "_permanent": True,
    "auth_flow": {
        "state": "x" * 16,
        "nonce": "y" * 32,
        "code_verifier": "z" * 43,
        "redirect_uri": "http://localhost:5000/getAToken",
        "scope": ["User.Read", "openid", "profile", "offline_access"],
        "auth_uri": "https://login.microsoftonline.com/t/oauth2/v2.0/authorize?" + "q" * 400,
    },
}
TAIL = 200


def flood(store: Any, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        store.set("entra_lab:" + secrets.token_urlsafe(32), PENDING, timeout=12 * 3600)
        times.append((time.perf_counter() - started) * 1000)
    return times


def files(path: Path) -> int:
    return sum(1 for p in path.iterdir() if p.is_file() and not p.name.endswith(".__wz_cache"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_500)
    parser.add_argument("--cap", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(f"{args.count} pending sign-ins, cap {args.cap}\n")
    print("| store | files left | median ms per write, last 200 |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        stores = {
            "client_app.session_store.SessionFiles (JSON, counted every 64 writes)": lambda p: (
                SessionFiles(str(p), max_entries=args.cap, is_pending=lambda v: "user" not in v)
            ),
            "cachelib FileSystemCache, threshold (before)": lambda p: FileSystemCache(
                str(p), threshold=args.cap, mode=0o600
            ),
        }
        for index, (name, make) in enumerate(stores.items()):
            path = Path(tmp) / str(index)
            times = flood(make(path), args.count)
            print(f"| {name} | {files(path)} | {statistics.median(times[-TAIL:]):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
