"""Check `az` invocations with azure-cli's own argument parser, offline (nothing is sent).

Run with azure-cli's Python: `python az_parse.py < invocations.json` (a JSON list of argv
lists, without the leading `az`); prints one JSON line per invocation: {"argv", "ok",
"error"}. Parsing loads each command's module and its argument definitions exactly as `az`
does before running a command, so an unknown command, an unknown or misspelt option, a missing
required option or a bad choice is an error here.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def parse(argv: list[str]) -> str | None:
    """None when azure-cli accepts `argv`, else its error text."""
    from azure.cli.core import get_default_cli

    cli = get_default_cli()
    invocation = cli.invocation_cls(
        cli_ctx=cli,
        parser_cls=cli.parser_cls,
        commands_loader_cls=cli.commands_loader_cls,
        help_cls=cli.help_cls,
    )
    cli.invocation = invocation
    loader = invocation.commands_loader
    loader.load_command_table(argv)
    command = invocation._rudimentary_get_command(argv)
    invocation.data["command_string"] = command
    loader.command_name = command
    loader.load_arguments(command)
    invocation.parser.load_command_table(loader)
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            invocation.parser.parse_args(argv)
    except SystemExit as stop:
        return errors.getvalue().strip() or f"exit {stop.code}"
    return None


def main() -> None:
    for argv in json.load(sys.stdin):
        error = parse(argv)
        print(json.dumps({"argv": argv, "ok": error is None, "error": error}), flush=True)


if __name__ == "__main__":
    main()
