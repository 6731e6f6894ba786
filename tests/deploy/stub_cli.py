"""A recording stand-in for `az`, `docker`, `curl` and `uv` (installed on PATH by the tests under
those names). Each call appends one JSON line to $STUB_LOG: the program, its argv, the
contents of files it was given (`@FILE`, `--file FILE`: the script deletes them when it ends)
and the ENTRA_* environment. `az` answers from $STUB_STATE, a JSON object:

    {"existing": ["group", "acr", "plan", "webapp"], "roles": ["AcrPull"],
     "secret_key": "...", "redirect_uris": ["http://localhost:5000/getAToken"]}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def files_of(argv: list[str]) -> dict[str, str]:
    found = {}
    for i, arg in enumerate(argv):
        path = arg[1:] if arg.startswith("@") else argv[i + 1] if arg == "--file" else None
        if path and Path(path).is_file():
            found[path] = Path(path).read_text()
    return found


def answer_az(argv: list[str], state: dict) -> tuple[int, str]:
    words = [a for a in argv if not a.startswith("-")]
    command = " ".join(words[:3])
    existing = set(state.get("existing", []))
    query = argv[argv.index("--query") + 1] if "--query" in argv else None
    if command.startswith("account show"):
        return 0, "Test subscription\t00000000-0000-0000-0000-000000000000\n"
    for kind, prefix in (("group", "group show"), ("acr", "acr show"),
                         ("plan", "appservice plan show"), ("webapp", "webapp show")):  # fmt: skip
        if " ".join(words).startswith(prefix):
            if kind == "acr" and query == "id":
                return (
                    0,
                    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r\n",
                )
            return (0, "{}\n") if kind in existing else (3, "")
    if command.startswith("webapp identity assign"):
        return 0, "11111111-2222-3333-4444-555555555555\n"
    if command.startswith("role assignment list"):
        role = argv[argv.index("--role") + 1]
        return 0, ("/assignment/1\n" if role in state.get("roles", []) else "")
    if command.startswith("keyvault show"):
        return 0, "/subscriptions/0/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v\n"
    if " ".join(words).startswith("webapp config appsettings list"):
        return 0, (state.get("secret_key", "") + "\n")
    if command.startswith("ad app show"):
        return 0, "\t".join(state.get("redirect_uris", [])) + "\n"
    return 0, ""


def main() -> int:
    program = Path(sys.argv[0]).name
    argv = sys.argv[1:]
    entry = {
        "program": program,
        "argv": argv,
        "files": files_of(argv),
        "env": {k: v for k, v in os.environ.items() if k.startswith("ENTRA_")},
    }
    with open(os.environ["STUB_LOG"], "a") as log:
        log.write(json.dumps(entry) + "\n")
    if program == "az":
        state = json.loads(Path(os.environ["STUB_STATE"]).read_text())
        status, out = answer_az(argv, state)
        sys.stdout.write(out)
        return status
    if program == "curl":
        sys.stdout.write('{"status": "ok"}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
