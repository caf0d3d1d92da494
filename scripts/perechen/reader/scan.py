"""The raw scan of a sheet's XML: what calamine does not expose (formulas without a cached value, error
cells, hidden rows, merged ranges, an autofilter), found with regular expressions, without parsing.

Every pass here (and the extent guard's) reads the whole sheet, or a 4 MB piece of it, on the thread that holds the
GIL while calamine parses in another; a literal or a regex scan costs ~1 ms per MB, a search for one byte (memchr)
~0.04 ms. :func:`find_lit`, :func:`rfind_lit` and :func:`search_lit` start from a byte of the literal that plain
sheet XML rarely holds (the «f» of «<f», the «!» of «<!»), so a pass for something absent costs a memchr.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d{1,7})"')
_T_ATTR = re.compile(rb'\bt="([a-z]+)"')
_HIDDEN_ATTR = re.compile(rb'hidden="(?:1|true)"')
_ROW_NUM = re.compile(rb'\br="(\d+)"')


#: Where the rare byte is found, the literal is searched for in a window of this many bytes, then the rare byte again:
#: where the rare byte is everywhere this costs a few percent over one ``bytes.find``, where it is not a memchr.
_WINDOW = 16_384


def find_lit(xml: bytes, lit: bytes, rare: bytes, start: int = 0, end: int | None = None) -> int:
    """``xml.find(lit, start, end)``, found from the byte ``rare`` of ``lit`` (a byte plain sheet XML rarely holds).

    Any ``lit`` at j holds ``rare`` at j + k: none starts before the first ``rare`` (from start + k) minus k. From
    there the literal is searched for in a window, and past the window the rare byte again."""
    k = lit.index(rare)
    n = len(xml) if end is None else min(end, len(xml))
    pos = max(start, 0)  # no lit starts in [start, pos)
    while True:
        i = xml.find(rare, pos + k, n)
        if i < 0:
            return -1
        at = i - k
        j = xml.find(lit, at, min(at + _WINDOW + len(lit), n))  # a lit starting in [at, at + _WINDOW]
        if j >= 0:
            return j
        pos = at + _WINDOW + 1


def rfind_lit(xml: bytes, lit: bytes, rare: bytes) -> int:
    """``xml.rfind(lit)``, found from the byte ``rare`` of ``lit`` backwards (see :func:`find_lit`)."""
    k = lit.index(rare)
    bound = len(xml) - len(lit) + k + 1  # every lit at j has j + k < bound
    while True:
        i = xml.rfind(rare, 0, bound)
        if i < k:
            return -1
        at = max(0, i - k - _WINDOW)
        j = xml.rfind(lit, at, i - k + len(lit))  # a lit starting in [i - k - _WINDOW, i - k]
        if j >= 0:
            return j
        bound = at + k


def search_lit(pat: re.Pattern[bytes], xml: bytes, lit: bytes, rare: bytes, pos: int = 0) -> re.Match[bytes] | None:
    """``pat.search(xml, pos)`` for a pattern whose every match starts with ``lit`` (see :func:`find_lit`)."""
    at = find_lit(xml, lit, rare, pos)
    return None if at < 0 else pat.search(xml, at)


def search_short(pat: re.Pattern[bytes], xml: bytes, rare: bytes, span: int) -> re.Match[bytes] | None:
    """``pat.search(xml)`` for a pattern whose every match starts with the byte ``rare`` and is at most ``span``
    bytes long (and needs nothing after it: no lookahead, no ``\\b`` or ``$`` at its end): searched for in a window
    from each ``rare`` (see :func:`find_lit`)."""
    n = len(xml)
    pos = 0
    while True:
        i = xml.find(rare, pos)
        if i < 0:
            return None
        m = pat.search(xml, i, min(i + _WINDOW + span, n))  # a match starting in [i, i + _WINDOW]
        if m is not None:
            return m
        pos = i + _WINDOW + 1


@dataclass
class RawScan:
    formulas_without_value: dict[str, str] = field(default_factory=dict)  # ref -> formula text
    formulas: set[str] = field(default_factory=set)
    formulas_cached: set[str] = field(default_factory=set)  # formulas that do have a cached value
    errors: dict[str, str] = field(default_factory=dict)  # ref -> error text
    hidden_rows: list[int] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    autofilter: bool = False


@functools.lru_cache(maxsize=64)
def _patterns(prefix: bytes) -> dict[str, re.Pattern[bytes]]:
    p = re.escape(prefix)
    return {
        "f_start": re.compile(b"<" + p + rb"f[\s>/]"),
        "f_elem": re.compile(b"<" + p + rb"f(?:\s[^>]*)?(?:/>|>([^<]*)</" + p + b"f>)"),
        "v_elem": re.compile(b"<" + p + b"v>([^<]*)</" + p + b"v>"),
        "row_tag": re.compile(b"<" + p + rb"row\s"),
        "merge": re.compile(b"<" + p + rb'mergeCell\s[^>]*\bref="([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)"'),
        "autofilter": re.compile(b"<" + p + rb"autoFilter\b"),
    }


_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?(?:worksheet|chartsheet|dialogsheet)\b")


def sheet_prefix(xml: bytes) -> bytes:
    m = _ROOT.search(xml, 0, 65536)
    return (m.group(1) or b"") if m else b""


def scan_sheet_xml(xml: bytes, prefix: bytes | None = None) -> RawScan:
    """Find formulas, error cells, hidden rows and merges in a sheet's XML without parsing it."""
    if prefix is None:
        prefix = sheet_prefix(xml)
    pt = _patterns(prefix)
    c_open = b"<" + prefix + b"c "
    c_close = b"</" + prefix + b"c>"
    scan = RawScan()
    f_at = find_lit(xml, b"<" + prefix + b"f", b"f")
    for m in (pt["f_start"].finditer(xml, f_at) if f_at >= 0 else ()):
        start = xml.rfind(c_open, 0, m.start())
        if start < 0:
            continue
        end = xml.find(c_close, m.start())
        end = len(xml) if end < 0 else end
        seg = xml[start:end]
        tag_end = seg.find(b">")
        ref = _CELL_REF.search(seg, 0, tag_end)
        if not ref:
            continue
        r = (ref.group(1) + ref.group(2)).decode()
        scan.formulas.add(r)
        t = _T_ATTR.search(seg, 0, tag_end)
        v = pt["v_elem"].search(seg)
        if (v is None or v.group(1) == b"") and not (t and t.group(1) == b"str" and v is not None):
            fm = pt["f_elem"].search(seg)
            ftext = (fm.group(1) or b"").decode("utf-8", "replace") if fm else ""
            scan.formulas_without_value[r] = "=" + _xml_unescape(ftext) if ftext else "(общая формула)"
        else:
            scan.formulas_cached.add(r)
    pos = 0
    while True:
        i = find_lit(xml, b't="e"', b"e", pos)
        if i < 0:
            break
        pos = i + 5
        start = xml.rfind(b"<", 0, i)
        if not xml.startswith(c_open, start):
            continue
        end = xml.find(c_close, i)
        end = len(xml) if end < 0 else end
        seg = xml[start:end]
        tag_end = seg.find(b">")
        ref = _CELL_REF.search(seg, 0, tag_end)
        if not ref:
            continue
        v = pt["v_elem"].search(seg)
        text = v.group(1).decode("utf-8", "replace") if v else ""
        scan.errors[(ref.group(1) + ref.group(2)).decode()] = _xml_unescape(text) or "#ОШИБКА"
    h_at = find_lit(xml, b'hidden="', b"h")
    for m in (_HIDDEN_ATTR.finditer(xml, h_at) if h_at >= 0 else ()):
        lt = xml.rfind(b"<", 0, m.start())
        gt = xml.find(b">", m.start())
        tag = xml[lt:gt + 1]
        if pt["row_tag"].match(tag):
            rn = _ROW_NUM.search(tag)
            if rn:
                scan.hidden_rows.append(int(rn.group(1)))
    # <autoFilter> and <mergeCells> follow <sheetData> in a worksheet (CT_Worksheet's sequence).
    tail = max(0, rfind_lit(xml, b"sheetData>", b"h"))
    m_at = find_lit(xml, b"<" + prefix + b"mergeCell", b"g", tail)
    scan.merged = [m.group(1).decode() for m in pt["merge"].finditer(xml, m_at)] if m_at >= 0 else []
    scan.autofilter = search_lit(pt["autofilter"], xml, b"<" + prefix + b"autoFilter", b"u", tail) is not None
    return scan


def _xml_unescape(s: str) -> str:
    from html import unescape
    return unescape(s)
