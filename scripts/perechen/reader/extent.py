"""The extent guard: the size calamine would allocate for a sheet, refused before calamine tries.

calamine builds a dense grid from the first to the last cell holding a value and aborts the whole
process when an allocation fails; this module models where calamine places each cell (a fast path for
plain markup, expat or a quick-xml-like tokenizer for the rest) and raises a FileError «sheet_too_large».
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ..cells import col_index, col_letter
from ..models import FileError
from ..rules import Rules
from .scan import find_lit, search_short, sheet_prefix

# Cells calamine may allocate for one sheet (it builds a dense width × height grid of 32-byte cells,
# and aborts the whole process when an allocation fails). A register of 200,000 rows × 30 columns fits.
MAX_SHEET_CELLS = 6_000_000


def _letters(n: int) -> str:
    """1-based column number -> letters."""
    return col_letter(n - 1)


def _gt_digits(n: int) -> bytes:
    """Regex for decimal numbers (leading zeros allowed) greater than n >= 0."""
    s = str(n)
    alts = [rb"[1-9]\d{%d,}" % len(s)]
    for i, ch in enumerate(s):
        d = int(ch)
        if d < 9:
            alts.append(s[:i].encode() + b"[%d-9]" % (d + 1) + rb"\d{%d}" % (len(s) - i - 1))
    return b"0*(?:" + b"|".join(alts) + b")"


def _gt_letters(n: int, either_case: bool = False) -> bytes:
    """Regex for column letters after the n-th column (1-based); either_case: «xfd» as well as «XFD»."""
    s = _letters(n) if n >= 1 else ""
    az = b"A-Za-z" if either_case else b"A-Z"

    def lit(ch: str) -> bytes:
        return b"[%s%s]" % (ch.encode(), ch.lower().encode()) if either_case else ch.encode()

    def after(ch: str) -> bytes:
        nxt = chr(ord(ch) + 1)
        return (b"[%s-Z%s-z]" % (nxt.encode(), nxt.lower().encode()) if either_case
                else b"[%s-Z]" % nxt.encode())

    alts = [b"[" + az + b"]{%d,}" % (len(s) + 1)]
    for i, ch in enumerate(s):
        if ch < "Z":
            alts.append(b"".join(lit(c) for c in s[:i]) + after(ch) + b"[" + az + b"]{%d}" % (len(s) - i - 1))
    return b"(?:" + b"|".join(alts) + b")"


@functools.lru_cache(maxsize=64)
def _beyond_re(max_col: int | None, max_row: int | None) -> re.Pattern[bytes]:
    alts = []
    # calamine takes column letters in either case ("xfd1" is XFD1); the attribute name r is exact.
    if max_col is not None:
        alts.append(_gt_letters(max_col, either_case=True) + rb"\d+")
    if max_row is not None:
        alts.append(rb"[A-Za-z]{1,3}" + _gt_digits(max_row))
    return re.compile(b'r="(?:' + b"|".join(alts) + b')"')


@functools.lru_cache(maxsize=64)
def _beyond_prefilter(max_col: int | None, max_row: int | None) -> re.Pattern[bytes] | None:
    """A cheap superset of :func:`_beyond_re` (its candidates are then matched exactly), or None.

    _beyond_re's alternatives cost the regex engine ~200 ns at every r="…" of the sheet (0.4 s on a
    62 MB sheet); this one fails after one or two characters: a second letter (a column after Z), or a
    row number that could exceed max_row (a leading zero, as many digits starting with its first digit
    or higher, or more digits).
    """
    if max_col is not None and max_col < 26:
        return None  # a one-letter column may be beyond: no cheap test
    if max_row is None:
        return re.compile(b'r="[A-Za-z][A-Za-z]')
    # A second letter or a leading zero (one class: each alternative costs the engine at every r="), then as many
    # digits as max_row starting with its first digit or higher, or more digits (whose first len(s) digits the
    # previous alternative already takes unless they start lower).
    s = str(max_row)
    alts = [b"[A-Za-z0]", b"[" + s[0].encode() + rb"-9]\d{%d}" % (len(s) - 1)]
    if s[0] > "1":
        alts.append(b"[1-" + str(int(s[0]) - 1).encode() + rb"]\d{%d}" % len(s))
    return re.compile(b'r="[A-Za-z](?:' + b"|".join(alts) + b")")


# Any namespace prefix: calamine matches element names by their local part.
_ANY_P = rb"(?:[A-Za-z_][\w.-]*:)?"
# One XML token, the way quick-xml delimits them: comments, CDATA and processing instructions whole;
# a tag up to the first '>' outside quotes. Text between tokens is skipped (a <v> is tested for text
# by what follows it).
_TOKEN = re.compile(rb"""<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)"""
                    rb"""|<!(?:"[^"]*"|'[^']*'|[^>"'])*>?"""
                    rb"""|<(/?)(?:[A-Za-z_][\w.-]*:)?([\w.-]*)((?:"[^"]*"|'[^']*'|[^>"'])*)(>|\Z)""", re.S)
_TAG_END = re.compile(rb"""(?:"[^"]*"|'[^']*'|[^>"'])*>""")
_R_VALUE = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF_PARTS = re.compile(rb"\s*\$?([A-Za-z]+)\$?(\d+)\s*")
_ROW_PARTS = re.compile(rb"\s*(\d+)\s*")
_HUGE = 10**12  # calamine parses numbers with wrapping arithmetic: 99999999999 becomes 1,215,752,191
# Markup the fast path does not model: prefixed cell parts, r attributes quoted with ' or spaced around =,
# cells or rows whose first attribute is not r= (calamine then counts positions).
_ODD_PREFIXED = re.compile(rb":(?:c|row|v|is)[\s>/]")
# r = "…", r= "…", r='…' (and r=x, which is no attribute: cheaper for the engine than naming \s and ' after r=).
# It may also hit text: then only the slower exact path runs.
_ODD_R = re.compile(rb'r(?:=[^"]|\s+=)')
# A superset of _ODD_R the engine tests faster ("r", then "=" but not '="', or whitespace); its hits are confirmed
# by _ODD_R one by one, a few of them (whitespace after an "r" is common in text, and in <autoFilter ref=…>).
_ODD_R_PRE = re.compile(rb'r(?!=")[=\s]')
# Cells and rows whose first attribute is not r=" (two literal-led passes: one alternation led by "<" is
# slower than both together; "<c\tr=" counts as odd too, which only sends it to the exact path). Rows are found
# from their "w", a byte rarer than "<" (the engine tests fewer places).
_RLESS_C = re.compile(rb'<c(?! r=")[\s>/]')
_RLESS_ROW = re.compile(rb'w(?<=<row)(?! r=")[\s>/]')


#: The guard's long regex passes search a piece this many bytes at a time (see :func:`_search_slices`).
_SLICE = 262_144
_SLICE_SPAN = 64


def _search_slices(pat: re.Pattern[bytes], xml: bytes, pos: int = 0) -> re.Match[bytes] | None:
    """``pat.search(xml, pos)`` for a pattern whose every match, with what its lookarounds look at after it, is at
    most _SLICE_SPAN bytes long (lookbehinds see the bytes before a slice as they see them in the whole): searched
    slice by slice, so that the thread holding the GIL lets it go every ~0.2 ms instead of after a whole 4 MB piece
    (another thread waiting for the GIL — the parser, the inflater — is not kept waiting for the whole pass). A match
    starting within _SLICE_SPAN bytes of a slice's end is looked at again from the next slice (its lookahead may have
    been cut short): the first match is the one ``pat.search`` finds."""
    n = len(xml)
    while True:
        stop = pos + _SLICE
        if stop + _SLICE_SPAN >= n:
            return pat.search(xml, pos)
        m = pat.search(xml, pos, stop + _SLICE_SPAN)
        if m is not None and m.start() < stop:
            return m
        pos = stop


def _big_int(digits: bytes) -> int:
    return int(digits) if len(digits.lstrip(b"0")) <= 12 else _HUGE


def _big_col(letters: bytes) -> int:
    return col_index(letters.decode().upper()) + 1 if len(letters) <= 6 else _HUGE


def _cell_has_value(xml: bytes, pos: int, limit: int = 200) -> bool:
    """Whether the cell whose start tag ends at pos holds a value for calamine: a <v> with text, or an
    <is>, before the cell's </c>. Tokens are read the way quick-xml reads them (quotes, comments);
    when in doubt — too many tokens, the end of the data — the answer is yes."""
    for n, m in enumerate(_TOKEN.finditer(xml, pos)):
        if n > limit:
            return True
        name = m.group(2)
        if name is None:  # comment, CDATA, PI, declaration
            continue
        if m.group(4) != b">":
            return True  # unterminated tag at the end of the data
        if m.group(1) == b"/":
            if name == b"c":
                return False
            continue
        if name == b"is" or (name == b"v" and _v_has_text(xml, m)):
            return True
    return True


def _v_has_text(xml: bytes, m: re.Match[bytes]) -> bool:
    """A <v> start tag followed by anything but its end tag (conservative: a comment or CDATA counts)."""
    return not (m.group(3) or b"").rstrip().endswith(b"/") and not xml.startswith(b"</", m.end())


def _first_valued_beyond(xml: bytes, max_col: int | None, max_row: int | None) -> str | None:
    """The first cell holding a value whose column > max_col or row > max_row (styled empty cells pass).

    Conservative: an r="…" beyond the limits anywhere (even in text or another tag) counts unless its tag
    is self-closing or the cell plainly has no value."""
    pat = _beyond_re(max_col, max_row)
    pre = _beyond_prefilter(max_col, max_row)
    pos = 0
    while True:
        if pre is not None:
            cand = _search_slices(pre, xml, pos)
            if cand is None:
                return None
            m = pat.match(xml, cand.start())
            if m is None:
                pos = cand.start() + 3  # past r=": the next r="… may start inside the candidate's letters
                continue
        else:
            m = pat.search(xml, pos)
            if m is None:
                return None
        pos = m.end()
        ref = m.group(0)[3:-1].decode("ascii", "replace").upper()
        end = _TAG_END.match(xml, m.end())
        if end is None:
            return ref
        if xml[end.end() - 2:end.end() - 1] == b"/":
            continue  # <c r="…" s="1"/>: formatting only (calamine: a cell without a value)
        if _cell_has_value(xml, end.end()):
            return ref


def _positional_extent(xml: bytes) -> tuple[int, int, str, str]:
    """See _positional_extent_tokens; well-formed sheets go through expat (C), the rest through the
    tokenizer, which follows quick-xml's leniency."""
    got = _positional_extent_expat(xml)
    return got if got is not None else _positional_extent_tokens(xml)


class _Placement:
    """calamine's cursor while it reads a sheet, and the extent of the cells with values."""

    def __init__(self) -> None:
        self.row = 1  # 1-based row of the current position
        self.col = 1  # 1-based column of the current position
        self.max_r = self.max_c = 0
        self.far_row = self.far_col = ""
        self.cell: list[tuple[int, int]] = []  # positions of the open cell
        self.valued = False
        self.in_v = False

    def record(self) -> None:
        for c, r in self.cell:
            if r > self.max_r or c > self.max_c:
                name = f"{_letters(min(c, 16_384))}{r}" if c < _HUGE and r < _HUGE else "за пределами листа"
                if r > self.max_r:
                    self.max_r, self.far_row = r, name
                if c > self.max_c:
                    self.max_c, self.far_col = c, name

    def result(self) -> tuple[int, int, str, str]:
        return self.max_r, self.max_c, self.far_row, self.far_col


class _NoDTD(Exception):
    pass


def _positional_extent_expat(xml: bytes) -> tuple[int, int, str, str] | None:
    """calamine's cell placement (see _positional_extent_tokens) for a well-formed sheet; None otherwise."""
    from xml.parsers import expat

    st = _Placement()

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "row":
            rm = _ROW_PARTS.fullmatch(attrs["r"].encode("utf-8", "replace")) if "r" in attrs else None
            if rm:
                st.row = _big_int(rm.group(1))
        elif tag == "c":
            if st.cell and st.valued:
                st.record()
            rm = _REF_PARTS.fullmatch(attrs["r"].encode("utf-8", "replace")) if "r" in attrs else None
            if rm:
                pos = (_big_col(rm.group(1)), _big_int(rm.group(2)))
                st.col = pos[0]
            else:
                pos = (st.col, st.row)
            st.cell = [pos]
            st.col += 1
            st.valued = st.in_v = False
        elif st.cell:
            if tag == "is":
                st.valued = True
            elif tag == "v":
                st.in_v = True

    def end(name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "row":
            st.row += 1
            st.col = 1
        elif tag == "c":
            if st.cell and st.valued:
                st.record()
            st.cell = []
        elif tag == "v":
            st.in_v = False

    def text(data: str) -> None:
        if st.in_v:
            st.valued = True

    def no_dtd(*_args: object) -> None:
        raise _NoDTD  # refused earlier by the prolog check; never let expat expand entities

    p = expat.ParserCreate()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = text
    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    p.buffer_text = True
    try:
        p.Parse(xml, True)
    except (expat.ExpatError, _NoDTD, ValueError):
        return None
    return st.result()


def _positional_extent_tokens(xml: bytes) -> tuple[int, int, str, str]:
    """Height, width, lowest and rightmost cell the way calamine 0.9 places cells, for markup the fast
    path does not model (cells or rows without r=, r= quoted oddly or repeated, prefixed elements,
    comments, CDATA).

    calamine: <row r=…> sets the row, </row> moves to the next row and back to column A; a <c> with r=
    sets row and column, one without takes the current position; the column moves on after each </c>;
    empty elements <row/> and <c/> count as <row></row> and <c></c>. Conservative where it cannot be
    exact: every r= of a tag counts (calamine takes the last), and any <v>/<is> in the cell is a value.
    tests/test_fuzz_props.py compares this with calamine on random markup.
    """
    row = 1  # 1-based row of the current position
    col = 1  # 1-based column of the current position
    max_r = max_c = 0
    far_row = far_col = ""
    cells: list[tuple[int, int]] = []  # positions of the open cell
    valued = False

    def record() -> None:
        nonlocal max_r, max_c, far_row, far_col
        for c, r in cells:
            if r > max_r or c > max_c:
                name = f"{_letters(min(c, 16_384))}{r}" if c < _HUGE and r < _HUGE else "за пределами листа"
                if r > max_r:
                    max_r, far_row = r, name
                if c > max_c:
                    max_c, far_col = c, name

    for m in _TOKEN.finditer(xml):
        name = m.group(2)
        if name is None:
            continue
        closing = m.group(1) == b"/"
        body = m.group(3) or b""
        self_closing = body.rstrip().endswith(b"/")  # calamine expands <x/> to <x></x>
        if closing:
            if name == b"row":
                row += 1
                col = 1
            elif name == b"c" and cells:
                if valued:
                    record()
                cells, valued = [], False
            continue
        if name == b"row":
            values = [a or b for a, b in _R_VALUE.findall(body)]
            nums = [_big_int(rm.group(1)) for v in values if (rm := _ROW_PARTS.fullmatch(v))]
            if nums:
                row = nums[-1]
            if self_closing:
                row += 1
                col = 1
        elif name == b"c":
            if cells and valued:
                record()  # a cell left open: count what it had
            values = [a or b for a, b in _R_VALUE.findall(body)]
            refs = [(_big_col(rm.group(1)), _big_int(rm.group(2))) for v in values if (rm := _REF_PARTS.fullmatch(v))]
            cells = refs or [(col, row)]
            if refs:
                col = refs[-1][0]
            col += 1
            valued = False
            if self_closing:
                cells = []
        elif cells and (name == b"is" or (name == b"v" and _v_has_text(xml, m))):
            valued = True
    if cells and valued:
        record()
    return max_r, max_c, far_row, far_col


def plain_markup(xml: bytes) -> bool:
    """No markup the fast path does not model: no declaration, comment, CDATA or processing instruction after
    the XML declaration, no prefixed cell parts, every row and cell with r="…" first (a conservative test: it may
    say no to plain markup, never yes to odd markup)."""
    body_at = xml.find(b"?>") + 2 if xml.startswith(b"<?") else 0
    if find_lit(xml, b"<!", b"!", body_at) >= 0 or find_lit(xml, b"<?", b"?", body_at) >= 0:
        return False
    return not (search_short(_ODD_PREFIXED, xml, b":", 5) or _odd_r(xml) or _search_slices(_RLESS_C, xml)
                or _search_slices(_RLESS_ROW, xml))


def _odd_r(xml: bytes) -> bool:
    """Whether _ODD_R matches anywhere: every match of it starts where _ODD_R_PRE matches."""
    pos = 0
    for _ in range(32):
        m = _search_slices(_ODD_R_PRE, xml, pos)
        if m is None:
            return False
        if _ODD_R.match(xml, m.start()):
            return True
        pos = m.start() + 1
    return _ODD_R.search(xml, pos) is not None


def within_fast_limits(xml: bytes, rules: Rules) -> bool:
    """check_extent's first test for plain markup: no valued cell below the row limit or right of the columns that
    fit the budget at that many rows. True means the sheet (or a run of its rows) passes the guard."""
    lim = rules.schema.limits
    max_row = lim.max_rows + rules.schema.register_spec.header_search_rows
    budget = min(MAX_SHEET_CELLS, max_row * lim.max_columns)
    return _first_valued_beyond(xml, max(1, budget // max_row), max_row) is None


def check_extent(xml: bytes, sheet: str, path: Path, rules: Rules, prefix: bytes | None = None) -> None:
    """Refuse a sheet whose used area would not fit in memory, before calamine allocates it.

    calamine allocates a dense grid from the first to the last cell holding a value; one value in
    XFD1048576 would ask for 550 GB and abort the process. Styled empty cells do not count.
    """
    if prefix is None:
        prefix = sheet_prefix(xml)
    lim = rules.schema.limits
    max_row = lim.max_rows + rules.schema.register_spec.header_search_rows
    max_col = lim.max_columns
    budget = min(MAX_SHEET_CELLS, max_row * max_col)

    def fail(ref: str, why: str) -> FileError:
        return FileError("sheet_too_large", rules.file_error(
            "sheet_too_large", path, f"«{sheet}»: значение в ячейке {ref} {why}"), path)

    limits_txt = f"выходит за пределы {max_row:,} строк и {max_col} столбцов".replace(",", " ")
    if prefix or not plain_markup(xml):
        h, w, far_row, far_col = _positional_extent(xml)
        if w > max_col:
            raise fail(far_col, limits_txt)
        if h > max_row:
            raise fail(far_row, limits_txt)
        if h * w > budget:
            raise fail(far_col, f"— лист занял бы {h:,} × {w} ячеек".replace(",", " "))
        return
    fast_cols = max(1, budget // max_row)
    if _first_valued_beyond(xml, fast_cols, max_row) is None:
        return  # height <= max_row and width <= fast_cols: within the budget (see within_fast_limits)
    beyond = _first_valued_beyond(xml, max_col, max_row)
    if beyond is not None:
        raise fail(beyond, limits_txt)
    # Some values lie right of fast_cols: find the real width, then the height it allows.
    lo, hi = fast_cols, max_col  # width in (lo, hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _first_valued_beyond(xml, mid, None) is None:
            hi = mid
        else:
            lo = mid
    width = hi
    beyond = _first_valued_beyond(xml, None, max(1, budget // width))
    if beyond is not None:
        raise fail(beyond, f"— лист занял бы больше {budget:,} ячеек ({width} столбцов)".replace(",", " "))
