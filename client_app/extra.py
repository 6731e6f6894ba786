"""Which optional dependencies (the `entra-lab` distribution's extras) a command needs, checked
before anything imports them: on a mock-only install (`pip install entra-lab`, no extras)
`client-app`, `conformance` and `entra-lab demo` say in one line which extra to install
instead of dying in a traceback.

Standard library only, so it imports on any install (the `client_app` package imports no
extra at import time either: `create_app` does, when it is called).
"""

from __future__ import annotations

import importlib.util

DISTRIBUTION = "entra-lab"
_APP = ("msal", "gunicorn", "flask_session", "cachelib")
# The import names of each extra's packages: pyproject.toml's [project.optional-dependencies]
# (tests/packaging/test_missing_extras.py keeps the two in step).
EXTRAS: dict[str, tuple[str, ...]] = {
    "app": _APP,
    "conformance": (*_APP, "playwright", "pytest"),
}


def missing_module(extra: str) -> str | None:
    """The first module of `extra` that cannot be imported here, or None when all can."""
    for name in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(name)
        except ImportError:  # a finder that refuses the name
            found = None
        if found is None:
            return name
    return None


def missing_extra(command: str, extra: str) -> str | None:
    """None when `extra` is installed; else the one line `command` prints before exiting 2."""
    module = missing_module(extra)
    if module is None:
        return None
    wanted = f"{DISTRIBUTION}[{extra}]"
    return (
        f"{command}: needs the extra {wanted} (the module {module!r} is not installed): "
        f"pip install '{wanted}' (or: uv add '{wanted}')"
    )


if __name__ == "__main__":
    # `python -m client_app.extra COMMAND EXTRA`: how `entra-lab demo`, which never imports the
    # app, asks before starting it. Exit 2 with the one line when the extra is missing.
    import sys

    problem = missing_extra(sys.argv[1], sys.argv[2])
    if problem:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
