"""The app's log: one line per record, whatever a request put in it.

Messages carry values a client chose (the callback's `error=`, a path): a newline in one would
start a line of the client's own making in the log (log injection, CWE-117:
https://owasp.org/www-community/attacks/Log_Injection). `OneLineFormatter` escapes every
control character of the formatted line (C0, DEL, C1, U+2028/U+2029) as `\\n`, `\\x1b`...;
a traceback keeps its lines, each indented and escaped, so none can pass for a record.
(`mock_entra.server` formats the mock's log the same way: the two packages share no code.)
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` with each control character written as an escape: `\\n`, `\\x1b`, `\\u2028`."""
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or _escaped(ord(m[0])), text)


def _escaped(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class OneLineFormatter(logging.Formatter):
    """A `logging.Formatter` whose record is one line; its traceback, if any, lines of
    `  | ...` below it."""

    def format(self, record: logging.LogRecord) -> str:
        # As `logging.Formatter.format`, but never from or into `record.exc_text`: another
        # handler may have cached its own, unescaped, rendering there.
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        lines = [escape_controls(self.formatMessage(record))]
        if record.exc_info:
            lines.append(_indented(self.formatException(record.exc_info)))
        elif record.exc_text:
            lines.append(_indented(record.exc_text))
        if record.stack_info:
            lines.append(_indented(self.formatStack(record.stack_info)))
        return "\n".join(lines)


def _indented(text: str) -> str:
    return "\n".join("  | " + escape_controls(line) for line in text.split("\n"))


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    """The app's records (and its libraries') to `stream` (stderr), one line each, at `level`;
    MSAL stays at INFO or above (its DEBUG log contains the auth code and PKCE verifier).
    Called once by each launcher (`client-app`, `client_app.wsgi`); returns the handler."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    logging.getLogger("msal").setLevel(max(numeric, logging.INFO))
    return handler
