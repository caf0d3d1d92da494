"""Cell addresses as Excel writes them: column letters and A1 references (no Excel library needed)."""

from __future__ import annotations

import re

_REF_SPLIT = re.compile(r"([A-Z]+)(\d+)")
CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


def col_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> «A», 26 -> «AA»)."""
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    """Upper-case Excel letters -> 0-based column index («A» -> 0)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def ref_key(ref: str) -> tuple[int, int]:
    """Sort key of an upper-case reference «B7»: (row, 0-based column); (0, 0) for anything else."""
    m = _REF_SPLIT.fullmatch(ref)
    return (int(m.group(2)), col_index(m.group(1))) if m else (0, 0)


def parse_ref(ref: str | None) -> tuple[int, int] | None:
    """«F7» or «$F$7» (any case) -> (row, 0-based column); None for a range, a bad or an empty reference."""
    if not ref:
        return None
    m = CELL_REF.match(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + (ord(ch) - 64)
    row = int(m.group(2))
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        return None
    return row, col - 1


def quote_sheet(name: str) -> str:
    """A sheet name as a formula names it: «'Лист 1'» (an apostrophe doubled)."""
    return "'" + name.replace("'", "''") + "'"
