"""OpenDocument spreadsheets (.ods): what the reader needs to know about content.xml before calamine reads it.

python-calamine 0.9 (calamine 0.37) parses every table of content.xml when the workbook is opened and expands
``table:number-columns-repeated`` / ``table:number-rows-repeated`` and ``<text:s text:c="…"/>`` into real cells
and characters: one ``<table:table-row table:number-rows-repeated="1000000">`` holding a value allocates a
million rows, a cell of ``text:c="1000000000"`` a gigabyte of spaces — and a failed allocation aborts the
whole process. This module walks content.xml once (expat, element names matched as calamine matches them:
by their literal ``table:``/``office:``/``text:`` qualified names) and returns, per table:

- the extent calamine would allocate (the lowest and the rightmost cell holding a value or a formula,
  repeats counted) and how many characters repeats and ``text:s`` would add;
- what calamine does not expose: formulas without a cached value, error cells (LibreOffice writes them
  as ``calcext:value-type="error"`` with a 0 as value), merged ranges (``number-columns-spanned`` /
  ``number-rows-spanned``) and hidden rows (``table:visibility="collapse"|"filter"``), and whether the
  table itself is hidden (a table style with ``table:display="false"``).

Positions are 1-based (column, row) numbers; the reader turns them into A1 references. Nothing here
raises a FileError: the reader decides (reader/files.py, ``_open_ods``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .errors import describe
from .models import CodedError

MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
HUGE = 10**12
_COUNT = re.compile(r"\+?[0-9]+")  # what Rust's usize parser accepts (calamine then fails on anything else)
_VALUE_ATTRS = ("office:value", "office:string-value", "office:date-value", "office:time-value",
                "office:boolean-value")
_CELLS = ("table:table-cell", "table:covered-table-cell")
MAX_ERROR_TEXT = 200


class OdsMarkupError(CodedError):
    """content.xml is not well-formed XML (or carries a DTD): LibreOffice would not open it either."""

    default_code = "xml_broken"


@dataclass
class OdsTable:
    name: str
    style: str = ""
    hidden: bool = False
    height: int = 0  # last row holding a value or a formula (1-based), repeats counted
    width: int = 0  # last column holding a value or a formula (1-based), repeats counted
    far_row: tuple[int, int] = (0, 0)  # (column, row) of the lowest such cell
    far_col: tuple[int, int] = (0, 0)  # (column, row) of the rightmost such cell
    formulas: set[tuple[int, int]] = field(default_factory=set)
    formulas_cached: set[tuple[int, int]] = field(default_factory=set)
    formulas_without_value: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_rows: list[tuple[int, int]] = field(default_factory=list)  # (first, last) row ranges
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (c1, r1, c2, r2)
    autofilter: bool = False
    amplified_chars: int = 0  # characters calamine would create beyond those written in the file
    longest_text: int = 0  # the longest single cell text calamine would build (text:s counted)
    longest_at: tuple[int, int] = (0, 0)  # (column, row) of that cell


@dataclass
class OdsContent:
    tables: list[OdsTable] = field(default_factory=list)


def count(value: str | None) -> int:
    """A repeat/span count the way calamine parses it; anything it cannot parse counts as 1."""
    if value is None or not _COUNT.fullmatch(value):
        return 1
    digits = value.lstrip("+").lstrip("0")
    return HUGE if len(digits) > 12 else max(int(digits or "0"), 0)


class _Scanner:
    def __init__(self) -> None:
        self.content = OdsContent()
        self.hidden_styles: set[str] = set()
        self.style: str | None = None
        self.table: OdsTable | None = None
        self.table_depth = 0
        self.row = 1  # first row of the current row element
        self.row_reps = 1
        self.row_hidden = False
        self.col = 1
        self.cell: tuple[int, int, int] | None = None  # (first column, columns repeated, copies) of the open cell
        self.cell_text = 0
        self.cell_error: list[str] | None = None
        self.filter_ranges: list[str] = []

    # -- elements ----------------------------------------------------------------------------------
    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cell is not None:
            if name in _CELLS or name in ("table:table-row", "table:table"):
                # calamine would lose its place (LibreOffice never writes this): refuse rather than guess
                raise OdsMarkupError(f"элемент {name} внутри ячейки")
            if name == "text:s":
                n = count(attrs.get("text:c"))
                self.cell_text = min(self.cell_text + n, HUGE)
                if self.table is not None:
                    self.table.amplified_chars = min(self.table.amplified_chars + n * self.cell[2], HUGE)
            return
        if name == "style:style":
            self.style = attrs.get("style:name")
        elif name == "style:table-properties" and self.style is not None:
            if attrs.get("table:display") == "false":
                self.hidden_styles.add(self.style)
        elif name == "table:table":
            self.table_depth += 1
            if self.table is None:
                self.table = OdsTable(name=attrs.get("table:name", ""), style=attrs.get("table:style-name", ""))
                self.row, self.col = 1, 1
        elif self.table is None:
            if name == "table:database-range" and attrs.get("table:display-filter-buttons") == "true":
                self.filter_ranges.append(attrs.get("table:target-range-address", ""))
            return
        elif name == "table:table-row":
            self.row_reps = count(attrs.get("table:number-rows-repeated"))
            self.col = 1
            vis = attrs.get("table:visibility")
            if vis in ("collapse", "filter"):
                self.table.hidden_rows.append((self.row, self.row + self.row_reps - 1))
        elif name in _CELLS:
            self._open_cell(name, attrs)

    def _open_cell(self, name: str, attrs: dict[str, str]) -> None:
        assert self.table is not None
        t = self.table
        reps = count(attrs.get("table:number-columns-repeated"))
        c0, r0 = self.col, self.row
        self.col = min(self.col + reps, HUGE)
        valued = any(a in attrs for a in _VALUE_ATTRS)
        vtype = attrs.get("office:value-type")
        formula = attrs.get("table:formula")
        text_cell = not valued and vtype == "string"
        error = attrs.get("calcext:value-type") == "error"
        copies = min(reps * self.row_reps, HUGE)
        if valued or text_cell or formula is not None:
            last_c, last_r = min(c0 + reps - 1, HUGE), min(r0 + self.row_reps - 1, HUGE)
            if last_r > t.height:
                t.height, t.far_row = last_r, (c0, last_r)
            if last_c > t.width:
                t.width, t.far_col = last_c, (last_c, r0)
        if copies > 1 and "office:string-value" in attrs:
            t.amplified_chars = min(t.amplified_chars + len(attrs["office:string-value"]) * (copies - 1), HUGE)
        if formula is not None:
            refs = [(c0, r0)] if copies > 1000 else [(c, r) for r in range(r0, r0 + self.row_reps)
                                                       for c in range(c0, c0 + reps)]
            t.formulas.update(refs)
            if valued or text_cell:
                t.formulas_cached.update(refs)
            else:
                text = formula[3:] if formula.startswith("of:") else formula
                for ref in refs:
                    t.formulas_without_value[ref] = text
        if name == "table:table-cell":
            cs = count(attrs.get("table:number-columns-spanned"))
            rs = count(attrs.get("table:number-rows-spanned"))
            if cs > 1 or rs > 1:
                t.merged.append((c0, r0, min(c0 + cs - 1, HUGE), min(r0 + rs - 1, HUGE)))
        self.cell = (c0, reps, copies)
        self.cell_text = 0
        self.cell_error = [] if error else None

    def end(self, name: str, inner: bytes = b"") -> None:
        if self.cell is not None:
            if name in _CELLS:
                self._close_cell(inner)
            return
        if name == "style:style":
            self.style = None
        elif name == "table:table" and self.table is not None:
            self.table_depth -= 1
            if self.table_depth == 0:
                t = self.table
                t.hidden = t.style in self.hidden_styles
                self.content.tables.append(t)
                self.table = None
        elif name == "table:table-row" and self.table is not None:
            self.row = min(self.row + self.row_reps, HUGE)
            self.row_reps = 1

    def _close_cell(self, inner: bytes) -> None:
        """The cell's content is ``inner`` (its markup counts as text: an overestimate, never an under-)."""
        assert self.cell is not None and self.table is not None
        c0, reps, copies = self.cell
        t = self.table
        n = min(self.cell_text + len(inner), HUGE)
        if n > t.longest_text:
            t.longest_text, t.longest_at = n, (c0, self.row)
        if copies > 1 and n:
            t.amplified_chars = min(t.amplified_chars + n * (copies - 1), HUGE)
        if self.cell_error is not None:
            text = html.unescape(_TAGS.sub(b"", inner[:2000]).decode("utf-8", "replace")).strip()[:MAX_ERROR_TEXT]
            for c in range(c0, c0 + min(reps, 1000)):
                t.errors[(c, self.row)] = text or "#ОШИБКА"
        self.cell = None


# The elements the model needs, read the way quick-xml delimits them (a tag ends at the first '>' outside
# quotes); comments, CDATA and processing instructions are matched whole so that nothing inside them counts.
_NAMES = (rb"table:covered-table-cell|table:table-cell|table:table-row|table:table|text:s|style:style"
          rb"|style:table-properties|table:database-range")
_TOKEN = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
                    rb"|<(/?)(" + _NAMES + rb")(?=[\s/>])([^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*)>", re.S)
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAGS = re.compile(rb"<[^>]*>")
_SPECIAL = re.compile(rb"repeated|spanned|formula|error")


def _attrs(body: bytes) -> dict[str, str]:
    if not body.strip(b" \t\r\n/"):
        return {}
    out = {}
    for m in _ATTR.finditer(body):
        v = m.group(2) if m.group(2) is not None else m.group(3)
        text = v.decode("utf-8", "replace")
        out[m.group(1).decode("utf-8", "replace")] = html.unescape(text) if "&" in text else text
    return out


def scan_content(xml: bytes) -> OdsContent:
    """Walk content.xml once; raise OdsMarkupError when it is not well-formed XML.

    expat (C, no handlers but the DTD refusal) proves the XML well-formed — LibreOffice would not open it
    otherwise — and the model then reads only the elements it needs, token by token (fast on the 70 MB
    content.xml of a 20,000-row register).
    """
    from xml.parsers import expat

    def no_dtd(*_args: object) -> None:
        raise OdsMarkupError("объявление DTD")  # refused before; never let expat expand entities

    p = expat.ParserCreate()
    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    try:
        p.Parse(xml, True)
    except expat.ExpatError as e:
        raise OdsMarkupError(describe(e)) from None
    except (ValueError, RecursionError) as e:
        raise OdsMarkupError(describe(e)) from None
    sc = _Scanner()
    inner_from = 0
    for m in _TOKEN.finditer(xml):
        name_b = m.group(2)
        if name_b is None:
            continue  # comment, CDATA, processing instruction
        name = name_b.decode()
        if m.group(1):
            sc.end(name, xml[inner_from:m.start()] if name in _CELLS else b"")
            continue
        body = m.group(3) or b""
        t = sc.table
        if t is not None and sc.cell is None and name in _CELLS and _SPECIAL.search(body) is None:
            # The common cell (no repeats, spans, formula or error): placed inline, no attribute parsing.
            # Any office:…value… attribute counts as a value (an overestimate when only the type is given).
            c0 = sc.col
            sc.col = c0 + 1
            if b"value" in body:
                last_r = sc.row + sc.row_reps - 1
                if last_r > t.height:
                    t.height, t.far_row = last_r, (c0, last_r)
                if c0 > t.width:
                    t.width, t.far_col = c0, (c0, sc.row)
            if not body.endswith(b"/"):
                sc.cell, sc.cell_text, sc.cell_error = (c0, 1, sc.row_reps), 0, None
                inner_from = m.end()
            continue
        sc.start(name, _attrs(body))
        if body.rstrip().endswith(b"/"):
            sc.end(name)
        elif name in _CELLS:
            inner_from = m.end()
    for t in sc.content.tables:
        t.autofilter = any(_range_table(r) == t.name for r in sc.filter_ranges)
    return sc.content


def _range_table(address: str) -> str:
    """The table named by a cell range address such as ``'Перечень'.A1:S9`` or ``Перечень.A1:S9``."""
    a = address.strip().lstrip("$")
    if a.startswith("'"):
        end = a.find("'.", 1)
        return a[1:end].replace("''", "'") if end > 0 else ""
    return a.split(".", 1)[0] if "." in a else ""
