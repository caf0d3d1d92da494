"""Painting one worksheet: row-level surgery, everything outside the touched rows copied as is."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..cells import col_letter, parse_ref
from ..models import Severity
from .ooxml import NS_R, Elem, SheetSkip, apply_edits, children, del_attr, find_root, get_attr, set_attr, xbytes

_R_ATTR = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_CELL_R = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?(\d+)[\"']")
_S_ATTR = re.compile(rb"\ss\s*=\s*[\"'](\d+)[\"']")
_WS = (b" ", b"\t", b"\n", b"\r", b">", b"/")


class _RowsUnsorted(Exception):
    pass


class SheetXml:
    """Row-level surgery on one worksheet's XML; everything outside the touched rows is copied as is."""

    def __init__(self, xml: bytes, part: str) -> None:
        self.xml = xml
        self.part = part
        root = find_root(xml, part)
        if root.name != b"worksheet":
            raise SheetSkip("это не лист с ячейками")
        self.p = root.prefix
        self.root = root
        p = self.p
        m = re.compile(rb"<" + re.escape(p) + rb"sheetData(?=[\s/>])").search(xml, root.content_start)
        if m is None:
            raise SheetSkip("нет раздела sheetData")
        gt = xml.index(b">", m.end())
        self.sd_start = m.start()
        self.sd_open_end = gt + 1
        if xml[gt - 1:gt] == b"/":
            self.sd_empty = True
            self.sd_content_end = self.sd_open_end
            self.sd_end = self.sd_open_end
        else:
            self.sd_empty = False
            close = b"</" + p + b"sheetData>"
            ce = xml.rfind(close, self.sd_open_end)
            if ce < 0:
                raise SheetSkip("раздел sheetData не закрыт")
            self.sd_content_end = ce
            self.sd_end = ce + len(close)
        if xml.find(b"<!", self.sd_open_end, self.sd_content_end) >= 0:  # CDATA or an XML comment
            raise SheetSkip("в данных листа есть CDATA или комментарии XML")
        self.row_tag = b"<" + p + b"row"
        self.cell_re = re.compile(rb"<" + re.escape(p) + rb"c(?=[\s/>])")
        self.col_styles = self._col_styles()
        self.edits: list[tuple[int, int, bytes]] = []
        self._avg: float | None = None
        self.max_row = 0
        self.max_col = -1
        self.min_row = 1 << 30
        self.min_col = 1 << 30

    def _avg_row_bytes(self) -> float:
        if self._avg is None:
            first = self._next_row(self.sd_open_end)
            last_pos = self.xml.rfind(self.row_tag, self.sd_open_end, self.sd_content_end)
            last = self._next_row(last_pos) if last_pos >= 0 else None
            if first is None or last is None or last[1] <= first[1]:
                self._avg = 200.0
            else:
                self._avg = max(1.0, (last[0] - first[0]) / (last[1] - first[1]))
        return self._avg

    def _col_styles(self) -> list[tuple[int, int, int]]:
        head = self.xml[self.root.content_start:self.sd_start]
        out: list[tuple[int, int, int]] = []
        for m in re.finditer(rb"<(?:\w+:)?col\b[^>]*>", head):
            tag = m.group(0)
            mn, mx, st = get_attr(tag, b"min"), get_attr(tag, b"max"), get_attr(tag, b"style")
            if mn and mx and st and mn.isdigit() and mx.isdigit() and st.isdigit():
                out.append((int(mn) - 1, int(mx) - 1, int(st)))
        return out

    def _col_style(self, col: int) -> int:
        for mn, mx, st in self.col_styles:
            if mn <= col <= mx:
                return st
        return 0

    # -- finding rows ------------------------------------------------------------------------------
    def _next_row(self, pos: int) -> tuple[int, int] | None:
        """The first row start tag at or after ``pos``: (position, row number)."""
        xml, tag, end = self.xml, self.row_tag, self.sd_content_end
        n = len(tag)
        while True:
            i = xml.find(tag, pos, end)
            if i < 0:
                return None
            if xml[i + n:i + n + 1] in _WS:
                gt = xml.find(b">", i)
                m = _R_ATTR.search(xml, i, gt)
                if m is None:
                    raise _RowsUnsorted
                return i, int(m.group(1))
            pos = i + 1

    def find_row(self, target: int, lo: int) -> tuple[int, bool]:
        """Position of row ``target`` (True) or where it must be inserted (False); rows start at >= lo.

        Interpolation first (rows of a register are of similar length), then bisection of what is left,
        then a short linear walk: a few probes per row instead of a scan of the whole sheet.
        """
        hi = self.sd_content_end
        ans = hi
        first = self._next_row(lo)
        if first is None:
            return hi, False
        if first[1] >= target:
            ans = first[0]
        else:
            low_pos, low_r = first
            lo = low_pos + 1
            avg = self._avg_row_bytes()
            for _ in range(4):  # interpolation probes
                guess = low_pos + int((target - low_r - 0.5) * avg)
                if guess <= lo or guess >= hi:
                    break
                nr = self._next_row(guess)
                if nr is None or nr[0] >= hi:
                    hi = guess
                    continue
                if nr[1] >= target:
                    ans, hi = nr[0], guess
                    if nr[1] == target:
                        # the row just before must be an earlier one: checked below
                        lo = hi = guess
                    break
                low_pos, low_r = nr
                lo = low_pos + 1
            while hi - lo > 4096:
                mid = (lo + hi) // 2
                nr = self._next_row(mid)
                if nr is None or nr[0] >= hi:
                    hi = mid
                    continue
                pos, r = nr
                if r >= target:
                    ans, hi = pos, mid
                else:
                    lo = pos + 1
            pos = lo
            prev = -1
            while pos < hi:
                nr = self._next_row(pos)
                if nr is None or nr[0] >= hi:
                    break
                if nr[1] < prev:
                    raise _RowsUnsorted
                prev = nr[1]
                if nr[1] >= target:
                    ans = nr[0]
                    break
                pos = nr[0] + 1
        exists = False
        if ans < self.sd_content_end:
            at = self._next_row(ans)
            if at is None or at[1] < target:
                raise _RowsUnsorted
            exists = at[1] == target
        if not exists:
            # The row before the insertion point must be an earlier one.
            before = self.xml.rfind(self.row_tag, self.sd_open_end, ans)
            while before >= 0:
                prev_row = self._next_row(before)
                if prev_row is not None and prev_row[0] == before:
                    if prev_row[1] >= target:
                        raise _RowsUnsorted
                    break
                before = self.xml.rfind(self.row_tag, self.sd_open_end, before)
        return ans, exists

    # -- painting ------------------------------------------------------------------------------------
    def paint(self, cells: dict[int, dict[int, Severity]], style: Callable[[int, Severity], int]) -> None:
        lo = self.sd_open_end
        for rn in sorted(cells):
            targets = cells[rn]
            try:
                pos, exists = self.find_row(rn, lo)
            except _RowsUnsorted:
                raise SheetSkip("строки листа записаны без номеров или не по порядку") from None
            self.max_row = max(self.max_row, rn)
            self.max_col = max(self.max_col, *targets)
            self.min_row = min(self.min_row, rn)
            self.min_col = min(self.min_col, *targets)
            if exists:
                lo = self._patch_row(pos, rn, targets, style)
            else:
                cells_xml = b"".join(self._new_cell(rn, c, style(self._col_style(c), sev))
                                     for c, sev in sorted(targets.items()))
                self.edits.append((pos, pos, b"<" + self.p + b'row r="' + str(rn).encode() + b'">' + cells_xml
                                   + b"</" + self.p + b"row>"))
                lo = pos
        if self.sd_empty and self.edits:
            # <sheetData/> -> <sheetData> rows </sheetData>
            tag = self.xml[self.sd_start:self.sd_open_end]
            inner = b"".join(e[2] for e in sorted(self.edits, key=lambda e: e[0]))
            self.edits = [(self.sd_start, self.sd_end, tag[:-2].rstrip() + b">" + inner + b"</" + self.p
                           + b"sheetData>")]

    def _patch_cells_fast(self, content: bytes, rn: int, targets: dict[int, Severity],
                          style: Callable[[int, Severity], int]) -> bytes | None:
        """Restyle cells that exist and are found by their ``r="F7"``; None when any needs the slow path."""
        found: list[tuple[int, int, bytes]] = []
        row = str(rn).encode()
        for c, sev in targets.items():
            i = content.find(b' r="' + col_letter(c).encode() + row + b'"')
            if i < 0:
                return None
            cs = content.rfind(b"<", 0, i)
            if cs < 0 or self.cell_re.match(content, cs) is None:
                return None
            cgt = content.index(b">", i)
            ctag = content[cs:cgt + 1]
            sm = _S_ATTR.search(ctag)
            found.append((cs, cgt + 1, set_attr(ctag, b"s", str(style(int(sm.group(1)) if sm else 0, sev)).encode())))
        found.sort()
        pieces: list[bytes] = []
        last = 0
        for cs, ce, tag in found:
            if cs < last:
                return None
            pieces.append(content[last:cs])
            pieces.append(tag)
            last = ce
        pieces.append(content[last:])
        return b"".join(pieces)

    def _new_cell(self, rn: int, col: int, s: int) -> bytes:
        return (b"<" + self.p + b'c r="' + col_letter(col).encode() + str(rn).encode() + b'" s="'
                + str(s).encode() + b'"/>')

    def _patch_row(self, pos: int, rn: int, targets: dict[int, Severity],
                   style: Callable[[int, Severity], int]) -> int:
        xml, p = self.xml, self.p
        gt = xml.index(b">", pos)
        open_tag = xml[pos:gt + 1]
        if open_tag.endswith(b"/>"):
            content_start = content_end = row_end = gt + 1
            open_tag = open_tag[:-2].rstrip() + b">"
        else:
            close = b"</" + p + b"row>"
            ce = xml.find(close, gt + 1, self.sd_content_end)
            if ce < 0:
                raise SheetSkip(f"строка {rn} не закрыта")
            content_start, content_end, row_end = gt + 1, ce, ce + len(close)
        content = xml[content_start:content_end]
        fast = self._patch_cells_fast(content, rn, targets, style)
        if fast is not None:
            self.edits.append((pos, row_end, open_tag + fast + b"</" + p + b"row>"))
            return row_end
        row_style = 0
        if (get_attr(open_tag, b"customFormat") or b"") in (b"1", b"true"):
            st = get_attr(open_tag, b"s")
            row_style = int(st) if st and st.isdigit() else 0
        pieces: list[bytes] = []
        last = 0
        col = -1
        pending = sorted(targets.items())
        k = 0
        added = False
        for m in self.cell_re.finditer(content):
            cs = m.start()
            cgt = content.index(b">", cs)
            ctag = content[cs:cgt + 1]
            rm = _CELL_R.search(ctag)
            if rm:
                c = 0
                for ch in rm.group(1).upper():
                    c = c * 26 + (ch - 64)
                col = c - 1
            else:
                col += 1
            while k < len(pending) and pending[k][0] < col:
                # a missing cell before this one
                c, sev = pending[k]
                pieces.append(content[last:cs])
                pieces.append(self._new_cell(rn, c, style(row_style or self._col_style(c), sev)))
                last = cs
                added = True
                k += 1
            if k < len(pending) and pending[k][0] == col:
                sev = pending[k][1]
                sm = _S_ATTR.search(ctag)
                base = int(sm.group(1)) if sm else 0
                new_tag = set_attr(ctag, b"s", str(style(base, sev)).encode())
                pieces.append(content[last:cs])
                pieces.append(new_tag)
                last = cgt + 1
                k += 1
        pieces.append(content[last:])
        while k < len(pending):
            c, sev = pending[k]
            pieces.append(self._new_cell(rn, c, style(row_style or self._col_style(c), sev)))
            added = True
            k += 1
        if added:
            open_tag = del_attr(open_tag, b"spans")
        self.edits.append((pos, row_end, open_tag + b"".join(pieces) + b"</" + p + b"row>"))
        return row_end

    # -- the rest of the sheet ------------------------------------------------------------------------
    def tail(self) -> list[Elem]:
        return children(self.xml, self.sd_end, self.root.content_end)

    def legacy_drawing_rid(self) -> str | None:
        for el in self.tail():
            if el.name == b"legacyDrawing":
                tag = self.xml[el.start:el.tag_end]
                m = re.search(rb"\s[\w.-]+:id\s*=\s*[\"']([^\"']*)[\"']", tag)
                return m.group(1).decode("utf-8", "replace") if m else None
        return None

    def add_legacy_drawing(self, rid: str) -> None:
        after = {b"legacyDrawingHF", b"drawingHF", b"picture", b"oleObjects", b"controls", b"webPublishItems",
                 b"tableParts", b"extLst", b"AlternateContent"}
        at = self.root.content_end
        for el in self.tail():
            if el.name in after:
                at = el.start
                break
        self.edits.append((at, at, b"<" + self.p + b'legacyDrawing xmlns:r="' + NS_R.encode() + b'" r:id="'
                           + xbytes(rid) + b'"/>'))

    def fix_dimension(self) -> None:
        """Grow ``<dimension ref>`` to cover every painted cell (openpyxl's read-only mode trusts it)."""
        if self.max_col < 0:
            return
        m = re.compile(rb"<" + re.escape(self.p) + rb"dimension\b[^>]*>").search(self.xml, self.root.content_start,
                                                                                  self.sd_start)
        if not m:
            return
        tag = m.group(0)
        ref = get_attr(tag, b"ref")
        if ref is None:
            return
        a, _, b = ref.decode("ascii", "replace").partition(":")
        pa, pb = parse_ref(a), parse_ref(b or a)
        if pa is None or pb is None:
            return
        box = (min(pa[0], self.min_row), min(pa[1], self.min_col), max(pb[0], self.max_row), max(pb[1], self.max_col))
        if box == (pa[0], pa[1], pb[0], pb[1]):
            return
        new = f"{col_letter(box[1])}{box[0]}:{col_letter(box[3])}{box[2]}".encode()
        self.edits.append((m.start(), m.end(), set_attr(tag, b"ref", new)))

    def result(self) -> bytes:
        return apply_edits(self.xml, self.edits)
