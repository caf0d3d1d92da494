"""Standard streams that never crash on a Windows code page.

A Russian Windows console, or its output redirected to a file (``perechen check > out.txt``), encodes with
cp1251 (or cp866) strictly: a «✓» or «→» typed in a cell would raise UnicodeEncodeError in the middle of a
report. So:

* text output replaces what the code page cannot show (``?``) instead of failing — :func:`setup_streams`,
  called once when the ``perechen`` command starts;
* JSON output is always UTF-8 bytes, whatever the code page — :func:`echo_json` — so a program reading it
  gets every character.
"""

from __future__ import annotations

import codecs
import io
import sys
from typing import IO, Any


def _is_utf(encoding: str | None) -> bool:
    try:
        return codecs.lookup(encoding or "ascii").name.startswith("utf-")
    except LookupError:
        return False


def soften(stream: IO[str] | Any) -> None:
    """Make one text stream replace unencodable characters (no-op for UTF streams and non-file streams)."""
    if isinstance(stream, io.TextIOWrapper) and not _is_utf(stream.encoding) and stream.errors == "strict":
        stream.reconfigure(errors="replace")


def setup_streams() -> None:
    """stdout and stderr never raise UnicodeEncodeError; called at the start of every command."""
    soften(sys.stdout)
    soften(sys.stderr)


def echo_json(text: str, stream: IO[str] | Any = None) -> None:
    """Write one JSON document and a newline to stdout as UTF-8 bytes, whatever the stream's encoding."""
    out = sys.stdout if stream is None else stream
    buffer = getattr(out, "buffer", None)
    if buffer is None or _is_utf(getattr(out, "encoding", None)):
        out.write(text + "\n")
        out.flush()
        return
    out.flush()
    buffer.write(text.encode("utf-8") + b"\n")
    buffer.flush()
