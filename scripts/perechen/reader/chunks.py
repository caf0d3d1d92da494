"""A large register sheet read in pieces, so that guarding and parsing overlap.

calamine parses a worksheet without holding the GIL, but it must not start before the extent guard has passed the
sheet (a value in XFD1048576 would make it allocate a dense grid of 550 GB). Read whole, the guard, the parse and
the conversion to Python lists run one after another. Here the sheet's rows are cut into pieces at row boundaries
and written, each as a worksheet of its own, into one workbook in a temporary folder (stored, not deflated:
calamine reads each piece from the file when it parses it) with the original shared strings and styles; a thread
opens it and parses piece after piece, each only after the guard has passed that piece, while this thread guards
and scans the next piece and turns the parsed pieces into Python lists. The rows are then joined into exactly what
calamine gives for the whole sheet.

Only plain markup is cut (the layout Excel, LibreOffice, Р7 and МойОфис write: no namespace prefix, every row and
cell with r="…", rows in order, a plain <sheetData>): anything else, a piece the guard's fast test does not pass,
or any surprise while parsing, and the caller reads the sheet whole, exactly as before (:func:`read_pieces` returns
None). tests/test_reader_chunks.py compares both ways on the corpus and on generated registers.
"""

from __future__ import annotations

import re
import struct
import sys
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..rules import Rules
from .extent import plain_markup, within_fast_limits
from .package import Package
from .scan import RawScan, find_lit, scan_sheet_xml

#: Sheets smaller than this are read whole (the pieces' set-up costs more than it saves).
MIN_BYTES = 8_000_000
#: About this many bytes of sheet XML a piece, and at most this many pieces.
PIECE_BYTES = 4_000_000
MAX_PIECES = 64

_ROOT_TAG = re.compile(rb"<worksheet\b[^>]*>")
_SHEET_DATA = b"<sheetData>"
_SHEET_DATA_END = b"</sheetData>"
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@dataclass
class Plan:
    """Where the pieces lie in the sheet's XML: [starts[i], starts[i + 1]) are the rows of piece i."""

    head: bytes  # the XML declaration and the root start tag, then <sheetData>
    starts: list[int]
    end: int  # where </sheetData> starts
    pieces: list[tuple[int, int]] = field(default_factory=list)


def plan(xml: bytes, pkg: Package, *, min_bytes: int | None = None, piece_bytes: int | None = None) -> Plan | None:
    """The pieces of a large sheet of plain markup, or None (read it whole)."""
    min_bytes = MIN_BYTES if min_bytes is None else min_bytes
    piece_bytes = PIECE_BYTES if piece_bytes is None else piece_bytes
    if len(xml) < min_bytes or pkg.kind != "xlsx" or pkg.strict:
        return None
    root = _ROOT_TAG.search(xml, 0, 65536)
    if root is None:
        return None
    data_at = xml.find(_SHEET_DATA, root.end())
    end = xml.rfind(_SHEET_DATA_END)
    if data_at < 0 or end < data_at or find_lit(xml, _SHEET_DATA, b"h", data_at + 1) >= 0:  # «h»: a memchr
        return None
    body = data_at + len(_SHEET_DATA)
    first_row = xml.find(b"<row ", body, end)
    if first_row < 0 or xml[body:first_row].strip():
        return None  # no rows, or something else right after <sheetData>: read whole
    head_end = xml.find(b"?>") + 2 if xml.startswith(b"<?") else 0
    head = xml[:head_end] + root.group(0) + _SHEET_DATA
    piece_bytes = max(piece_bytes, (end - body) // MAX_PIECES + 1)
    starts = [body]
    at = body + piece_bytes
    while at < end:
        nxt = xml.find(b"<row ", at, end)
        if nxt < 0:
            break
        starts.append(nxt)
        at = nxt + piece_bytes
    if len(starts) < 2:
        return None
    p = Plan(head=head, starts=starts, end=end)
    bounds = [*starts, end]
    p.pieces = [(bounds[i], bounds[i + 1]) for i in range(len(starts))]
    return p


@dataclass
class RawMember:
    """A member of the original zip copied as it is stored there (deflated bytes, CRC and sizes from its central
    directory entry): the shared strings go into the pieces' workbook without being inflated and written again."""

    info: zipfile.ZipInfo
    data: memoryview

    @classmethod
    def of(cls, zip_bytes: bytes, info: zipfile.ZipInfo) -> RawMember | None:
        """None for a member that cannot be copied so (encrypted, another method, a local header that is not one)."""
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        at = info.header_offset
        head = zip_bytes[at:at + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = at + 30 + name_len + extra_len
        if start + info.compress_size > len(zip_bytes):
            return None
        return cls(info, memoryview(zip_bytes)[start:start + info.compress_size])


class _ZipOut:
    """A minimal zip writer for the pieces' workbook: stored members given in parts (their CRC computed here, in C)
    and raw members copied from the original zip. No zip64: :func:`build_package` refuses more than 4 GB."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pos = 0
        self.entries: list[tuple[bytes, int, int, int, int, int]] = []

    def _member(self, name: str, method: int, crc: int, csize: int, usize: int, parts: list[Any]) -> None:
        nb = name.encode("ascii")
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, csize, usize, len(nb), 0) + nb
        self.entries.append((nb, method, crc, csize, usize, self.pos))
        self.out.write(header)
        for part in parts:
            self.out.write(part)
        self.pos += len(header) + csize

    def stored(self, name: str, *parts: Any) -> None:
        crc = 0
        for part in parts:
            crc = zlib.crc32(part, crc)
        size = sum(len(part) for part in parts)
        self._member(name, zipfile.ZIP_STORED, crc, size, size, list(parts))

    def raw(self, name: str, member: RawMember) -> None:
        info = member.info
        self._member(name, info.compress_type, info.CRC, len(member.data), info.file_size, [member.data])

    def close(self) -> None:
        start = self.pos
        for nb, method, crc, csize, usize, offset in self.entries:
            cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, csize, usize,
                             len(nb), 0, 0, 0, 0, 0, offset) + nb
            self.out.write(cd)
            self.pos += len(cd)
        n = len(self.entries)
        self.out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, self.pos - start, start, 0))


def build_package(xml: bytes, p: Plan, pkg: Package, shared_strings: bytes | RawMember | None,
                  styles: bytes | None, out: BinaryIO) -> None:
    """A stored (not deflated) workbook whose sheets are the pieces, with the original strings and styles (the
    strings as raw deflated bytes of the original zip when given as a :class:`RawMember`)."""
    n = len(p.pieces)
    tail = _SHEET_DATA_END + b"</worksheet>"
    shared_size = (len(shared_strings.data) if isinstance(shared_strings, RawMember)
                   else len(shared_strings or b""))
    if len(xml) + n * (len(p.head) + len(tail) + 200) + shared_size + len(styles or b"") >= 0xFFFF0000:
        raise ValueError("the pieces' workbook would need zip64")  # Pieces.start: read the sheet whole
    mv = memoryview(xml)
    z = _ZipOut(out)
    overrides = [f'<Override PartName="/xl/workbook.xml" ContentType="{_CT_MAIN}.sheet.main+xml"/>']
    overrides += [f'<Override PartName="/xl/worksheets/p{i}.xml" ContentType="{_CT_MAIN}.worksheet+xml"/>'
                  for i in range(n)]
    rels = [f'<Relationship Id="rId{i + 1}" Type="{_NS_REL}/worksheet" Target="worksheets/p{i}.xml"/>'
            for i in range(n)]
    if shared_strings is not None:
        overrides.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT_MAIN}.sharedStrings+xml"/>')
        rels.append(f'<Relationship Id="rIdS" Type="{_NS_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        overrides.append(f'<Override PartName="/xl/styles.xml" ContentType="{_CT_MAIN}.styles+xml"/>')
        rels.append(f'<Relationship Id="rIdT" Type="{_NS_REL}/styles" Target="styles.xml"/>')
    z.stored("[Content_Types].xml", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>").encode())
    z.stored("_rels/.rels", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_NS_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>").encode())
    sheets = "".join(f'<sheet name="p{i}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i in range(n))
    pr = '<workbookPr date1904="1"/>' if pkg.date1904 else ""
    z.stored("xl/workbook.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS_MAIN}" '
        f'xmlns:r="{_NS_REL}">{pr}<sheets>{sheets}</sheets></workbook>').encode())
    z.stored("xl/_rels/workbook.xml.rels", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_NS_PKG_REL}">'
        + "".join(rels) + "</Relationships>").encode())
    if isinstance(shared_strings, RawMember):
        z.raw("xl/sharedStrings.xml", shared_strings)
    elif shared_strings is not None:
        z.stored("xl/sharedStrings.xml", shared_strings)
    if styles is not None:
        z.stored("xl/styles.xml", styles)
    for i, (a, b) in enumerate(p.pieces):
        z.stored(f"xl/worksheets/p{i}.xml", p.head, mv[a:b], tail)
    z.close()


class _Parser(threading.Thread):
    """Opens the pieces' workbook and parses piece after piece, each once it is allowed to (calamine releases the
    GIL while it works)."""

    def __init__(self, package: Path, n: int) -> None:
        super().__init__(name="perechen-pieces", daemon=True)
        self.package = package
        self.allowed = [threading.Event() for _ in range(n)]
        self.done = [threading.Event() for _ in range(n)]
        self.sheets: list[Any] = [None] * n
        self.error: BaseException | None = None
        self.stop = False

    def run(self) -> None:
        import python_calamine as pc

        try:
            wb = pc.CalamineWorkbook.from_path(str(self.package))  # read from the file piece by piece
            for i in range(len(self.allowed)):
                self.allowed[i].wait()
                if self.stop:
                    break
                self.sheets[i] = wb.get_sheet_by_index(i)
                self.done[i].set()
        except BaseException as e:  # pyo3's PanicException too: the caller reads the sheet whole
            self.error = e
        finally:
            for ev in self.done:
                ev.set()

    def cancel(self) -> None:
        self.stop = True
        for ev in self.allowed:
            ev.set()
        self.join()


_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.005


def _quick_switches(on: bool) -> None:
    """While a sheet is read in pieces, the interpreter asks the thread holding the GIL to let it go after 0.5 ms
    instead of 5 ms: the parser takes the GIL back after each piece calamine parses, and the main thread, busy with
    the guard's passes and the rows, would otherwise keep it waiting up to the whole interval each time."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if on:
            if not _switch_users:
                _switch_saved = sys.getswitchinterval()
                sys.setswitchinterval(min(_switch_saved, 0.0005))
            _switch_users += 1
        else:
            _switch_users -= 1
            if not _switch_users:
                sys.setswitchinterval(_switch_saved)


class _Unsafe(Exception):
    """A piece the guard's fast test does not pass: the caller guards and reads the sheet whole."""


def read_pieces(xml: bytes, p: Plan, pkg: Package, rules: Rules, budget: Callable[[], None],
                on_rows: Callable[[list[list[Any]], int, set[int]], None] | None = None,
                ) -> tuple[list[list[Any]], RawScan] | None:
    """calamine's rows of the whole sheet (``to_python(skip_empty_area=False)``) and its raw scan, or None when
    the sheet must be guarded and read whole after all (a piece the extent guard's fast test does not pass, odd
    markup, rows out of order, anything calamine stumbles over: the whole read names it).

    ``on_rows(rows, start, hidden)`` is called after each piece, while calamine parses the next one: ``rows`` is the
    grid so far (from A1), ``rows[start:]`` the rows just added (they may still be padded on the right with empty
    cells), ``hidden`` the hidden rows' numbers the raw scan has found so far (every one up to these rows)."""
    pieces = Pieces.start(xml, p, pkg)
    return pieces.read(rules, budget, on_rows) if pieces is not None else None


class Pieces:
    """The pieces' workbook written into a temporary folder and its parser started: it opens the workbook (the
    shared strings and styles) at once and parses each piece once :meth:`read` has guarded it. :meth:`close`
    (also at the end of :meth:`read`) stops the parser and removes the folder."""

    def __init__(self, xml: bytes, p: Plan, folder: tempfile.TemporaryDirectory[str], parser: _Parser) -> None:
        self.xml, self.p, self.folder, self.parser = xml, p, folder, parser
        self._switched = True
        _quick_switches(True)

    @classmethod
    def start(cls, xml: bytes, p: Plan, pkg: Package, zip_bytes: bytes | None = None) -> Pieces | None:
        """None when the workbook cannot be written (no room in the temporary folder): read the sheet whole.
        ``zip_bytes``: the original workbook's bytes, from which the shared strings are copied without inflating."""
        try:
            folder = tempfile.TemporaryDirectory(prefix="perechen-pieces-", ignore_cleanup_errors=True)
        except OSError:
            return None
        package = Path(folder.name) / "pieces.xlsx"
        names = set(pkg.zf.namelist())
        try:  # a file, not memory: calamine then reads each piece from it when it parses that piece
            shared: bytes | RawMember | None = None
            if "xl/sharedStrings.xml" in names:
                info = pkg.zf.getinfo("xl/sharedStrings.xml")
                shared = (RawMember.of(zip_bytes, info) if zip_bytes is not None else None) or pkg.zf.read(info)
            styles = pkg.zf.read("xl/styles.xml") if "xl/styles.xml" in names else None
            with package.open("wb") as f:
                build_package(xml, p, pkg, shared, styles, f)
        except Exception:  # no room for it, or a part the whole read will name: read whole
            folder.cleanup()
            return None
        parser = _Parser(package, len(p.pieces))
        parser.start()
        return cls(xml, p, folder, parser)

    def close(self) -> None:
        if self.parser.is_alive():
            self.parser.cancel()
        if self._switched:
            self._switched = False
            _quick_switches(False)
        self.folder.cleanup()

    def read(self, rules: Rules, budget: Callable[[], None],
             on_rows: Callable[[list[list[Any]], int, set[int]], None] | None = None,
             ) -> tuple[list[list[Any]], RawScan] | None:
        """See :func:`read_pieces`."""
        try:
            return self._read(rules, budget, on_rows)
        finally:
            self.close()

    def _read(self, rules: Rules, budget: Callable[[], None],
              on_rows: Callable[[list[list[Any]], int, set[int]], None] | None,
              ) -> tuple[list[list[Any]], RawScan] | None:
        p, parser = self.p, self.parser
        mv = memoryview(self.xml)
        scans: list[RawScan] = []
        grid = _Grid(on_rows)
        try:
            for i, (a, b) in enumerate(p.pieces):
                piece = bytes(mv[a:b] if i < len(p.pieces) - 1 else mv[a:])  # the last one with the sheet's tail
                if not (plain_markup(piece) and within_fast_limits(piece, rules)):
                    raise _Unsafe
                parser.allowed[i].set()
                scans.append(scan_sheet_xml(piece, b""))
                grid.hidden.update(scans[-1].hidden_rows)
                del piece
                budget()
                if i:
                    grid.add(parser, i - 1)
            grid.add(parser, len(p.pieces) - 1)
        except _Unsafe:
            parser.cancel()
            return None
        except BaseException:
            parser.cancel()
            raise
        parser.join()
        return grid.finish(), _join_scans(scans)


class _Grid:
    """The pieces' rows joined into one grid from A1, as calamine gives the whole sheet."""

    def __init__(self, on_rows: Callable[[list[list[Any]], int, set[int]], None] | None) -> None:
        self.rows: list[list[Any]] = []
        self.hidden: set[int] = set()
        self.first = True
        self.width = 0
        self.on_rows = on_rows

    def add(self, parser: _Parser, i: int) -> None:
        parser.done[i].wait()
        if parser.error is not None or parser.sheets[i] is None:
            raise _Unsafe
        sheet = parser.sheets[i]
        parser.sheets[i] = None
        start = len(self.rows)
        if self.first:
            self.first = False
            self.rows = sheet.to_python(skip_empty_area=False)
            self.width = max(map(len, self.rows), default=0)
        else:
            at = sheet.start
            if at is None or not sheet.height:
                return  # a piece of empty rows
            r0, c0 = at
            if r0 < start:
                raise _Unsafe  # rows out of order: the whole sheet is read instead
            got = sheet.to_python(skip_empty_area=True)
            if c0:
                pad = [""] * c0
                got = [pad + r for r in got]
            width = max(map(len, got), default=0)
            if width < self.width:  # as wide as the grid so far (the header row's cells are in the first piece)
                fill = [""] * (self.width - width)
                for r in got:
                    r.extend(fill)
            self.width = max(self.width, width)
            self.rows.extend([[""] * self.width for _ in range(r0 - start)])
            self.rows.extend(got)
        if self.on_rows is not None:
            self.on_rows(self.rows, start, self.hidden)

    def finish(self) -> list[list[Any]]:
        for r in self.rows:
            if len(r) < self.width:
                r.extend([""] * (self.width - len(r)))
        return self.rows


def _join_scans(scans: list[RawScan]) -> RawScan:
    out = RawScan()
    for s in scans:
        out.formulas_without_value.update(s.formulas_without_value)
        out.formulas |= s.formulas
        out.formulas_cached |= s.formulas_cached
        out.errors.update(s.errors)
        out.hidden_rows.extend(s.hidden_rows)
        out.merged.extend(s.merged)
        out.autofilter = out.autofilter or s.autofilter
    return out
