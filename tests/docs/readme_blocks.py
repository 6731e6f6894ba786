"""Run the README's code blocks as a reader would, on this machine.

Conventions (say them once, here):

* Every fenced block has an info string. ```` ```bash ```` and ```` ```python ```` blocks are
  run; ```` ```text ````, ```` ```console ````, ```` ```toml ```` and the like are samples and
  output, not run.
* An HTML comment right above a block, `<!-- docs-test: ... -->`, says how to run it:
  - `skip reason="..."`: not run; the test reports the reason (needs Docker, Azure, a tenant).
  - `serve url=URL`: the block ends in a server: it runs until URL answers, then gets Ctrl-C
    (SIGINT to its process group, as a terminal sends it) and must finish with exit 0,
    leaving no process behind.
  - `keep-running`: the block and the next one are one test. A `serve` block then keeps
    serving while the next blocks run (a server in one terminal, commands in another) and
    gets its Ctrl-C at the end.
  - `skip-line="CMD" reason="..."`: that line of the block is not run (e.g. `uv run pytest`,
    which is this suite itself).
  - `pytest`: a Python block that is a test module; it runs under pytest, in a folder of its
    own (so only the installed plugins apply, as in a user's project).
* Blocks run in a fresh temporary folder (the project is found through `UV_PROJECT`), so
  `.mock-entra/` and the like never land in the checkout. The README's ports are replaced by
  free ones (`PORT_SUBSTITUTIONS`), so a demo already running on 8443/5000 does not matter.
* A test fails when anything a block started is still running at its end (it is stopped).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from mock_entra.ports import free_port

RUN = {"bash", "sh", "python"}
SAMPLES = {"text", "console", "toml", "json", "yaml", "ini", "dockerfile"}
DIRECTIVE = re.compile(r"<!--\s*docs-test:(?P<body>.*?)-->", re.S)
FENCE = re.compile(r"^```(?P<info>[^`\s]*)\s*$")
BLOCK_TIMEOUT = 120.0
SERVE_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts, its info string, its text and its directives."""

    line: int
    lang: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def runs(self) -> bool:
        return self.lang in RUN and "skip" not in self.directives

    @property
    def name(self) -> str:
        return f"L{self.line}-{self.lang or 'none'}"


def parse_directives(body: str) -> dict[str, str]:
    """`skip reason="a b"` -> {"skip": "", "reason": "a b"}."""
    found: dict[str, str] = {}
    for word in shlex.split(body):
        key, _, value = word.partition("=")
        found[key] = value
    return found


def blocks(markdown: str) -> list[Block]:
    """The fenced blocks of `markdown`, with the directive comment right above each."""
    lines = markdown.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i < len(lines) and FENCE.match(lines[i]).group("info"):  # type: ignore[union-attr]
            raise ValueError(f"README line {i + 1}: a fence opens inside the block of {start + 1}")
        i += 1  # the closing fence
        above = "\n".join(lines[max(0, start - 6) : start]).rstrip()
        directives: dict[str, str] = {}
        last = list(DIRECTIVE.finditer(above))
        if last and above.endswith(last[-1].group(0)):
            directives = parse_directives(last[-1].group("body"))
        out.append(Block(start + 1, opening.group("info"), "\n".join(body) + "\n", directives))
    return out


def chains(all_blocks: list[Block]) -> list[list[Block]]:
    """The blocks that run, grouped: a `keep-running` block and the block after it are one."""
    grouped: list[list[Block]] = []
    runnable = [b for b in all_blocks if b.lang in RUN]
    carry: list[Block] = []
    for block in runnable:
        carry.append(block)
        if "keep-running" not in block.directives:
            grouped.append(carry)
            carry = []
    if carry:
        grouped.append(carry)
    return grouped


# -- running -------------------------------------------------------------------------------


@dataclass
class Sandbox:
    """Where and with what a chain of blocks runs: a temp folder, free ports, an environment."""

    root: Path  # the checkout (UV_PROJECT)
    cwd: Path
    mock_port: int
    app_port: int
    identity_port: int = field(default_factory=free_port)  # the managed identity endpoints
    log: list[str] = field(default_factory=list)
    outputs: dict[int, IO[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "CONFORMANCE_TARGET"}
        env.update(
            UV_PROJECT=str(self.root),
            UV_FROZEN="1",
            MOCK_ENTRA_PORT=str(self.mock_port),
            PYTHONWARNINGS="error::UserWarning",  # MSAL's warnings are UserWarnings
        )
        return env

    def substitute(self, text: str) -> str:
        """The README's ports replaced by this sandbox's (see `PORT_SUBSTITUTIONS`)."""
        for old, new in PORT_SUBSTITUTIONS:
            ports = {"mock": self.mock_port, "app": self.app_port, "mi": self.identity_port}
            text = text.replace(old, new.format(**ports))
        return text


# The README speaks of the default ports; a run here must not depend on them being free.
PORT_SUBSTITUTIONS = (
    (
        "entra-lab demo",
        "entra-lab demo --mock-port {mock} --app-port {app} --managed-identity-port {mi}",
    ),
    ("localhost:8443", "localhost:{mock}"),
    ("localhost:8444", "localhost:{mi}"),
    ("--managed-identity-port 8444", "--managed-identity-port {mi}"),
    ("localhost:5000", "localhost:{app}"),
    ("--port 5000", "--port {app}"),
    ("--port 8443", "--port {mock}"),
)


def processes_in(folder: Path) -> list[tuple[int, str]]:
    """Processes whose working directory is `folder` (what the blocks started), with argv."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == folder:
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
                if argv:  # zombies have none
                    found.append((int(entry.name), argv))
        except OSError:
            continue
    return found


def stop_all(folder: Path) -> list[tuple[int, str]]:
    """Stop every process running in `folder`; return those that were still there."""
    left = processes_in(folder)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, _ in processes_in(folder):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while processes_in(folder) and time.monotonic() < deadline:
            time.sleep(0.1)
    return left


def answers(url: str) -> bool:
    try:
        with warnings.catch_warnings():
            # verify=False: only "is something listening"; the blocks themselves check TLS.
            warnings.simplefilter("ignore")
            requests.get(url, timeout=2, verify=False, allow_redirects=False)
    except requests.RequestException:
        return False
    return True


def _script(block: Block, box: Sandbox) -> str:
    text = block.text
    skipped = block.directives.get("skip-line")
    if skipped:
        kept = [line for line in text.splitlines() if line.split("#")[0].strip() != skipped]
        assert len(kept) < len(text.splitlines()), f"skip-line {skipped!r} is not in the block"
        text = "\n".join(kept) + "\n"
    return box.substitute(text)


_CTRL_C_AGAIN = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def start(block: Block, box: Sandbox) -> subprocess.Popen[bytes]:
    """Start one block in its own process group."""
    if block.lang == "python" and "pytest" in block.directives:
        path = box.cwd / f"test_readme_l{block.line}.py"
        path.write_text(block.text)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path.name]
    elif block.lang == "python":
        path = box.cwd / f"readme_l{block.line}.py"
        path.write_text(block.text)
        argv = [sys.executable, path.name]
    else:
        argv = ["bash", "-e", "-o", "pipefail", "-c", _script(block, box)]
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started from a shell's background job (`cmd &`): SIGINT is ignored, and an ignored
        # signal stays ignored across exec. A terminal's Ctrl-C must reach the block.
        argv = [sys.executable, "-c", _CTRL_C_AGAIN, *argv]
    # Output to a file, not a pipe: a process a block leaves in the background would hold a
    # pipe open, and the block would look unfinished.
    output = tempfile.TemporaryFile()  # noqa: SIM115  (closed by `output_of`)
    process = subprocess.Popen(
        argv,
        cwd=box.cwd,
        env=box.env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    box.outputs[process.pid] = output
    return process


def output_of(process: subprocess.Popen[bytes], box: Sandbox) -> str:
    """What a finished block printed."""
    with box.outputs.pop(process.pid) as output:
        output.seek(0)
        return output.read().decode(errors="replace")


def serve_until_up(block: Block, box: Sandbox) -> subprocess.Popen[bytes]:
    """Start a `serve` block and return once its URL answers."""
    url = block.directives.get("url")
    assert url, f"{block.name}: serve needs url=..."
    url = box.substitute(url)
    process = start(block, box)
    deadline = time.monotonic() + SERVE_TIMEOUT
    while not answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            output = output_of(process, box)
            raise AssertionError(f"{block.name}: {url} never answered:\n{output}")
        time.sleep(0.2)
    return process


def finish(block: Block, process: subprocess.Popen[bytes], box: Sandbox, *, ctrl_c: bool) -> str:
    """Wait for a block to end (after Ctrl-C, for a server); it must exit 0."""
    if ctrl_c:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    try:
        process.wait(timeout=STOP_TIMEOUT if ctrl_c else BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"{block.name}: did not finish:\n{output_of(process, box)}") from None
    output = output_of(process, box)
    box.log.append(f"--- {block.name} exit {process.returncode}\n{output}")
    assert process.returncode == 0, f"{block.name}: exit {process.returncode}:\n{output}"
    return output


def run_chain(chain: list[Block], box: Sandbox) -> None:
    """Run the blocks of a chain in order. A `serve` block ends with Ctrl-C once its URL
    answers; with `keep-running`, only after the last block of the chain (a server the next
    blocks talk to, as in a second terminal). Nothing may be left running at the end."""
    servers: list[tuple[Block, subprocess.Popen[bytes]]] = []
    try:
        for block in chain:
            if "serve" in block.directives:
                process = serve_until_up(block, box)
                if "keep-running" in block.directives:
                    servers.append((block, process))
                else:
                    finish(block, process, box, ctrl_c=True)
            else:
                finish(block, start(block, box), box, ctrl_c=False)
        for block, process in reversed(servers):
            finish(block, process, box, ctrl_c=True)
    finally:
        for _, process in servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        left = stop_all(box.cwd)
    assert not left, f"left running after {chain[-1].name}: {[argv for _, argv in left]}"
