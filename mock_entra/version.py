"""The installed entra-lab distribution's version, for each command's `--version`."""

from __future__ import annotations

DISTRIBUTION = "entra-lab"


def installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # looked up only when asked

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "(not installed)"
