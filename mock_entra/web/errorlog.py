"""`log_unexpected`: the one way the mock logs an error it did not expect, bounded.

`logging.exception` writes the whole traceback: a `RecursionError` from a deeply nested input
was ~1,000 frames, 135 KB a request (116 MB of log in 10 s of such requests, in a log the
demo does not rotate). Here the entry keeps the innermost `MAX_FRAMES` frames of each
exception in the chain (where it went wrong) and at most `MAX_CHARS` characters in all, so a
flood of bad requests grows the log by a bounded amount per request.
"""

from __future__ import annotations

import logging
import sys
import traceback

MAX_FRAMES = 12
MAX_CHARS = 4096


def log_unexpected(logger: logging.Logger, trace_id: str) -> None:
    """Log the exception being handled (call from an `except` block) with its trace id."""
    error = sys.exc_info()[1]
    if error is None:
        logger.error("unexpected error in the mock (trace id %s)", trace_id)
        return
    # A negative limit keeps the innermost frames; the message stays whole until the cap.
    formatted = traceback.TracebackException.from_exception(error, limit=-MAX_FRAMES)
    text = "".join(formatted.format()).rstrip("\n")
    if len(text) > MAX_CHARS:
        cut = len(text) - MAX_CHARS
        text = f"[{cut} characters left out]\n{text[-MAX_CHARS:]}"
    logger.error("unexpected error in the mock (trace id %s)\n%s", trace_id, text)
