"""The mock's log: one line per record, whatever a request put in it.

The access log shows the request path, which a client chose (`GET /x%0A<forged line>` arrives
with a real newline): unescaped, it would start a line of the client's making in the log (log
injection, CWE-117: https://owasp.org/www-community/attacks/Log_Injection). `OneLineFormatter`
escapes every control character of the formatted line (C0, DEL, C1, U+2028/U+2029) as `\\n`,
`\\x1b`...; a traceback keeps its lines, each indented and escaped, so none can pass for a
record. (`client_app.logs` formats the app's log the same way: the two share no code.)
"""

from __future__ import annotations

import logging
import re

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
