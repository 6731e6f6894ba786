"""The README runner itself: it parses what the README says and fails when a block does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mock_entra.ports import free_port
from tests.docs.readme_blocks import Sandbox, blocks, chains, processes_in, run_chain

ROOT = Path(__file__).parents[2]

SAMPLE = """
Intro.

<!-- docs-test: skip reason="needs a tenant" -->
```bash
az login
```

```text
output, not run
```

<!-- docs-test: keep-running -->
```bash
echo one
```

```python
print("two")
```
"""


def box(tmp_path: Path) -> Sandbox:
    return Sandbox(ROOT, tmp_path.resolve(), free_port(), free_port())


def one(markdown: str) -> list:
    return chains(blocks(markdown))[0]


def test_blocks_directives_and_chains():
    found = blocks(SAMPLE)
    assert [(b.line, b.lang) for b in found] == [
        (5, "bash"),
        (9, "text"),
        (14, "bash"),
        (18, "python"),
    ]
    assert found[0].directives == {"skip": "", "reason": "needs a tenant"}
    assert found[1].directives == {}
    grouped = chains(found)
    assert [[b.line for b in chain] for chain in grouped] == [[5], [14, 18]]


def test_ports_are_replaced_in_commands(tmp_path):
    sandbox = box(tmp_path)
    text = sandbox.substitute(
        "uv run entra-lab demo; curl https://localhost:8443/ --port 5000; "
        "mock-entra serve --managed-identity-port 8444; curl http://localhost:8444/msi/token"
    )
    assert "8443" not in text and "5000" not in text and "8444" not in text
    assert f"--mock-port {sandbox.mock_port} --app-port {sandbox.app_port}" in text
    assert f"--managed-identity-port {sandbox.identity_port}" in text
    assert f"localhost:{sandbox.identity_port}/msi/token" in text


def test_a_failing_block_fails(tmp_path):
    with pytest.raises(AssertionError, match="exit 3"):
        run_chain(one("```bash\necho before\nexit 3\necho after\n```\n"), box(tmp_path))


def test_a_python_block_runs_on_this_python(tmp_path):
    code = f"import sys\\nassert sys.executable == {sys.executable!r}\\n"
    run_chain(one(f"```python\n{code}```\n".replace("\\n", "\n")), box(tmp_path))
    with pytest.raises(AssertionError, match="SyntaxError"):
        run_chain(one('```python\nx = 1\nprint(f"{x[\\"a\\"]}")\nx ==\n```\n'), box(tmp_path))


def test_a_block_that_leaves_a_process_running_fails(tmp_path):
    sandbox = box(tmp_path)
    with pytest.raises(AssertionError, match="left running"):
        run_chain(one("```bash\nsleep 300 &\n```\n"), sandbox)
    assert not processes_in(sandbox.cwd)


SERVER = """\
<!-- docs-test: serve url=http://localhost:5000/ -->
```bash
python3 - localhost:5000 <<'EOF'
import http.server, sys
port = int(sys.argv[1].split(":")[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), http.server.BaseHTTPRequestHandler)
try:
    server.serve_forever()
except KeyboardInterrupt:  # Ctrl-C: a clean stop
    print("stopped")
EOF
```
"""


def test_a_server_block_is_stopped_with_ctrl_c(tmp_path):
    sandbox = box(tmp_path)
    run_chain(one(SERVER), sandbox)
    assert "stopped" in sandbox.log[-1]
    # A server that does not stop cleanly on Ctrl-C fails the block.
    stubborn = SERVER.replace("except KeyboardInterrupt", "except ZeroDivisionError")
    (tmp_path / "x").mkdir()
    with pytest.raises(AssertionError, match="exit -2"):  # killed by the SIGINT
        run_chain(one(stubborn), box(tmp_path / "x"))
