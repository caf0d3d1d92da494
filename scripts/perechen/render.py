"""Stage 3: the files `perechen check` writes into its report folder besides report.json.

* ``замечания-<книга>.xlsx`` — the clerk's own workbook (the private copy's bytes, never the master) with
  every cell that has a finding filled (red — error, yellow — warning, light blue — info) and carrying a
  comment, plus a first sheet «Замечания» listing every finding with a hyperlink to its cell.
* ``report.html`` — a self-contained page in Russian: summary counts, findings by responsible person and
  by rule.

The annotated copy is made by patching the copied zip, not by loading and saving it with openpyxl, which
would drop x14 drop-down lists, sparklines, form controls and more (see shared/notes/excel-pitfalls.md).
Only these parts change: the sheets that get fills (only the ``<row>`` elements that hold flagged cells,
found by binary search over the sheet's bytes; everything else is copied through), ``xl/styles.xml``
(appended fills and cell formats), comments + VML drawing parts and relationships of those sheets,
``xl/workbook.xml`` (+ rels), ``[Content_Types].xml`` and ``docProps/app.xml``; the new sheet is added;
``xl/calcChain.xml`` is dropped (a cache Excel rebuilds). Unchanged zip members are copied as their
compressed bytes.

XML is touched by string surgery on bytes that were checked first (no DTD, no entity declarations; the
small parts are also parsed with defusedxml to prove they are well-formed); everything written is escaped
and every text cell of the new sheet is an inline string, so text starting with "=" stays text.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import re
import struct
import time
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape as _sax_escape

from . import annotate_ods
from .cells import CELL_REF, col_letter, parse_ref, quote_sheet
from .fsutil import atomic_write
from .jinja import TemplateSet, get_template
from .models import SEVERITY_ORDER, CodedError, Finding, Register, Severity
from .report import CheckReport
from .rules import Rules
from .text import plural

Progress = Callable[[str, int, int], None]

FINDINGS_SHEET = "Замечания"
RESPONSIBLE_FIELD = "responsible"
ANNOTATED_PREFIX = "замечания-"
HTML_NAME = "report.html"
#: How many findings the HTML page lists per group, and how many groups per section.
HTML_GROUP_LIMIT = 50
HTML_MAX_GROUPS = 100
HTML_VALUE_CHARS = 300

# ARGB fills of flagged cells.
FILL_RGB = {Severity.ERROR: "FFFF9C9C", Severity.WARNING: "FFFFEB84", Severity.INFO: "FFBDD7EE"}
HEADER_RGB = "FFD9D9D9"
LINK_RGB = "FF0563C1"
EXCEL_TEXT_LIMIT = 32_767
MAX_LIST_ROWS = 1_048_575  # data rows of an Excel sheet below the header

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT_WORKSHEET = NS_R + "/worksheet"
RT_COMMENTS = NS_R + "/comments"
RT_VML = NS_R + "/vmlDrawing"
RT_STYLES = NS_R + "/styles"
RT_CALC_CHAIN = NS_R + "/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_MACRO_WB = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


# ==================================================================================================
# Entry point
# ==================================================================================================

def write_check_reports(report: CheckReport, rules: Rules, out: Path, *, progress: Progress | None = None) -> None:
    """Write the annotated workbook copy and the HTML page into ``out``; record them in ``report.files``.

    The copy's parts are compressed in worker threads while the HTML page is rendered.
    """
    reg = report.register
    notes: list[str] = []
    xlsx_path: Path | None = None
    finish: Callable[[], bytes] | None = None
    responsible = _Responsible(reg, report.findings)
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        if reg is not None and reg.data:
            if progress:
                progress("Книга с замечаниями", 0, 2)
            try:
                if annotate_ods.is_ods(reg.data):  # an OpenDocument register gets an .ods copy
                    ods_copy, notes = annotate_ods.annotate(
                        reg.data, report.findings, sheet=reg.sheet, comment_text=_comment_text,
                        responsible=responsible.of, value_text=_finding_value)
                    finish = lambda: ods_copy  # noqa: E731
                else:
                    pkg, notes = _prepare_annotation(reg.data, report.findings, register=reg, pool=pool,
                                                     responsible=responsible)
                    finish = pkg.start_output()
            except (AnnotateError, annotate_ods.OdsAnnotateError) as e:
                notes = [f"Книга с замечаниями не создана: {e}."]
            except Exception as e:  # a bug must not cost the clerk the rest of the report
                notes = [f"Книга с замечаниями не создана из-за внутренней ошибки ({type(e).__name__}: {e})."]
            else:
                xlsx_path = out / annotated_name(reg.path, reg.data)
            if progress:
                progress("Книга с замечаниями", 1, 2)
        page = render_html(report, rules, xlsx_name=xlsx_path.name if xlsx_path else None, notes=notes,
                           responsible=responsible)
        if finish is not None and xlsx_path is not None:
            try:
                data = finish()
            except AnnotateError as e:
                notes.append(f"Книга с замечаниями не создана: {e}.")
                page = render_html(report, rules, xlsx_name=None, notes=notes, responsible=responsible)
            else:
                report.files["xlsx"] = atomic_write(xlsx_path, data)
            if progress:
                progress("Книга с замечаниями", 2, 2)
    report.files["html"] = atomic_write(out / HTML_NAME, page)


def annotated_name(workbook: Path, data: bytes | None = None) -> str:
    """``замечания-<stem>.xlsx`` (``.xlsm`` when the workbook carries macros, so Excel opens it)."""
    suffix = ".xlsx"
    if annotate_ods.is_ods(data):
        suffix = ".ods"
    elif data is not None and CT_MACRO_WB.encode() in _content_types_head(data):
        suffix = ".xlsm"
    stem = workbook.stem or "книга"
    return f"{ANNOTATED_PREFIX}{stem}{suffix}"


def _content_types_head(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read("[Content_Types].xml")[:200_000]
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError):
        return b""


# ==================================================================================================
# Text helpers
# ==================================================================================================

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BAD_CHARS = re.compile("[\ufffe\uffff\ud800-\udfff]")
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


_NEEDS_ESCAPE = re.compile("[&<>\"\r_\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(s: str, limit: int = EXCEL_TEXT_LIMIT) -> str:
    """Escape ``s`` for an OOXML string (element text or attribute value).

    ``_xHHHH_`` sequences are Excel's own escapes, so a literal one is protected as ``_x005F_xHHHH_``;
    control characters XML cannot hold are written as ``_xHHHH_``; the result is XML-escaped.
    """
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    if _NEEDS_ESCAPE.search(s) is None:
        return s
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _OOXML_ESCAPE.sub(r"_x005F_\1", s)
    s = _ILLEGAL_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    s = _BAD_CHARS.sub("\ufffd", s)
    return _sax_escape(s, {'"': "&quot;"})


def shown_value(value: Any) -> str:
    """A finding's value as a clerk would read it."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M") if (value.hour or value.minute) else value.strftime("%d.%m.%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "; ".join(shown_value(v) for v in value)
    return str(value)


def worst(findings: Iterable[Finding]) -> Severity:
    return min((f.severity for f in findings), key=lambda s: SEVERITY_ORDER[s])


class _Responsible:
    """Who answers for a finding: the «Ответственный» of its row, for rows of the register sheet only."""

    def __init__(self, register: Register | None, findings: Iterable[Finding]) -> None:
        self.sheet = register.sheet if register is not None else None
        wanted = {f.row for f in findings if f.row and self._on_register(f)}
        self.by_row: dict[int, str] = {}
        if register is not None and wanted:
            for r in register.rows:
                if r.number in wanted:
                    self.by_row[r.number] = r.text(RESPONSIBLE_FIELD)

    def _on_register(self, f: Finding) -> bool:
        return f.sheet is None or f.sheet == self.sheet

    def of(self, f: Finding) -> str:
        if not f.row or not self._on_register(f):
            return ""
        return self.by_row.get(f.row, "")


def _finding_value(f: Finding) -> str:
    return shown_value(f.value)


# ==================================================================================================
# The annotated copy
# ==================================================================================================

class AnnotateError(CodedError):
    """The workbook's package cannot be patched (the message is Russian, for the report)."""

    default_code = "annotate_failed"


class _SheetSkip(Exception):
    """This sheet cannot be painted; its findings are still listed on «Замечания»."""


def annotate_workbook(data: bytes, findings: Sequence[Finding], *, register: Register | None = None
                      ) -> tuple[bytes, list[str]]:
    """Return the annotated copy's bytes and notes about anything that could not be annotated.

    Raises :class:`AnnotateError` when the package itself cannot be patched.
    """
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        pkg, notes = _prepare_annotation(data, findings, register=register, pool=pool)
        return pkg.start_output()(), notes


def _prepare_annotation(data: bytes, findings: Sequence[Finding], *, register: Register | None,
                        pool: Executor | None, responsible: _Responsible | None = None
                        ) -> tuple[_Package, list[str]]:
    pkg = _Package(data, pool)
    book = _Book(pkg)
    styles = _Styles(pkg, book)
    notes: list[str] = []
    default_sheet = register.sheet if register is not None else None
    responsible = responsible or _Responsible(register, findings)

    # Cells to paint, per sheet.
    per_sheet: dict[str, dict[tuple[int, int], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        pos = parse_ref(f.cell)
        if pos is None:
            continue
        sheet = f.sheet or default_sheet
        if sheet is None:
            continue
        per_sheet[sheet][pos].append(f)
    refs = {name: book.sheet_by_name(name) for name in per_sheet}
    pkg.prefetch(ref.part for ref in refs.values() if ref is not None)  # inflating while the list is built
    _add_findings_sheet(pkg, book, styles, findings, default_sheet, responsible)
    for sheet_name, cells in per_sheet.items():
        ref = refs[sheet_name]
        if ref is None:
            notes.append(f"Лист «{sheet_name}» не найден в книге: ячейки не отмечены.")
            continue
        try:
            _annotate_sheet(pkg, book, styles, ref, cells)
        except (_SheetSkip, AnnotateError) as e:
            notes.append(f"Лист «{sheet_name}»: ячейки не отмечены ({e}); замечания есть на листе "
                         f"«{FINDINGS_SHEET}».")
    styles.save()
    book.save()
    return pkg, notes


# --------------------------------------------------------------------------------------------------
# The zip package
# --------------------------------------------------------------------------------------------------

_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _check_xml_bytes(name: str, data: bytes) -> None:
    """Refuse a DTD (and with it entity declarations): it can only stand in the prolog, before the root."""
    m = _ROOT_START.search(data)
    prolog_end = m.start() if m else len(data)
    if data.find(b"<!DOCTYPE", 0, prolog_end) >= 0 or data.find(b"<!ENTITY", 0, prolog_end) >= 0:
        raise AnnotateError(f"часть {name} содержит объявление DTD")


def _parse_small(name: str, data: bytes) -> Any:
    """Parse a small part with defusedxml (proves it is well-formed; refuses DTDs and entities)."""
    from defusedxml import ElementTree as DET

    _check_xml_bytes(name, data)
    try:
        return DET.fromstring(data, forbid_dtd=True)
    except Exception as e:  # ParseError, DefusedXmlException
        raise AnnotateError(f"часть {name} повреждена ({e})") from None


BIG_PART = 4_000_000  # bytes: deflate level 1 and in parallel chunks above this
CHUNK = 4 << 20


def _workers() -> int:
    return max(2, min(8, os.cpu_count() or 2))


def _deflate_chunk(data: memoryview | bytes, zdict: bytes, level: int, last: bool) -> bytes:
    co = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=zdict) if zdict else zlib.compressobj(level, zlib.DEFLATED,
                                                                                                  -15)
    return co.compress(data) + co.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _deflate_start(data: bytes, pool: Executor | None) -> Callable[[], tuple[bytes, int]]:
    """Start compressing ``data`` (raw deflate); the returned function gives (compressed, crc32).

    A big part is cut into chunks compressed in parallel, each primed with the 32 KiB before it and
    ended with a sync flush, so the pieces join into one valid deflate stream (as pigz does).
    """
    level = 1 if len(data) > BIG_PART else 6
    if pool is None or len(data) <= 2 * CHUNK:
        raw = _deflate_chunk(data, b"", level, True)
        crc = zlib.crc32(data)
        return lambda: (raw, crc)
    view = memoryview(data)
    bounds = list(range(0, len(data), CHUNK))
    futures = [pool.submit(_deflate_chunk, view[s:s + CHUNK], bytes(view[max(0, s - 32768):s]), level,
                           s + CHUNK >= len(data)) for s in bounds]
    crc_f = pool.submit(zlib.crc32, data)
    return lambda: (b"".join(f.result() for f in futures), crc_f.result())


@dataclass
class _ZipEntry:
    name: str
    method: int
    crc: int
    size: int
    date_time: tuple[int, ...]
    raw: bytes


class _Package:
    """The copied zip: unchanged members are copied as their compressed bytes, changed ones recompressed."""

    def __init__(self, data: bytes, pool: Executor | None = None) -> None:
        self.src = data
        self.pool = pool
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
            raise AnnotateError(f"архив книги не открывается ({e})") from None
        self.infos = self.zf.infolist()
        self.names = {i.filename for i in self.infos}
        self.changed: dict[str, bytes] = {}
        self.added: list[str] = []
        self.removed: set[str] = set()
        self._prefetched: dict[str, Future[bytes]] = {}

    def has(self, name: str) -> bool:
        return (name in self.names or name in self.changed) and name not in self.removed

    def prefetch(self, names: Iterable[str]) -> None:
        """Start inflating parts in the pool (zlib releases the GIL) while other work goes on."""
        if self.pool is None:
            return
        for name in names:
            if name in self.names and name not in self.changed and name not in self._prefetched:
                self._prefetched[name] = self.pool.submit(self._inflate, name)

    def _inflate(self, name: str) -> bytes:
        info = self.zf.NameToInfo.get(name)
        if info is None:
            raise AnnotateError(f"в архиве нет части {name}")
        if info.flag_bits & 0x1:
            raise AnnotateError(f"часть {name} зашифрована")
        raw = self._raw(info)
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            try:
                d = zlib.decompressobj(-15)
                data = d.decompress(raw, info.file_size + 1)
            except zlib.error as e:
                raise AnnotateError(f"часть {name} не распаковывается ({e})") from None
        else:
            try:
                data = self.zf.read(name)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
                raise AnnotateError(f"часть {name} не распаковывается ({e})") from None
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise AnnotateError(f"часть {name} повреждена (не сходится размер или контрольная сумма)")
        return data

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        fut = self._prefetched.pop(name, None)
        data = fut.result() if fut is not None else self._inflate(name)
        if name.endswith((".xml", ".rels", ".vml")):
            _check_xml_bytes(name, data)
        return data

    def write(self, name: str, data: bytes) -> None:
        if name not in self.names and name not in self.changed:
            self.added.append(name)
        self.changed[name] = data
        self.removed.discard(name)

    def remove(self, name: str) -> None:
        self.removed.add(name)
        self.changed.pop(name, None)

    def unique_name(self, pattern: str) -> str:
        """First free name for ``pattern`` (with one ``{}`` for a number), case-insensitively."""
        taken = {n.lower() for n in self.names | set(self.changed)}
        for i in range(1, 100_000):
            name = pattern.format(i)
            if name.lower() not in taken:
                return name
        raise AnnotateError("не найдено свободное имя части")  # pragma: no cover

    # -- writing ---------------------------------------------------------------------------------
    def _raw(self, info: zipfile.ZipInfo) -> bytes:
        off = info.header_offset
        head = self.src[off:off + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise AnnotateError(f"повреждён заголовок части {info.filename}")
        n, e = struct.unpack("<HH", head[26:30])
        start = off + 30 + n + e
        raw = self.src[start:start + info.compress_size]
        if len(raw) != info.compress_size:
            raise AnnotateError(f"часть {info.filename} обрезана")
        return raw

    def start_output(self) -> Callable[[], bytes]:
        """Start compressing the changed parts; the returned function assembles the zip."""
        order = [i.filename for i in self.infos if i.filename not in self.removed] + self.added
        pending: dict[str, Callable[[], tuple[bytes, int]]] = {}
        for name in order:
            info = self.zf.NameToInfo.get(name)
            if name in self.changed or info is None:
                pending[name] = _deflate_start(self.changed[name], self.pool)
            elif info.flag_bits & 0x1:
                raise AnnotateError(f"часть {name} зашифрована")
            elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                pending[name] = _deflate_start(self.read(name), self.pool)
        now = time.localtime()[:6]

        def finish() -> bytes:
            entries: list[_ZipEntry] = []
            for name in order:
                info = self.zf.NameToInfo.get(name)
                if name in pending:
                    raw, crc = pending[name]()
                    size = len(self.changed[name]) if name in self.changed else (info.file_size if info else 0)
                    entries.append(_ZipEntry(name, zipfile.ZIP_DEFLATED, crc, size,
                                             tuple(info.date_time if info is not None else now), raw))
                else:
                    assert info is not None
                    entries.append(_ZipEntry(name, info.compress_type, info.CRC, info.file_size,
                                             tuple(info.date_time), self._raw(info)))
            return _zip_bytes(entries)

        return finish

    def to_bytes(self) -> bytes:
        return self.start_output()()


def _zip_bytes(entries: list[_ZipEntry]) -> bytes:
    """A plain zip (no zip64: refused above 4 GB / 65,535 members, which no register reaches)."""
    total = sum(len(e.raw) + 100 + 2 * len(e.name.encode()) for e in entries)
    if total >= 0xFFFF_FFFF or len(entries) >= 0xFFFF or any(e.size >= 0xFFFF_FFFF for e in entries):
        raise AnnotateError("книга слишком велика для копии с замечаниями (больше 4 ГБ)")
    buf = io.BytesIO()
    central: list[bytes] = []
    for e in entries:
        bname = e.name.encode("utf-8")
        flags = 0 if e.name.isascii() else 0x800
        y, mo, d, h, mi, sec = e.date_time[:6]
        dosdate = (max(0, y - 1980) << 9) | (mo << 5) | d
        dostime = (h << 11) | (mi << 5) | (sec // 2)
        offset = buf.tell()
        buf.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, e.method, dostime, dosdate,
                              e.crc, len(e.raw), e.size, len(bname), 0))
        buf.write(bname)
        buf.write(e.raw)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, e.method, dostime,
                                   dosdate, e.crc, len(e.raw), e.size, len(bname), 0, 0, 0, 0, 0, offset) + bname)
    cd_offset = buf.tell()
    for c in central:
        buf.write(c)
    cd_size = buf.tell() - cd_offset
    buf.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), cd_size, cd_offset, 0))
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Tag-level helpers for string surgery
# --------------------------------------------------------------------------------------------------

_TAG = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>"
                  rb"|<(/?)([A-Za-z_][\w.:-]*)((?:[^\"'>]|\"[^\"]*\"|'[^']*')*?)(/?)>", re.S)
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")


def _local(name: bytes) -> bytes:
    return name.rsplit(b":", 1)[-1]


@dataclass
class _Elem:
    name: bytes  # local name
    start: int
    end: int  # after the end tag (or the self-closing tag)
    tag_end: int  # after the start tag
    content_end: int = -1  # at the end tag (== tag_end when self-closing)

    @property
    def empty(self) -> bool:
        return self.content_end <= self.tag_end


def _children(xml: bytes, start: int, end: int) -> list[_Elem]:
    """Direct children of the element whose content spans [start, end)."""
    out: list[_Elem] = []
    depth = 0
    cur: _Elem | None = None
    for m in _TAG.finditer(xml, start, end):
        name = m.group(2)
        if name is None:
            continue
        if m.group(1):
            depth -= 1
            if depth == 0 and cur is not None:
                cur.end = m.end()
                cur.content_end = m.start()
                out.append(cur)
                cur = None
            if depth < 0:
                raise AnnotateError("нарушена вложенность элементов XML")
            continue
        if m.group(4):
            if depth == 0:
                out.append(_Elem(_local(name), m.start(), m.end(), m.end(), m.end()))
            continue
        if depth == 0:
            cur = _Elem(_local(name), m.start(), -1, m.end())
        depth += 1
    if depth != 0:
        raise AnnotateError("нарушена вложенность элементов XML")
    return out


@dataclass
class _Root:
    prefix: bytes  # b"" or b"x:"
    name: bytes
    content_start: int  # after the root start tag
    content_end: int  # at the root end tag
    start_tag: tuple[int, int]


def _root(xml: bytes, part: str) -> _Root:
    for m in _TAG.finditer(xml):
        name = m.group(2)
        if name is None:
            continue
        if m.group(1) or m.group(4):
            raise AnnotateError(f"часть {part}: пустой корневой элемент")
        prefix = name[: name.rfind(b":") + 1]
        close = b"</" + name + b">"
        ce = xml.rfind(close)
        if ce < m.end():
            raise AnnotateError(f"часть {part}: нет закрывающего тега")
        return _Root(prefix, _local(name), m.end(), ce, (m.start(), m.end()))
    raise AnnotateError(f"часть {part}: нет корневого элемента")


_ATTR_CACHE: dict[bytes, re.Pattern[bytes]] = {}


def _attr_re(name: bytes) -> re.Pattern[bytes]:
    p = _ATTR_CACHE.get(name)
    if p is None:
        p = re.compile(rb"\s" + re.escape(name) + rb"\s*=\s*(\"[^\"]*\"|'[^']*')")
        _ATTR_CACHE[name] = p
    return p


def _get_attr(tag: bytes, name: bytes) -> bytes | None:
    m = _attr_re(name).search(tag)
    return m.group(1)[1:-1] if m else None


def _set_attr(tag: bytes, name: bytes, value: bytes) -> bytes:
    """Set an attribute in a start tag (``<x a="1">`` or ``<x/>``)."""
    m = _attr_re(name).search(tag)
    if m:
        return tag[: m.start()] + b" " + name + b'="' + value + b'"' + tag[m.end():]
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    while end > 0 and tag[end - 1:end] in (b" ", b"\t", b"\n", b"\r"):
        end -= 1
    return tag[:end] + b" " + name + b'="' + value + b'"' + tag[end:].lstrip()


def _del_attr(tag: bytes, name: bytes) -> bytes:
    m = _attr_re(name).search(tag)
    return tag[: m.start()] + tag[m.end():] if m else tag


def _apply_edits(xml: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    if not edits:
        return xml
    edits.sort(key=lambda e: (e[0], e[1]))
    view = memoryview(xml)
    parts: list[bytes | memoryview] = []
    pos = 0
    for s, e, rep in edits:
        if s < pos:
            raise AnnotateError("пересекающиеся правки XML")
        parts.append(view[pos:s])
        parts.append(rep)
        pos = e
    parts.append(view[pos:])
    return b"".join(parts)


def _rels_name(part: str) -> str:
    d, n = posixpath.split(part)
    return posixpath.join(d, "_rels", n + ".rels")


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _relative(from_part: str, to_part: str) -> str:
    return posixpath.relpath(to_part, posixpath.dirname(from_part) or ".")


def _x(s: str) -> bytes:
    return xml_text(s).encode("utf-8")


# --------------------------------------------------------------------------------------------------
# Relationships and content types
# --------------------------------------------------------------------------------------------------

@dataclass
class _Rel:
    id: str
    type: str
    target: str  # resolved part name ("" for external)


class _Rels:
    """A .rels part: read, add relationships, remove some."""

    def __init__(self, pkg: _Package, source_part: str) -> None:
        self.pkg = pkg
        self.source = source_part
        self.name = _rels_name(source_part)
        self.rels: list[_Rel] = []
        self.xml: bytes | None = None
        self.dirty = False
        if pkg.has(self.name):
            self.xml = pkg.read(self.name)
            root = _parse_small(self.name, self.xml)
            for el in root:
                if el.tag.rsplit("}", 1)[-1] != "Relationship":
                    continue
                rid, typ, tgt = el.get("Id") or "", el.get("Type") or "", el.get("Target") or ""
                external = (el.get("TargetMode") or "") == "External"
                self.rels.append(_Rel(rid, typ, "" if external else _resolve(source_part, tgt)))
        self.original = list(self.rels)
        self.new: list[bytes] = []
        self.drop: set[str] = set()

    def by_type(self, typ: str) -> list[_Rel]:
        return [r for r in self.rels if r.type == typ and r.id not in self.drop]

    def by_id(self, rid: str) -> _Rel | None:
        return next((r for r in self.rels if r.id == rid), None)

    def add(self, typ: str, part: str) -> str:
        ids = {r.id for r in self.rels}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rid = f"rId{n}"
        self.rels.append(_Rel(rid, typ, part))
        target = _relative(self.source, part)
        self.new.append(b'<Relationship Id="' + _x(rid) + b'" Type="' + _x(typ) + b'" Target="'
                        + _x(target) + b'"/>')
        self.dirty = True
        return rid

    def remove(self, rid: str) -> None:
        self.drop.add(rid)
        self.dirty = True

    def render(self) -> bytes | None:
        """The new bytes of the .rels part (None when nothing changed)."""
        if not self.dirty:
            return None
        if self.xml is None or not self.original:  # none, or an empty <Relationships/>: write it afresh
            xml = XML_DECL + b'<Relationships xmlns="' + NS_PKG_REL.encode() + b'"></Relationships>'
        else:
            xml = self.xml
        root = _root(xml, self.name)
        p = root.prefix
        edits: list[tuple[int, int, bytes]] = []
        for ch in _children(xml, root.content_start, root.content_end):
            tag = xml[ch.start:ch.tag_end]
            rid = _get_attr(tag, b"Id")
            if rid is not None and rid.decode("utf-8", "replace") in self.drop:
                edits.append((ch.start, ch.end, b""))
        ins = b"".join(x.replace(b"<Relationship ", b"<" + p + b"Relationship ", 1) for x in self.new)
        edits.append((root.content_end, root.content_end, ins))
        return _apply_edits(xml, edits)

    def save(self) -> None:
        data = self.render()
        if data is not None:
            self.pkg.write(self.name, data)


class _ContentTypes:
    NAME = "[Content_Types].xml"

    def __init__(self, pkg: _Package) -> None:
        self.pkg = pkg
        self.xml = pkg.read(self.NAME)
        root = _parse_small(self.NAME, self.xml)
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        for el in root:
            local = el.tag.rsplit("}", 1)[-1]
            if local == "Default":
                self.defaults[(el.get("Extension") or "").lower()] = el.get("ContentType") or ""
            elif local == "Override":
                self.overrides[(el.get("PartName") or "").lstrip("/")] = el.get("ContentType") or ""
        self.new: list[bytes] = []
        self.drop: set[str] = set()

    def type_of(self, part: str) -> str:
        if part in self.overrides:
            return self.overrides[part]
        ext = part.rsplit(".", 1)[-1].lower() if "." in part else ""
        return self.defaults.get(ext, "")

    def override(self, part: str, ctype: str) -> None:
        if self.overrides.get(part) == ctype:
            return
        if part in self.overrides:
            self.drop.add(part)
        self.overrides[part] = ctype
        self.new.append(b'<Override PartName="/' + _x(part) + b'" ContentType="' + _x(ctype) + b'"/>')

    def default(self, ext: str, ctype: str) -> None:
        if ext.lower() in self.defaults:
            return
        self.defaults[ext.lower()] = ctype
        self.new.insert(0, b'<Default Extension="' + _x(ext) + b'" ContentType="' + _x(ctype) + b'"/>')

    def remove(self, part: str) -> None:
        if part in self.overrides:
            self.drop.add(part)
            del self.overrides[part]

    def save(self) -> None:
        xml = self.xml
        root = _root(xml, self.NAME)
        p = root.prefix
        edits: list[tuple[int, int, bytes]] = []
        for ch in _children(xml, root.content_start, root.content_end):
            if ch.name != b"Override":
                continue
            pn = _get_attr(xml[ch.start:ch.tag_end], b"PartName")
            if pn is not None and pn.decode("utf-8", "replace").lstrip("/") in self.drop:
                edits.append((ch.start, ch.end, b""))
        ins = b"".join(x.replace(b"<", b"<" + p, 1) for x in self.new)
        edits.append((root.content_end, root.content_end, ins))
        self.pkg.write(self.NAME, _apply_edits(xml, edits))


# --------------------------------------------------------------------------------------------------
# The workbook part
# --------------------------------------------------------------------------------------------------

@dataclass
class _SheetRef:
    name: str
    part: str
    rid: str
    worksheet: bool


class _Book:
    def __init__(self, pkg: _Package) -> None:
        self.pkg = pkg
        root_rels = _Rels(pkg, "")  # _rels/.rels
        self.ct = _ContentTypes(pkg)
        main = "xl/workbook.xml"
        for r in root_rels.rels:
            if r.type.endswith("/officeDocument") and r.target:
                main = r.target
        self.part = main
        self.xml = pkg.read(main)
        root_el = _parse_small(main, self.xml)
        if root_el.tag.startswith("{" + NS_STRICT):
            raise AnnotateError("книга сохранена в формате Strict Open XML")
        if not root_el.tag.startswith("{" + NS_MAIN):
            raise AnnotateError("неизвестный формат xl/workbook.xml")
        self.rels = _Rels(pkg, main)
        self.sheets: list[_SheetRef] = []
        for el in root_el.iter(f"{{{NS_MAIN}}}sheet"):
            rid = el.get(f"{{{NS_R}}}id") or ""
            rel = self.rels.by_id(rid)
            part = rel.target if rel else ""
            self.sheets.append(_SheetRef(el.get("name") or "", part, rid,
                                         rel is not None and rel.type == RT_WORKSHEET))
        self.new_sheet: tuple[str, str] | None = None  # (name, part)
        self.new_filter: str | None = None

    def sheet_by_name(self, name: str) -> _SheetRef | None:
        for s in self.sheets:
            if s.name == name and s.worksheet and s.part and self.pkg.has(s.part):
                return s
        low = name.casefold()
        for s in self.sheets:
            if s.name.casefold() == low and s.worksheet and s.part and self.pkg.has(s.part):
                return s
        return None

    def free_sheet_name(self, wanted: str) -> str:
        taken = {s.name.casefold() for s in self.sheets}
        if wanted.casefold() not in taken:
            return wanted
        for i in range(2, 1000):
            cand = f"{wanted} ({i})"
            if cand.casefold() not in taken:
                return cand
        raise AnnotateError("нет свободного имени для листа замечаний")  # pragma: no cover

    def vml_blocks_in_use(self) -> int:
        """Highest VML shape-id block used by any drawing in the package."""
        top = 0
        for name in self.pkg.names | set(self.pkg.changed):
            if name.lower().endswith(".vml") and not name.startswith("["):
                try:
                    text = self.pkg.read(name)
                except AnnotateError:
                    continue
                for m in re.finditer(rb"idmap\b[^>]*\bdata\s*=\s*[\"']([\d,\s]+)[\"']", text):
                    for b in m.group(1).split(b","):
                        if b.strip().isdigit():
                            top = max(top, int(b))
                for m in re.finditer(rb"_x0000_s(\d+)", text):
                    top = max(top, int(m.group(1)) // 1024)
        return top

    def add_first_sheet(self, name: str, xml: bytes, filter_range: str | None) -> None:
        part = self.pkg.unique_name("xl/worksheets/sheet{}.xml")
        self.pkg.write(part, xml)
        self.ct.override(part, CT_WORKSHEET)
        rid = self.rels.add(RT_WORKSHEET, part)
        self.new_sheet = (name, rid)
        self.new_filter = filter_range

    def save(self) -> None:
        xml = self.xml
        root = _root(xml, self.part)
        p = root.prefix
        kids = _children(xml, root.content_start, root.content_end)
        edits: list[tuple[int, int, bytes]] = []
        by = {k.name: k for k in kids}
        if self.new_sheet is not None:
            name, rid = self.new_sheet
            sheets = by.get(b"sheets")
            if sheets is None or sheets.empty:
                raise AnnotateError("в xl/workbook.xml нет списка листов")
            ids = [int(v) for v in re.findall(rb"\ssheetId\s*=\s*[\"'](\d+)[\"']", xml[sheets.start:sheets.end])]
            sheet_id = max(ids, default=0) + 1
            edits.append((sheets.tag_end, sheets.tag_end,
                          b"<" + p + b'sheet xmlns:r="' + NS_R.encode() + b'" name="' + _x(name)
                          + b'" sheetId="' + str(sheet_id).encode() + b'" r:id="' + _x(rid) + b'"/>'))
            # Views: keep the clerk's active sheet active (its index moves by one).
            views = by.get(b"bookViews")
            view_list = ([v for v in _children(xml, views.tag_end, views.content_end) if v.name == b"workbookView"]
                         if views is not None and not views.empty else [])
            if views is not None and view_list:
                for v in view_list:
                    if v.name != b"workbookView":
                        continue
                    tag = xml[v.start:v.tag_end]
                    new = tag
                    at = _get_attr(tag, b"activeTab")
                    new = _set_attr(new, b"activeTab", str((int(at) if at and at.isdigit() else 0) + 1).encode())
                    fs = _get_attr(tag, b"firstSheet")
                    if fs and fs.isdigit() and int(fs) > 0:
                        new = _set_attr(new, b"firstSheet", str(int(fs) + 1).encode())
                    edits.append((v.start, v.tag_end, new))
            else:
                new_views = b"<" + p + b"bookViews><" + p + b'workbookView activeTab="1"/></' + p + b"bookViews>"
                if views is not None:
                    edits.append((views.start, views.end, new_views))
                else:
                    edits.append((sheets.start, sheets.start, new_views))
            # Defined names: sheet-local ones move by one; the new sheet's filter range.
            dn = by.get(b"definedNames")
            filt = b""
            if self.new_filter:
                filt = (b"<" + p + b'definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                        + _x(self.new_filter) + b"</" + p + b"definedName>")
            if dn is not None:
                for d in _children(xml, dn.tag_end, dn.content_end):
                    tag = xml[d.start:d.tag_end]
                    ls = _get_attr(tag, b"localSheetId")
                    if ls is not None and ls.strip().isdigit():
                        edits.append((d.start, d.tag_end,
                                      _set_attr(tag, b"localSheetId", str(int(ls) + 1).encode())))
                if filt:
                    if dn.empty:  # <definedNames/>
                        edits.append((dn.start, dn.end, b"<" + p + b"definedNames>" + filt + b"</" + p
                                      + b"definedNames>"))
                    else:
                        edits.append((dn.tag_end, dn.tag_end, filt))
            elif filt:
                after = [k for k in kids if k.name in (b"sheets", b"functionGroups", b"externalReferences")]
                where = max(k.end for k in after)
                edits.append((where, where, b"<" + p + b"definedNames>" + filt + b"</" + p + b"definedNames>"))
        self.pkg.write(self.part, _apply_edits(xml, edits))
        # calcChain refers to sheets by position in some writers; it is only a cache: drop it.
        for r in self.rels.by_type(RT_CALC_CHAIN):
            self.rels.remove(r.id)
            if r.target:
                self.pkg.remove(r.target)
                self.ct.remove(r.target)
        self.rels.save()
        self._save_app()
        self.ct.save()

    def _save_app(self) -> None:
        name = "docProps/app.xml"
        if self.new_sheet is None or not self.pkg.has(name):
            return
        try:
            xml = self.pkg.read(name)
            _parse_small(name, xml)
        except AnnotateError:
            return
        hp = re.search(rb"<(?:\w+:)?HeadingPairs>(.*?)</(?:\w+:)?HeadingPairs>", xml, re.S)
        tp = re.search(rb"<(?:\w+:)?TitlesOfParts>\s*(<(\w+:)?vector\b[^>]*>)", xml, re.S)
        if not hp or not tp:
            return
        i4 = re.search(rb"<(?:\w+:)?i4>(\d+)</(?:\w+:)?i4>", hp.group(1))
        vec_tag = tp.group(1)
        size = _get_attr(vec_tag, b"size")
        if not i4 or size is None or not size.isdigit():
            return
        vp = tp.group(2) or b""
        edits: list[tuple[int, int, bytes]] = [
            (hp.start(1) + i4.start(1), hp.start(1) + i4.end(1), str(int(i4.group(1)) + 1).encode()),
            (tp.start(1), tp.end(1), _set_attr(vec_tag, b"size", str(int(size) + 1).encode())),
            (tp.end(1), tp.end(1), b"<" + vp + b"lpstr>" + _x(self.new_sheet[0]) + b"</" + vp + b"lpstr>"),
        ]
        self.pkg.write(name, _apply_edits(xml, edits))


# --------------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------------

_MINIMAL_STYLES = (XML_DECL + b'<styleSheet xmlns="' + NS_MAIN.encode() + b'">'
                   b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
                   b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
                   b'<fill><patternFill patternType="gray125"/></fill></fills>'
                   b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                   b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                   b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
                   b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                   b"</styleSheet>")
_XF = re.compile(rb"<(?:\w+:)?xf\b(?:(?:[^\"'>]|\"[^\"]*\"|'[^']*')*?/>"
                 rb"|(?:[^\"'>]|\"[^\"]*\"|'[^']*')*>.*?</(?:\w+:)?xf>)", re.S)


class _Styles:
    """Appends fills, fonts and cell formats to xl/styles.xml."""

    def __init__(self, pkg: _Package, book: _Book) -> None:
        self.pkg = pkg
        rels = book.rels.by_type(RT_STYLES)
        if rels and rels[0].target and pkg.has(rels[0].target):
            self.part = rels[0].target
            self.xml = pkg.read(self.part)
        else:
            self.part = "xl/styles.xml" if not pkg.has("xl/styles.xml") else pkg.unique_name("xl/styles{}.xml")
            self.xml = _MINIMAL_STYLES
            pkg.write(self.part, self.xml)
            book.rels.add(RT_STYLES, self.part)
            book.ct.override(self.part, CT_STYLES)
        _parse_small(self.part, self.xml)
        root = _root(self.xml, self.part)
        self.p = root.prefix
        kids = {k.name: k for k in _children(self.xml, root.content_start, root.content_end)}
        for need in (b"fonts", b"fills", b"cellXfs"):
            if need not in kids:
                raise AnnotateError(f"в {self.part} нет раздела {need.decode()}")
        self.kids = kids
        self.n_fonts = self._count(kids[b"fonts"], b"font")
        self.n_fills = self._count(kids[b"fills"], b"fill")
        xfs = kids[b"cellXfs"]
        self.xfs = [m.group(0) for m in _XF.finditer(self.xml, xfs.tag_end, xfs.content_end)]
        self.has_style_xfs = b"cellStyleXfs" in kids
        self.new_fonts: list[bytes] = []
        self.new_fills: list[bytes] = []
        self.new_xfs: list[bytes] = []
        if self.n_fills < 2:  # fills 0 and 1 are reserved (none, gray125)
            for pattern in (b"none", b"gray125")[self.n_fills:]:
                pf = self._e(b"patternFill", b"", b' patternType="' + pattern + b'"')
                self.new_fills.append(self._e(b"fill", pf))
        self._fill_ids: dict[str, int] = {}
        self._font_ids: dict[str, int] = {}
        self._clones: dict[tuple[int, Severity], int] = {}
        self._named: dict[str, int] = {}

    def _e(self, name: bytes, content: bytes = b"", attrs: bytes = b"") -> bytes:
        p = self.p
        if not content:
            return b"<" + p + name + attrs + b"/>"
        return b"<" + p + name + attrs + b">" + content + b"</" + p + name + b">"

    def _count(self, el: _Elem, child: bytes) -> int:
        if el.empty:
            return 0
        return sum(1 for k in _children(self.xml, el.tag_end, el.content_end) if k.name == child)

    def fill(self, rgb: str) -> int:
        fid = self._fill_ids.get(rgb)
        if fid is None:
            pf = self._e(b"patternFill", self._e(b"fgColor", attrs=b' rgb="' + rgb.encode() + b'"')
                         + self._e(b"bgColor", attrs=b' indexed="64"'), b' patternType="solid"')
            self.new_fills.append(self._e(b"fill", pf))
            fid = self.n_fills + len(self.new_fills) - 1
            self._fill_ids[rgb] = fid
        return fid

    def font(self, kind: str) -> int:
        fid = self._font_ids.get(kind)
        if fid is None:
            style = self._e(b"b") if kind == "bold" else self._e(b"u")
            color = self._e(b"color", attrs=b' rgb="' + LINK_RGB.encode() + b'"') if kind == "link" else b""
            self.new_fonts.append(self._e(b"font", style + self._e(b"sz", attrs=b' val="11"') + color
                                          + self._e(b"name", attrs=b' val="Calibri"')
                                          + self._e(b"family", attrs=b' val="2"')))
            fid = self.n_fonts + len(self.new_fonts) - 1
            self._font_ids[kind] = fid
        return fid

    def _add_xf(self, xf: bytes) -> int:
        self.new_xfs.append(xf)
        return len(self.xfs) + len(self.new_xfs) - 1

    def flagged(self, base: int, sev: Severity) -> int:
        """A cell format like ``base`` but with the severity's fill."""
        key = (base, sev)
        xid = self._clones.get(key)
        if xid is not None:
            return xid
        fill = self.fill(FILL_RGB[sev])
        if 0 <= base < len(self.xfs):
            src = self.xfs[base]
        elif 0 <= base - len(self.xfs) < len(self.new_xfs):
            src = self.new_xfs[base - len(self.xfs)]
        elif self.xfs:
            src = self.xfs[0]
        else:
            src = self._e(b"xf", attrs=b' numFmtId="0" fontId="0" fillId="0" borderId="0"')
        end = src.find(b">") + 1
        tag = src[:end]
        tag = _set_attr(tag, b"fillId", str(fill).encode())
        tag = _set_attr(tag, b"applyFill", b"1")
        xid = self._add_xf(tag + src[end:])
        self._clones[key] = xid
        return xid

    def named(self, kind: str) -> int:
        """Formats of the «Замечания» sheet: header, text, link, and the severity fills."""
        xid = self._named.get(kind)
        if xid is not None:
            return xid
        font, fill, wrap, valign = 0, 0, True, b"top"
        if kind == "header":
            font, fill, valign = self.font("bold"), self.fill(HEADER_RGB), b"center"
        elif kind == "link":
            font, wrap = self.font("link"), False
        elif kind.startswith("sev-"):
            fill = self.fill(FILL_RGB[Severity(kind[4:])])
        attrs = (b' numFmtId="0" fontId="' + str(font).encode() + b'" fillId="' + str(fill).encode()
                 + b'" borderId="0"' + (b' xfId="0"' if self.has_style_xfs else b"")
                 + (b' applyFont="1"' if font else b"") + (b' applyFill="1"' if fill else b"")
                 + b' applyAlignment="1"')
        align = self._e(b"alignment", attrs=b' vertical="' + valign + b'"' + (b' wrapText="1"' if wrap else b""))
        xid = self._add_xf(self._e(b"xf", align, attrs))
        self._named[kind] = xid
        return xid

    def save(self) -> None:
        if not (self.new_fills or self.new_fonts or self.new_xfs):
            return
        xml = self.xml
        edits: list[tuple[int, int, bytes]] = []
        for name, new, count in ((b"fonts", self.new_fonts, self.n_fonts),
                                 (b"fills", self.new_fills, self.n_fills),
                                 (b"cellXfs", self.new_xfs, len(self.xfs))):
            if not new:
                continue
            el = self.kids[name]
            tag = xml[el.start:el.tag_end]
            total = str(count + len(new)).encode()
            if el.empty:  # self-closing
                open_tag = _set_attr(tag, b"count", total)
                open_tag = open_tag[:-2].rstrip() + b">"
                edits.append((el.start, el.end, open_tag + b"".join(new) + b"</" + self.p + name + b">"))
            else:
                edits.append((el.start, el.tag_end, _set_attr(tag, b"count", total)))
                close = el.content_end
                edits.append((close, close, b"".join(new)))
        self.pkg.write(self.part, _apply_edits(xml, edits))


# --------------------------------------------------------------------------------------------------
# Painting a sheet
# --------------------------------------------------------------------------------------------------

_R_ATTR = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_CELL_R = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?(\d+)[\"']")
_S_ATTR = re.compile(rb"\ss\s*=\s*[\"'](\d+)[\"']")
_WS = (b" ", b"\t", b"\n", b"\r", b">", b"/")


class _RowsUnsorted(Exception):
    pass


class _SheetXml:
    """Row-level surgery on one worksheet's XML; everything outside the touched rows is copied as is."""

    def __init__(self, xml: bytes, part: str) -> None:
        self.xml = xml
        self.part = part
        root = _root(xml, part)
        if root.name != b"worksheet":
            raise _SheetSkip("это не лист с ячейками")
        self.p = root.prefix
        self.root = root
        p = self.p
        m = re.compile(rb"<" + re.escape(p) + rb"sheetData(?=[\s/>])").search(xml, root.content_start)
        if m is None:
            raise _SheetSkip("нет раздела sheetData")
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
                raise _SheetSkip("раздел sheetData не закрыт")
            self.sd_content_end = ce
            self.sd_end = ce + len(close)
        if xml.find(b"<!", self.sd_open_end, self.sd_content_end) >= 0:  # CDATA or an XML comment
            raise _SheetSkip("в данных листа есть CDATA или комментарии XML")
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
            mn, mx, st = _get_attr(tag, b"min"), _get_attr(tag, b"max"), _get_attr(tag, b"style")
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
                raise _SheetSkip("строки листа записаны без номеров или не по порядку") from None
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
            found.append((cs, cgt + 1, _set_attr(ctag, b"s", str(style(int(sm.group(1)) if sm else 0, sev)).encode())))
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
                raise _SheetSkip(f"строка {rn} не закрыта")
            content_start, content_end, row_end = gt + 1, ce, ce + len(close)
        content = xml[content_start:content_end]
        fast = self._patch_cells_fast(content, rn, targets, style)
        if fast is not None:
            self.edits.append((pos, row_end, open_tag + fast + b"</" + p + b"row>"))
            return row_end
        row_style = 0
        if (_get_attr(open_tag, b"customFormat") or b"") in (b"1", b"true"):
            st = _get_attr(open_tag, b"s")
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
                new_tag = _set_attr(ctag, b"s", str(style(base, sev)).encode())
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
            open_tag = _del_attr(open_tag, b"spans")
        self.edits.append((pos, row_end, open_tag + b"".join(pieces) + b"</" + p + b"row>"))
        return row_end

    # -- the rest of the sheet ------------------------------------------------------------------------
    def tail(self) -> list[_Elem]:
        return _children(self.xml, self.sd_end, self.root.content_end)

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
                           + _x(rid) + b'"/>'))

    def fix_dimension(self) -> None:
        """Grow ``<dimension ref>`` to cover every painted cell (openpyxl's read-only mode trusts it)."""
        if self.max_col < 0:
            return
        m = re.compile(rb"<" + re.escape(self.p) + rb"dimension\b[^>]*>").search(self.xml, self.root.content_start,
                                                                                  self.sd_start)
        if not m:
            return
        tag = m.group(0)
        ref = _get_attr(tag, b"ref")
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
        self.edits.append((m.start(), m.end(), _set_attr(tag, b"ref", new)))

    def result(self) -> bytes:
        return _apply_edits(self.xml, self.edits)


# --------------------------------------------------------------------------------------------------
# Comments and their VML drawing
# --------------------------------------------------------------------------------------------------

AUTHOR = "perechen"
_VML_NS = (b' xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
           b' xmlns:x="urn:schemas-microsoft-com:office:excel"')
_SHAPETYPE = (b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
              b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


_LABELS = {sev: sev.label for sev in Severity}
_CAP_LABELS = {sev: sev.label.capitalize() for sev in Severity}


def _comment_text(fs: list[Finding]) -> str:
    if len(fs) > 1:
        fs = sorted(fs, key=lambda f: (SEVERITY_ORDER[f.severity], f.code))
    parts = []
    for f in fs:
        meta = f"п. {f.clause}, {f.code}" if f.clause else f.code
        parts.append(f"{_CAP_LABELS[f.severity]} [{meta}]: {f.message}")
    return "\n".join(parts)


def _comment_runs(p: str, text: str, lead: str = "") -> str:
    """Two runs: the bold author line and the text (Tahoma 9, as Excel writes notes)."""
    font = f'<{p}sz val="9"/><{p}rFont val="Tahoma"/><{p}family val="2"/></{p}rPr><{p}t xml:space="preserve">'
    return (f"<{p}r><{p}rPr><{p}b/>{font}{xml_text(lead + AUTHOR)}:</{p}t></{p}r>"
            f"<{p}r><{p}rPr>{font}\n{xml_text(text)}</{p}t></{p}r>")


def _vml_shape(shape_id: int, row: int, col: int, text: str) -> str:
    """A hidden note box for the cell at 0-based (row, col)."""
    height = min(30, 3 + text.count("\n") + len(text) // 60)
    top = max(0, row - 1)
    return (f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:300pt;height:{12 * height}pt;z-index:{shape_id % 1024 + 1};visibility:hidden" '
            f'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col + 1}, 15, {top}, 10, {col + 5}, 15, {top + height}, 4</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>")


_Entry = tuple[tuple[int, int], str]  # ((row, column index), comment text)


def _annotate_sheet(pkg: _Package, book: _Book, styles: _Styles, ref: _SheetRef,
                    cells: dict[tuple[int, int], list[Finding]]) -> None:
    """Paint and comment the flagged cells of one sheet (all parts are written only when all succeed)."""
    xml = pkg.read(ref.part)
    sx = _SheetXml(xml, ref.part)
    by_row: dict[int, dict[int, Severity]] = defaultdict(dict)
    for (r, c), fs in cells.items():
        by_row[r][c] = worst(fs)
    sx.paint(by_row, styles.flagged)
    sx.fix_dimension()

    rels = _Rels(pkg, ref.part)
    writes: dict[str, bytes] = {}
    overrides: list[tuple[str, str]] = []  # content types, registered only when everything succeeded
    entries: list[_Entry] = [(pos, _comment_text(cells[pos])) for pos in sorted(cells)]
    # Comments part: merge with the sheet's own comments when it has some.
    existing = rels.by_type(RT_COMMENTS)
    comments_part = existing[0].target if existing and existing[0].target and pkg.has(existing[0].target) else None
    merged_refs: set[tuple[int, int]] = set()
    if comments_part is not None:
        cxml = pkg.read(comments_part)
        _parse_small(comments_part, cxml)
        writes[comments_part], merged_refs = _merge_comments(cxml, comments_part, entries)
    else:
        comments_part = pkg.unique_name("xl/comments{}.xml")
        writes[comments_part] = _new_comments(entries)
        overrides.append((comments_part, CT_COMMENTS))
        rels.add(RT_COMMENTS, comments_part)
    # VML drawing: the sheet's legacy drawing, or a new one.
    new_shapes = [e for e in entries if e[0] not in merged_refs]
    rid = sx.legacy_drawing_rid()
    vml_rel = rels.by_id(rid) if rid else None
    if rid is not None and (vml_rel is None or not vml_rel.target or not pkg.has(vml_rel.target)):
        raise _SheetSkip("рисунок примечаний листа не найден")
    if vml_rel is not None:
        vxml = pkg.read(vml_rel.target)
        writes[vml_rel.target] = _merge_vml(vxml, new_shapes, book.vml_blocks_in_use() + 1)
    else:
        vml_part = pkg.unique_name("xl/drawings/vmlDrawing{}.vml")
        writes[vml_part] = _new_vml(new_shapes, book.vml_blocks_in_use() + 1)
        overrides.append((vml_part, CT_VML))
        sx.add_legacy_drawing(rels.add(RT_VML, vml_part))
    writes[ref.part] = sx.result()
    rels_xml = rels.render()
    if rels_xml is not None:
        writes[rels.name] = rels_xml
    # Commit: nothing above touched the package.
    for name, data in writes.items():
        pkg.write(name, data)
    for part, ctype in overrides:
        if ctype == CT_VML:
            book.ct.default("vml", CT_VML)
            if book.ct.type_of(part) == CT_VML:
                continue
        book.ct.override(part, ctype)


def _new_comments(entries: list[_Entry]) -> bytes:
    out = [XML_DECL, f'<comments xmlns="{NS_MAIN}"><authors><author>{AUTHOR}</author></authors><commentList>'.encode()]
    letters = [col_letter(c) for c in range(max((c for (_, c), _ in entries), default=0) + 1)]
    for (r, c), text in entries:
        out.append(f'<comment ref="{letters[c]}{r}" authorId="0"><text>{_comment_runs("", text)}</text></comment>'
                   .encode())
    out.append(b"</commentList></comments>")
    return b"".join(out)


def _merge_comments(xml: bytes, part: str, entries: list[_Entry]) -> tuple[bytes, set[tuple[int, int]]]:
    root = _root(xml, part)
    p = root.prefix
    ps = p.decode("ascii")
    kids = {k.name: k for k in _children(xml, root.content_start, root.content_end)}
    authors, clist = kids.get(b"authors"), kids.get(b"commentList")
    if authors is None or clist is None or authors.empty:
        raise _SheetSkip(f"часть {part} без авторов или списка примечаний")
    edits: list[tuple[int, int, bytes]] = []
    names = [xml[a.tag_end:a.content_end]
             for a in _children(xml, authors.tag_end, authors.content_end) if a.name == b"author"]
    if AUTHOR.encode() in names:
        author_id = names.index(AUTHOR.encode())
    else:
        author_id = len(names)
        edits.append((authors.content_end, authors.content_end, f"<{ps}author>{AUTHOR}</{ps}author>".encode()))
    existing: dict[tuple[int, int], _Elem] = {}
    if not clist.empty:
        for com in _children(xml, clist.tag_end, clist.content_end):
            if com.name != b"comment":
                continue
            pos = parse_ref((_get_attr(xml[com.start:com.tag_end], b"ref") or b"").decode("ascii", "replace"))
            if pos is not None:
                existing[pos] = com
    merged: set[tuple[int, int]] = set()
    new: list[str] = []
    for pos, text in entries:
        el = existing.get(pos)
        if el is not None:
            body = _children(xml, el.tag_end, el.content_end)
            t = next((b for b in body if b.name == b"text"), None)
            if t is None or t.empty:
                raise _SheetSkip(f"примечание {pos} в части {part} без текста")
            inner = _children(xml, t.tag_end, t.content_end)
            at = next((b.start for b in inner if b.name in (b"rPh", b"phoneticPr")), t.content_end)
            edits.append((at, at, _comment_runs(ps, text, lead="\n\n").encode("utf-8")))
            merged.add(pos)
        else:
            r, c = pos
            new.append(f'<{ps}comment ref="{col_letter(c)}{r}" authorId="{author_id}"><{ps}text>'
                       f"{_comment_runs(ps, text)}</{ps}text></{ps}comment>")
    ins = "".join(new).encode("utf-8")
    if clist.empty:
        tag = xml[clist.start:clist.tag_end]
        edits.append((clist.start, clist.end, tag[:-2].rstrip() + b">" + ins + p.join((b"</", b"commentList>"))))
    else:
        edits.append((clist.content_end, clist.content_end, ins))
    return _apply_edits(xml, edits), merged


def _new_vml(shapes: list[_Entry], block: int) -> bytes:
    n_blocks = len(shapes) // 1024 + 1
    data = ",".join(str(block + i) for i in range(n_blocks))
    out = [f'<xml{_VML_NS.decode()}>\n<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{data}"/>'
           f"</o:shapelayout>".encode(), _SHAPETYPE]
    sid = block * 1024 + 1
    for (r, c), text in shapes:
        out.append(_vml_shape(sid, r - 1, c, text).encode())
        sid += 1
    out.append(b"</xml>")
    return b"\n".join(out)


def _merge_vml(xml: bytes, shapes: list[_Entry], free_block: int) -> bytes:
    if not shapes:
        return xml
    end = xml.rfind(b"</xml>")
    if end < 0:
        raise _SheetSkip("рисунок примечаний повреждён")
    ids = [int(m.group(1)) for m in re.finditer(rb"_x0000_s(\d+)", xml)]
    edits: list[tuple[int, int, bytes]] = []
    start_id = max(ids) + 1 if ids else free_block * 1024 + 1
    last_id = start_id + len(shapes) - 1
    blocks = set(range(start_id // 1024, last_id // 1024 + 1))
    m = re.search(rb"(<o:idmap\b[^>]*\bdata\s*=\s*[\"'])([\d,\s]*)([\"'])", xml)
    root_start = xml.find(b"<xml")
    root_end = xml.find(b">", root_start) + 1
    if root_start < 0 or root_end <= 0:
        raise _SheetSkip("рисунок примечаний повреждён")
    if m:
        have = {int(b) for b in m.group(2).split(b",") if b.strip().isdigit()}
        if not blocks <= have:
            edits.append((m.start(2), m.end(2), ",".join(str(b) for b in sorted(have | blocks)).encode()))
    else:
        edits.append((root_end, root_end, b'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="'
                      + ",".join(str(b) for b in sorted(blocks)).encode() + b'"/></o:shapelayout>'))
    out: list[str] = []
    if b'id="_x0000_t202"' not in xml:
        out.append(_SHAPETYPE.decode())
    sid = start_id
    for (r, c), text in shapes:
        out.append(_vml_shape(sid, r - 1, c, text))
        sid += 1
    root_tag = xml[root_start:root_end]
    shapes_xml = "\n".join(out).encode("utf-8")
    if b"xmlns:v=" not in root_tag or b"xmlns:x=" not in root_tag or b"xmlns:o=" not in root_tag:
        shapes_xml = (shapes_xml.replace(b"<v:shape ", b"<v:shape" + _VML_NS + b" ")
                      .replace(b"<v:shapetype ", b"<v:shapetype" + _VML_NS + b" "))
    edits.append((end, end, shapes_xml + b"\n"))
    return _apply_edits(xml, edits)


# --------------------------------------------------------------------------------------------------
# The «Замечания» sheet
# --------------------------------------------------------------------------------------------------

FINDINGS_COLUMNS: list[tuple[str, float]] = [
    ("Уровень", 16), ("Правило", 22), ("Пункт Порядка", 10), ("Ячейка", 18), ("Текущее значение", 40),
    ("Замечание", 90), ("Ответственный", 30),
]


def _add_findings_sheet(pkg: _Package, book: _Book, styles: _Styles, findings: Sequence[Finding],
                        default_sheet: str | None, responsible: _Responsible) -> None:
    name = book.free_sheet_name(FINDINGS_SHEET)
    known = {s.name for s in book.sheets}
    header_s = styles.named("header")
    text_s = styles.named("text")
    link_s = styles.named("link")
    sev_s = {sev: styles.named(f"sev-{sev.value}") for sev in Severity}
    ncols = len(FINDINGS_COLUMNS)
    last_col = col_letter(ncols - 1)

    def cell(ref: str, s: int, text: str) -> str:
        if not text:
            return f'<c r="{ref}" s="{s}"/>'
        return f'<c r="{ref}" s="{s}" t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}</t></is></c>'

    rows: list[bytes] = []
    links: list[bytes] = []
    hdr = "".join(cell(f"{col_letter(j)}1", header_s, h) for j, (h, _) in enumerate(FINDINGS_COLUMNS))
    rows.append(f'<row r="1">{hdr}</row>'.encode())
    sev_cells = {sev: f' s="{sev_s[sev]}" t="inlineStr"><is><t xml:space="preserve">{_LABELS[sev]}</t></is></c>'
                 for sev in Severity}
    text_open = f' s="{text_s}" t="inlineStr"><is><t xml:space="preserve">'
    link_open = f' s="{link_s}" t="inlineStr"><is><t xml:space="preserve">'
    close = "</t></is></c>"
    empty = f' s="{text_s}"/>'
    rn = 1
    listed = findings if len(findings) <= MAX_LIST_ROWS else findings[:MAX_LIST_ROWS - 1]
    quoted = {name: quote_sheet(name) for name in known}
    x = xml_text
    short: dict[str, str] = {}  # codes, clauses, names: few distinct values

    def xs(text: str) -> str:
        e = short.get(text)
        if e is None:
            e = short[text] = x(text)
        return e

    for f in listed:
        rn += 1
        cell_ref = f.cell
        sheet = f.sheet or (default_sheet if cell_ref else None)
        if sheet and cell_ref:
            where = f"{sheet}!{cell_ref}"
        elif sheet and f.row:
            where = f"{sheet}!{f.row}:{f.row}"
        else:
            where = f.location or ""
        xw = x(where)
        target = cell_ref if cell_ref and CELL_REF.match(cell_ref) else (f"A{f.row}" if f.row else None)
        if sheet in quoted and target:
            links.append(f'<hyperlink ref="D{rn}" location="{x(quoted[sheet] + "!" + target)}" display="{xw}"/>'
                         .encode())
            where_open = link_open
        else:
            where_open = text_open
        value = _finding_value(f)
        who = responsible.of(f)
        clause = f.clause
        rows.append((
            f'<row r="{rn}"><c r="A{rn}"{sev_cells[f.severity]}<c r="B{rn}"{text_open}{xs(f.code)}{close}'
            + (f'<c r="C{rn}"{text_open}{xs(clause)}{close}' if clause else f'<c r="C{rn}"{empty}')
            + (f'<c r="D{rn}"{where_open}{xw}{close}' if where else f'<c r="D{rn}"{empty}')
            + (f'<c r="E{rn}"{text_open}{x(value)}{close}' if value else f'<c r="E{rn}"{empty}')
            + f'<c r="F{rn}"{text_open}{x(f.message)}{close}'
            + (f'<c r="G{rn}"{text_open}{xs(who)}{close}</row>' if who else f'<c r="G{rn}"{empty}</row>')
        ).encode())
    if not findings:
        rn += 1
        rows.append(f'<row r="2">{cell("A2", text_s, "Замечаний нет.")}</row>'.encode())
    elif len(listed) < len(findings):
        rn += 1
        rest = f"{_more_text(len(findings) - len(listed))}: полный список — в report.json."
        rows.append(f'<row r="{rn}">{cell(f"F{rn}", text_s, rest)}</row>'.encode())
    cols = "".join(f'<col min="{j + 1}" max="{j + 1}" width="{w}" customWidth="1"/>'
                   for j, (_, w) in enumerate(FINDINGS_COLUMNS))
    ref = f"A1:{last_col}{rn}"
    head = "".join([
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">',
        '<sheetPr><tabColor rgb="FFC00000"/></sheetPr>',
        f'<dimension ref="{ref}"/>',
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>",
        "<sheetData>",
    ]).encode()
    tail = (f'</sheetData><autoFilter ref="{ref}"/>'.encode()
            + (b"<hyperlinks>" + b"".join(links) + b"</hyperlinks>" if links else b"")
            + b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
              b'<pageSetup orientation="landscape" paperSize="9"/></worksheet>')
    xml = b"".join([XML_DECL, head, *rows, tail])
    book.add_first_sheet(name, xml, f"{quote_sheet(name)}!$A$1:${last_col}${rn}")


# ==================================================================================================
# The HTML page
# ==================================================================================================

@dataclass
class _Item:
    where: str
    severity: Severity
    code: str
    title: str
    clause: str
    value: str
    message: str
    who: str


@dataclass
class _Group:
    id: str
    title: str
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    items: list[_Item] = field(default_factory=list)
    more: int = 0
    severity: Severity | None = None
    clause: str = ""
    code: str = ""

    @property
    def total(self) -> int:
        return self.errors + self.warnings + self.infos


def _counts_text(g: _Group) -> str:
    parts = []
    if g.errors:
        parts.append(f"ошибок: {g.errors}")
    if g.warnings:
        parts.append(f"предупреждений: {g.warnings}")
    if g.infos:
        parts.append(f"сведений: {g.infos}")
    return ", ".join(parts) or "замечаний нет"


def _more_text(n: int) -> str:
    return f"… и ещё {n} {plural(n, 'замечание', 'замечания', 'замечаний')}"


def _short(text: str, limit: int = HTML_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build_groups(findings: Sequence[Finding], rules: Rules, responsible: _Responsible, *, limit: int,
                  max_groups: int) -> tuple[list[_Group], int, list[_Group], int]:
    by_person: dict[str, _Group] = {}
    by_rule: dict[str, _Group] = {}
    no_person = "Ответственный не указан"
    whole = "Книга в целом"
    titles: dict[str, str] = {}
    for f in findings:
        title = titles.get(f.code)
        if title is None:
            title = titles[f.code] = rules.check(f.code).title if rules.has_check(f.code) else f.code
        who = responsible.of(f)
        pkey = who if who else (no_person if f.row else whole)
        item: _Item | None = None
        for groups, key, gtitle in ((by_person, pkey, pkey), (by_rule, f.code, title)):
            g = groups.get(key)
            if g is None:
                g = groups[key] = _Group(id="", title=gtitle)
                if groups is by_rule:
                    g.severity, g.clause, g.code = f.severity, f.clause or "", f.code
            if f.severity is Severity.ERROR:
                g.errors += 1
            elif f.severity is Severity.WARNING:
                g.warnings += 1
            else:
                g.infos += 1
            if len(g.items) < limit:
                if item is None:
                    item = _Item(where=f.location or "—", severity=f.severity, code=f.code, title=title,
                                 clause=f.clause or "", value=_short(_finding_value(f)), message=f.message,
                                 who=who or "—")
                g.items.append(item)
            else:
                g.more += 1

    def person_key(g: _Group) -> tuple[int, int, int, str]:
        special = 1 if g.title in (no_person, whole) else 0
        return (special, -g.errors, -g.total, g.title.casefold())

    def rule_key(g: _Group) -> tuple[int, int, str]:
        return (SEVERITY_ORDER[g.severity or Severity.INFO], -g.total, g.code)

    persons = sorted(by_person.values(), key=person_key)
    rules_g = sorted(by_rule.values(), key=rule_key)
    for i, g in enumerate(persons, 1):
        g.id = f"person-{i}"
    for i, g in enumerate(rules_g, 1):
        g.id = f"rule-{i}"
    hidden_p = max(0, len(persons) - max_groups)
    hidden_r = max(0, len(rules_g) - max_groups)
    return persons[:max_groups], hidden_p, rules_g[:max_groups], hidden_r


_PAGES = TemplateSet("check-report", globals={"counts_text": _counts_text, "more_text": _more_text,
                                              "plural": plural})


def render_html(report: CheckReport, rules: Rules, *, xlsx_name: str | None = None, notes: Sequence[str] = (),
                limit: int = HTML_GROUP_LIMIT, max_groups: int = HTML_MAX_GROUPS,
                now: dt.datetime | None = None, responsible: _Responsible | None = None) -> str:
    """The report page (Jinja2 with autoescape; no scripts, no external resources)."""
    reg = report.register
    responsible = responsible or _Responsible(reg, report.findings)
    persons, hidden_p, rule_groups, hidden_r = _build_groups(report.findings, rules, responsible, limit=limit,
                                                             max_groups=max_groups)
    when = now or dt.datetime.now()
    workbook = Path(report.workbook).name or report.workbook
    return get_template("report.html.j2", _PAGES).render(
        workbook=workbook,
        workbook_path=report.workbook,
        rows=report.rows,
        errors=report.errors,
        warnings=report.warnings,
        infos=report.infos,
        total=len(report.findings),
        when=when.strftime("%d.%m.%Y %H:%M"),
        persons=persons,
        hidden_persons=hidden_p,
        rule_groups=rule_groups,
        hidden_rules=hidden_r,
        limit=limit,
        xlsx_name=xlsx_name,
        xlsx_href=quote(xlsx_name) if xlsx_name else None,
        notes=list(notes),
        sheet=reg.sheet if reg is not None else None,
        severity=Severity,
    )
