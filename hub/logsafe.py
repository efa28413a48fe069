"""Text fit for one log line whatever it holds.

A log record is one line to whoever reads it (a person at a terminal, a SIEM
splitting on newlines). Text a caller chose (an operation name, a header, an
exception message that quotes either) must not start a forged line, hide in
terminal escape sequences or fill the disk, so every such value goes through
:func:`safe_text` before it reaches a logger. Exceptions are summarised by
:func:`safe_exception`: their type and where they were raised, never their
message, which may quote the request or a student's record.
"""

from __future__ import annotations

import traceback
import unicodedata
from pathlib import PurePath

__all__ = ["safe_exception", "safe_text"]

# Control, format (bidi overrides, zero-width), line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_ELLIPSIS = "…"
_FRAMES = 3


def _escaped(char: str) -> str:
    if char == "\\":
        # Escaped too, so "\\n" in the log always means the caller sent a newline.
        return "\\\\"
    if unicodedata.category(char) in _UNSAFE_CATEGORIES:
        return char.encode("unicode_escape").decode("ascii")
    return char


def safe_text(value: object, limit: int = 80) -> str:
    """``value`` as text with control characters escaped (``\\n``, ``\\x1b``,
    ``\\u2028``) and cut to at most ``limit`` characters plus an ellipsis."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit and text.isprintable() and "\\" not in text:
        return text  # the common case: nothing to escape
    pieces: list[str] = []
    size = 0
    for char in text:
        piece = _escaped(char)
        if size + len(piece) > limit:
            pieces.append(_ELLIPSIS)
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces)


def safe_exception(exc: BaseException) -> str:
    """``KeyError at adapters/x/adapter.py:120 in fetch <- ...``: the type and
    the innermost frames of ``exc``, on one line and without its message."""
    frames = traceback.extract_tb(exc.__traceback__)[-_FRAMES:]
    where = " <- ".join(
        f"{'/'.join(PurePath(frame.filename).parts[-3:])}:{frame.lineno} in {frame.name}"
        for frame in reversed(frames)
    )
    summary = type(exc).__name__ + (f" at {where}" if where else "")
    return safe_text(summary, limit=400)
