"""Just enough of the Dockerfile and .dockerignore formats to check ours without Docker:
instructions with their flags, ENV pairs, `--mount` specs, and the build context."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    """One instruction: `RUN --mount=a uv sync` is ("RUN", ["--mount=a"], "uv sync", line)."""

    keyword: str
    flags: list[str]
    args: str
    line: int

    def mounts(self) -> list[dict[str, str]]:
        """The `--mount=k=v,k=v` flags as dicts."""
        return [
            dict(part.split("=", 1) for part in flag.removeprefix("--mount=").split(","))
            for flag in self.flags
            if flag.startswith("--mount=")
        ]

    def flag(self, name: str) -> str | None:
        """The value of `--name=value`, or None."""
        for flag in self.flags:
            if flag.startswith(f"--{name}="):
                return flag.split("=", 1)[1]
        return None


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order; comments, blank lines and `\\` continuations handled."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, rest = " ".join(p for p in pending if p).partition(" ")
        flags = []
        tokens = rest.split(" ")
        while tokens and tokens[0].startswith("--"):
            flags.append(tokens.pop(0))
        instructions.append(Instruction(keyword.upper(), flags, " ".join(tokens).strip(), start))
        pending = []
    return instructions


def stage_name(step: Instruction) -> tuple[str, str]:
    """`FROM image AS name` → ("image", "name"); a stage without a name is ("image", "")."""
    image, _, name = re.sub(r"\s+as\s+", " AS ", step.args, flags=re.I).partition(" AS ")
    return image.strip(), name.strip()


def stages(instructions: list[Instruction]) -> dict[str, list[Instruction]]:
    """Each named stage's instructions as a build of it (`--target NAME`) runs them: a stage
    `FROM` an earlier stage starts with that stage's; the last stage is also under ""."""
    found: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    for step in instructions:
        if step.keyword == "FROM":
            image, name = stage_name(step)
            current = [*found.get(image, []), step]
            found[name] = current
            found[""] = current  # the default target: the last stage
        else:
            current.append(step)
    return found


def env_pairs(args: str) -> dict[str, str]:
    """`ENV A=1 B="x y"` → {"A": "1", "B": "x y"} (the `KEY=VALUE` form only)."""
    return dict(token.split("=", 1) for token in shlex.split(args))


def exec_form(args: str) -> list[str]:
    """A JSON-array CMD/ENTRYPOINT as argv."""
    value = json.loads(args)
    assert isinstance(value, list), f"not exec form: {args}"
    return [str(v) for v in value]


def ignore_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore (comments and blanks dropped)."""
    return [p.strip().lstrip("/") for p in text.splitlines() if p.strip() and not p.startswith("#")]


def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule for patterns without `!`: a path is out if a pattern matches it or one of
    its parent directories."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(_regex(p).fullmatch(prefix) for p in patterns for prefix in prefixes)


def copy_context(source: Path, target: Path, patterns: list[str]) -> list[str]:
    """Copy what `docker build` would send as context; return the copied files (relative)."""
    copied = []
    for folder, dirs, files in os.walk(source):
        rel_folder = os.path.relpath(folder, source)
        rel = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [d for d in dirs if not is_ignored(rel + d, patterns)]
        for name in files:
            if is_ignored(rel + name, patterns):
                continue
            (target / rel).mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel / name, target / rel / name)
            copied.append(rel + name)
    return copied
