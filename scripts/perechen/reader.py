"""Stage 1: read the clerks' workbook safely.

The master file is opened once, read-only, into memory (a private copy); nothing here ever writes to
it. The bytes are identified before any Excel library sees them, the zip directory and every XML
part's prolog are checked (sizes, DTDs), and only then python-calamine reads the values. A light scan
of the sheet's raw XML adds what calamine does not expose: formulas without a cached value, error
cells, merged ranges and hidden rows.

Anything that makes the file unreadable raises :class:`~perechen.models.FileError` with a Russian
message naming the file (and the sheet or part); everything else becomes a
:class:`~perechen.models.Finding` at its cell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import FileError, Finding, Register, Row
from .rules import Rules
from .text import header_key, mixed_script_words, normalize

Progress = Callable[[str, int, int], None]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_DATE_TEXT = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:\s*г\.?)?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d{1,7})"')
_T_ATTR = re.compile(rb'\bt="([a-z]+)"')
_V_ELEM = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_F_ELEM = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?(?:/>|>([^<]*)</(?:\w+:)?f>)")
_F_START = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ERR_ATTR = re.compile(rb'\st="e"')
_HIDDEN_ATTR = re.compile(rb'\bhidden="(?:1|true)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*\bref="([A-Z]{1,3}\d+(?::[A-Z]{1,3}\d+)?)"')
_ROW_NUM = re.compile(rb'\br="(\d+)"')
_REF_SPLIT = re.compile(r"([A-Z]+)(\d+)")
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#BUSY!", "#CONNECT!"}


def col_letter(index: int) -> str:
    """0-based column index -> Excel letters."""
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


# --------------------------------------------------------------------------------------------------
# Loading the bytes
# --------------------------------------------------------------------------------------------------

def load_bytes(path: Path, rules: Rules, *, sleep: Callable[[float], None] = time.sleep) -> bytes:
    """Read the master file once, read-only, retrying while it is being written."""
    lim = rules.schema.limits
    if path.name.startswith("~$") or (path.name.startswith(".~lock.") and path.name.endswith("#")):
        raise FileError("lock_file", rules.file_error("lock_file", path), path)
    attempts = max(1, lim.unstable_retries)
    for attempt in range(1, attempts + 1):
        try:
            st1 = path.stat()
        except FileNotFoundError:
            if attempt < attempts and _sibling_temp_exists(path):
                sleep(lim.unstable_delay_seconds)
                continue
            raise FileError("not_found", rules.file_error("not_found", path), path) from None
        except PermissionError as e:
            raise FileError("permission", rules.file_error("permission", path, e.strerror or str(e)), path) from None
        if path.is_dir():
            raise FileError("is_directory", rules.file_error("is_directory", path), path)
        try:
            with path.open("rb") as f:
                data = f.read()
            st2 = path.stat()
        except PermissionError as e:
            raise FileError("permission", rules.file_error("permission", path, e.strerror or str(e)), path) from None
        except FileNotFoundError:
            # Replaced by an atomic rename while we read: try again.
            if attempt < attempts:
                sleep(lim.unstable_delay_seconds)
                continue
            raise FileError("not_found", rules.file_error("not_found", path), path) from None
        except OSError as e:
            raise FileError("read_failed", rules.file_error("read_failed", path, str(e)), path) from None
        stable = (st1.st_size == st2.st_size == len(data) and st1.st_mtime_ns == st2.st_mtime_ns
                  and st1.st_ino == st2.st_ino)
        if stable and data[:4] in ZIP_MAGICS and not _zip_complete(data):
            # A zip without its central directory: most likely still being written.
            stable = time.time() - st2.st_mtime > 5 * lim.unstable_delay_seconds * attempts
            if not stable and attempt == attempts:
                return data  # identify() will name it as damaged
        if stable:
            return data
        if attempt < attempts:
            sleep(lim.unstable_delay_seconds)
    raise FileError("unstable", rules.file_error("unstable", path, str(attempts)), path)


def _sibling_temp_exists(path: Path) -> bool:
    try:
        return any(p.name.startswith("~") and p.suffix.lower() in {".tmp", ""}
                   for p in path.parent.iterdir())
    except OSError:
        return False


def _zip_complete(data: bytes) -> bool:
    # The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
    return data.rfind(b"PK\x05\x06", max(0, len(data) - 65_558)) != -1


# --------------------------------------------------------------------------------------------------
# Identifying the file
# --------------------------------------------------------------------------------------------------

@dataclass
class Package:
    """The opened, checked .xlsx zip."""

    zf: zipfile.ZipFile
    sheets: list[tuple[str, str, str]] = field(default_factory=list)  # (name, part path, state)
    date1904: bool = False
    strict: bool = False


def identify(data: bytes, path: Path, rules: Rules) -> Package:
    """Say what the bytes are; return the opened package only for a real, sane .xlsx."""
    if not data:
        raise FileError("empty", rules.file_error("empty", path), path)
    head = data[:8]
    if head == OLE_MAGIC:
        raise _ole_error(data, path, rules)
    if data[:4] not in ZIP_MAGICS:
        raise _not_zip_error(data, path, rules)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
        detail = ("архив записан не до конца (нет каталога архива)" if not _zip_complete(data)
                  else f"архив повреждён ({e})")
        raise FileError("zip_damaged", rules.file_error("zip_damaged", path, detail), path) from None
    names = set(zf.namelist())
    if "word/document.xml" in names:
        raise FileError("word", rules.file_error("word", path), path)
    if any(n.startswith("ppt/") for n in names):
        raise FileError("not_xlsx", rules.file_error("not_xlsx", path, "это презентация PowerPoint"), path)
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        if "content.xml" in names and "mimetype" in names:
            raise FileError("not_xlsx", rules.file_error(
                "not_xlsx", path, "это документ OpenDocument (.ods/.odt); сохраните его как .xlsx"), path)
        detail = "в архиве нет книги Excel (xl/workbook.xml)"
        raise FileError("not_xlsx", rules.file_error("not_xlsx", path, detail), path)
    if "xl/workbook.bin" in names:
        raise FileError("not_xlsx", rules.file_error(
            "not_xlsx", path, "это двоичная книга Excel (.xlsb); сохраните её как «Книга Excel (*.xlsx)»"), path)
    _check_sizes(zf, path, rules)
    pkg = Package(zf=zf)
    _read_workbook_part(pkg, path, rules)
    return pkg


def _ole_error(data: bytes, path: Path, rules: Rules) -> FileError:
    utf16 = lambda s: s.encode("utf-16-le")  # noqa: E731
    if utf16("EncryptedPackage") in data or utf16("EncryptionInfo") in data:
        return FileError("encrypted", rules.file_error("encrypted", path), path)
    if utf16("Workbook") in data or utf16("Book") in data:
        return FileError("xls", rules.file_error("xls", path), path)
    if utf16("WordDocument") in data:
        return FileError("word", rules.file_error("word", path), path)
    return FileError("ole", rules.file_error("ole", path, "формат OLE"), path)


def _not_zip_error(data: bytes, path: Path, rules: Rules) -> FileError:
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return FileError("not_xlsx", rules.file_error("not_xlsx", path, "это документ PDF"), path)
    if head.startswith(b"{\\rtf"):
        return FileError("word", rules.file_error("word", path), path)
    low = head.lower()
    if b"<html" in low or b"<!doctype html" in low:
        return FileError("not_xlsx", rules.file_error("not_xlsx", path, "это веб-страница (HTML)"), path)
    if b"<?xml" in low[:100] or b"<workbook" in low:
        return FileError("not_xlsx", rules.file_error(
            "not_xlsx", path, "это XML-файл (например, «Таблица XML 2003»), а не .xlsx"), path)
    text = None
    for enc in ("utf-8-sig", "cp1251"):
        try:
            text = head.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is not None and "\x00" not in text:
        if any(sep in text for sep in (";", ",", "\t")):
            return FileError("csv", rules.file_error("csv", path), path)
        return FileError("not_xlsx", rules.file_error("not_xlsx", path, "это текстовый файл"), path)
    return FileError("not_xlsx", rules.file_error("not_xlsx", path, "неизвестный двоичный формат"), path)


def _check_sizes(zf: zipfile.ZipFile, path: Path, rules: Rules) -> None:
    lim = rules.schema.limits
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > 50_000_000 and ratio > lim.max_compression_ratio:
            raise FileError("zip_bomb", rules.file_error(
                "zip_bomb", path, f"{_mb(info.file_size)} (часть {info.filename} сжата в {ratio:.0f} раз)"), path)
    if total > lim.max_uncompressed_bytes:
        raise FileError("zip_bomb", rules.file_error("zip_bomb", path, _mb(total)), path)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.0f} МБ".replace(",", " ")


def read_part(pkg: Package, name: str, path: Path, rules: Rules) -> bytes:
    """Inflate one part, bounded by its declared size (zipfile checks size and CRC)."""
    try:
        data = pkg.zf.read(name)
    except KeyError:
        raise FileError("zip_damaged", rules.file_error("zip_damaged", path, f"нет части {name}"), path) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
        raise FileError("zip_damaged", rules.file_error(
            "zip_damaged", path, f"часть {name} не распаковывается ({e})"), path) from None
    _refuse_dtd(data, name, path, rules)
    return data


def _refuse_dtd(data: bytes, name: str, path: Path, rules: Rules) -> None:
    # A DTD can only appear in the prolog, before the root element; entity declarations live in it.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data or b"<!doctype" in data:
        raise FileError("xml_dtd", rules.file_error("xml_dtd", path, name), path)


_NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"


def _read_workbook_part(pkg: Package, path: Path, rules: Rules) -> None:
    from defusedxml import ElementTree as DET
    from defusedxml.common import DefusedXmlException

    # Every XML part is checked for DTDs before anything parses it.
    for info in pkg.zf.infolist():
        if info.filename.endswith((".xml", ".rels", ".vml")):
            if info.filename.startswith("xl/worksheets/") or info.filename == "xl/sharedStrings.xml":
                continue  # checked in full when read
            read_part(pkg, info.filename, path, rules)
    try:
        wb = DET.fromstring(read_part(pkg, "xl/workbook.xml", path, rules))
        rels_raw = read_part(pkg, "xl/_rels/workbook.xml.rels", path, rules)
        rels = DET.fromstring(rels_raw)
    except DefusedXmlException:
        raise FileError("xml_dtd", rules.file_error("xml_dtd", path, "xl/workbook.xml"), path) from None
    except Exception as e:  # ParseError
        raise FileError("xml_broken", rules.file_error("xml_broken", path, f"xl/workbook.xml ({e})"), path) from None
    pkg.strict = wb.tag.startswith("{" + _NS_STRICT)
    targets: dict[str, str] = {}
    for rel in rels:
        rid, target = rel.get("Id"), rel.get("Target") or ""
        if rid:
            if target.startswith("/"):
                part = target.lstrip("/")
            else:
                part = os.path.normpath("xl/" + target).replace("\\", "/")
            targets[rid] = part
    for el in wb.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local == "workbookPr":
            pkg.date1904 = (el.get("date1904") or "").lower() in {"1", "true"}
        elif local == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), "")
            pkg.sheets.append((el.get("name") or "", targets.get(rid, ""), el.get("state") or "visible"))
    if not pkg.sheets:
        raise FileError("no_sheets", rules.file_error("no_sheets", path), path)


# --------------------------------------------------------------------------------------------------
# Reading values
# --------------------------------------------------------------------------------------------------

@dataclass
class RawScan:
    formulas_without_value: dict[str, str] = field(default_factory=dict)  # ref -> formula text
    formulas: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # ref -> error text
    hidden_rows: list[int] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    autofilter: bool = False


def scan_sheet_xml(xml: bytes) -> RawScan:
    """Find formulas, error cells, hidden rows and merges in a sheet's XML without parsing it."""
    scan = RawScan()
    for m in _F_START.finditer(xml):
        start = _cell_start(xml, m.start())
        if start < 0:
            continue
        end = _cell_end(xml, m.start())
        seg = xml[start:end]
        tag_end = seg.find(b">")
        ref = _CELL_REF.search(seg, 0, tag_end)
        if not ref:
            continue
        r = (ref.group(1) + ref.group(2)).decode()
        scan.formulas.add(r)
        t = _T_ATTR.search(seg, 0, tag_end)
        v = _V_ELEM.search(seg)
        if (v is None or v.group(1) == b"") and not (t and t.group(1) == b"str" and v is not None):
            fm = _F_ELEM.search(seg)
            ftext = (fm.group(1) or b"").decode("utf-8", "replace") if fm else ""
            scan.formulas_without_value[r] = "=" + _xml_unescape(ftext) if ftext else "(общая формула)"
    for m in _ERR_ATTR.finditer(xml):
        start = _cell_start(xml, m.start())
        if start < 0:
            continue
        end = _cell_end(xml, m.start())
        seg = xml[start:end]
        tag_end = seg.find(b">")
        ref = _CELL_REF.search(seg, 0, tag_end)
        if not ref:
            continue
        v = _V_ELEM.search(seg)
        scan.errors[(ref.group(1) + ref.group(2)).decode()] = (v.group(1).decode() if v else "#ОШИБКА")
    for m in _HIDDEN_ATTR.finditer(xml):
        lt = xml.rfind(b"<", 0, m.start())
        tag = xml[lt:xml.find(b">", m.start()) + 1]
        if re.match(rb"<(?:\w+:)?row\s", tag):
            rn = _ROW_NUM.search(tag)
            if rn:
                scan.hidden_rows.append(int(rn.group(1)))
    scan.merged = [m.group(1).decode() for m in _MERGE.finditer(xml)]
    scan.autofilter = re.search(rb"<(?:\w+:)?autoFilter\b", xml) is not None
    return scan


def _cell_start(xml: bytes, pos: int) -> int:
    i = xml.rfind(b"<c ", 0, pos)
    j = xml.rfind(b":c ", 0, pos)
    if j > i:
        i = xml.rfind(b"<", 0, j + 1)
    return i


def _cell_end(xml: bytes, pos: int) -> int:
    e = xml.find(b"</c>", pos)
    e2 = xml.find(b":c>", pos)
    cands = [x for x in (e, e2) if x != -1]
    return (min(cands) + 4) if cands else len(xml)


def _xml_unescape(s: str) -> str:
    from html import unescape
    return unescape(s)


def read_register(path: str | Path, rules: Rules | None = None, *, progress: Progress | None = None) -> Register:
    """Read the register sheet of a workbook. Raises FileError when the file cannot be read."""
    rules = rules or Rules.load()
    path = Path(path)
    started = time.monotonic()
    data = load_bytes(path, rules)
    pkg = identify(data, path, rules)
    reader = _SheetReader(path, rules, pkg, data, started, progress)
    reg = reader.read()
    reg.sha256 = hashlib.sha256(data).hexdigest()
    reg.data = data
    return reg


class _SheetReader:
    def __init__(self, path: Path, rules: Rules, pkg: Package, data: bytes, started: float,
                 progress: Progress | None) -> None:
        self.path, self.rules, self.pkg, self.data = path, rules, pkg, data
        self.started = started
        self.progress = progress
        self.findings: list[Finding] = []
        self._norm_cache: dict[str, str] = {}
        self._mixed_cache: dict[str, list[tuple[str, str]]] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def _fail(self, code: str, detail: str = "") -> FileError:
        return FileError(code, self.rules.file_error(code, self.path, detail), self.path)

    def _budget(self) -> None:
        limit = self.rules.schema.limits.max_read_seconds
        if time.monotonic() - self.started > limit:
            raise self._fail("timeout", f"{limit:g}")

    def _finding(self, code: str, sheet: str | None, cell: str | None, row: int | None, column: str | None,
                 value: Any = None, field_name: str | None = None, **fmt: Any) -> Finding:
        chk = self.rules.check(code)
        header = self.rules.columns[field_name].header if field_name in self.rules.columns else ""
        msg = chk.message.format(header=header, value=value if value is not None else "", clause=chk.clause or "",
                                 detail=fmt.get("detail", ""), expected=fmt.get("expected", ""))
        return Finding(code=code, severity=chk.severity, clause=chk.clause, message=msg, sheet=sheet, cell=cell,
                       row=row, column=column, field=field_name, value=value)

    # -- main ------------------------------------------------------------------------------------
    def read(self) -> Register:
        import python_calamine as pc

        try:
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        except pc.PasswordError:
            raise self._fail("encrypted") from None
        except Exception as e:
            raise self._fail("read_failed", _short(e)) from None
        spec = self.rules.schema.register_spec
        candidates: list[tuple[str, Any, int, dict[int, str], list[list[Any]]]] = []
        info_sheet: tuple[str, list[list[Any]]] | None = None
        sheet_names = [name for name, _, _ in self.pkg.sheets]
        if self.progress:
            self.progress("Чтение книги", 0, 1)
        for name in wb.sheet_names:
            try:
                sh = wb.get_sheet_by_name(name)
                rows = sh.to_python(skip_empty_area=False)
            except Exception as e:
                raise self._fail("read_failed", f"лист «{name}»: {_short(e)}") from None
            self._budget()
            found = self._find_header(rows[: spec.header_search_rows])
            if found is not None:
                hdr_idx, mapping = found
                candidates.append((name, sh, hdr_idx, mapping, rows))
            if header_key(name) == header_key(self.rules.schema.info.sheet):
                info_sheet = (name, rows)
        if not candidates:
            listed = ", ".join(f"«{n}»" for n in sheet_names)
            raise self._fail("no_register", f"Листы книги: {listed}.")
        if len(candidates) > 1:
            raise self._fail("many_registers", ", ".join(f"«{c[0]}»" for c in candidates))
        name, _sh, hdr_idx, mapping, rows = candidates[0]
        reg = self._read_rows(name, hdr_idx, mapping, rows)
        reg.sheet_names = sheet_names
        if info_sheet is not None:
            reg.info_sheet = info_sheet[0]
            reg.info = self._read_info(info_sheet[1])
        else:
            self.findings.append(self._finding("info-sheet-missing", None, None, None, None,
                                               detail=self.rules.schema.info.sheet))
        reg.findings = self.findings
        return reg

    def _find_header(self, rows: list[list[Any]]) -> tuple[int, dict[int, str]] | None:
        best: tuple[int, dict[int, str]] | None = None
        best_n = 0
        idx = self.rules.header_index
        for i, row in enumerate(rows):
            mapping: dict[int, str] = {}
            for j, v in enumerate(row):
                if isinstance(v, str) and v:
                    f = idx.get(header_key(v))
                    if f is not None:
                        mapping[j] = f
            n = len(set(mapping.values()))
            if n > best_n:
                best, best_n = (i, mapping), n
        spec = self.rules.schema.register_spec
        if best is not None and best_n >= spec.min_header_matches:
            ident = sum(1 for f in set(best[1].values()) if f in spec.identity_fields)
            if ident >= spec.min_identity_matches:
                return best
        return None

    def _read_rows(self, sheet: str, hdr_idx: int, mapping: dict[int, str], rows: list[list[Any]]) -> Register:
        rules = self.rules
        lim = rules.schema.limits
        header_row_no = hdr_idx + 1
        header_cells = rows[hdr_idx]
        columns: dict[str, str] = {}
        headers: dict[str, str] = {}
        col_fields: list[tuple[int, str]] = []
        width = max((len(r) for r in rows[: hdr_idx + 1]), default=0)
        if width > lim.max_columns:
            raise self._fail("too_many_columns", f"«{sheet}» {width}")
        for j, v in enumerate(header_cells):
            text = normalize(str(v)) if v not in (None, "") else ""
            if not text:
                continue
            letter = col_letter(j)
            ref = f"{letter}{header_row_no}"
            for word, latin in mixed_script_words(text):
                self.findings.append(self._finding("mixed-script", sheet, ref, header_row_no, letter, value=text,
                                                   detail=word, expected=", ".join(latin)))
            f = mapping.get(j)
            if f is None:
                if header_key(text) in rules.ignored_headers:
                    continue
                self.findings.append(self._finding("unknown-column", sheet, ref, header_row_no, letter, value=text))
                continue
            if f in columns:
                self.findings.append(self._finding("duplicate-column", sheet, ref, header_row_no, letter,
                                                   value=text, field_name=f))
                continue
            columns[f] = letter
            headers[f] = text
            col_fields.append((j, f))
        for col in rules.schema.columns:
            if col.required and col.field not in columns:
                self.findings.append(self._finding("missing-column", sheet, f"A{header_row_no}", header_row_no, None,
                                                   field_name=col.field))
        # Raw XML extras.
        part = next((p for n, p, _ in self.pkg.sheets if n == sheet), "")
        scan = RawScan()
        if part and part in self.pkg.zf.namelist():
            xml = read_part(self.pkg, part, self.path, rules)
            scan = scan_sheet_xml(xml)
            del xml
        if "xl/sharedStrings.xml" in self.pkg.zf.namelist():
            read_part(self.pkg, "xl/sharedStrings.xml", self.path, rules)
        self._budget()
        # Data rows: stop at the last non-empty row; skip blank rows in between.
        last = len(rows)
        while last > hdr_idx + 1 and _blank(rows[last - 1]):
            last -= 1
        n_data = last - hdr_idx - 1
        if n_data > lim.max_rows:
            raise self._fail("too_many_rows", f"«{sheet}» {n_data}")
        problem_cells: set[str] = set()
        hidden = set(scan.hidden_rows)
        date_fields = {c.field for c in rules.schema.columns if c.type == "date"}
        out: list[Row] = []
        total = n_data
        for i in range(hdr_idx + 1, last):
            raw_row = rows[i]
            if _blank(raw_row):
                continue
            rn = i + 1
            values: dict[str, Any] = {}
            original: dict[str, Any] = {}
            for j, f in col_fields:
                v = raw_row[j] if j < len(raw_row) else None
                if v == "" or v is None:
                    values[f] = None
                    continue
                if f in date_fields:
                    nv = self._to_date(v)
                elif isinstance(v, str):
                    nv = self._norm(v)
                    if nv != v:
                        original[f] = v
                    if not nv:
                        nv = None
                elif isinstance(v, float):
                    nv = str(int(v)) if v.is_integer() else str(v)
                    original[f] = v
                elif isinstance(v, bool):
                    nv = "да" if v else "нет"
                    original[f] = v
                elif isinstance(v, (dt.date, dt.time, dt.timedelta)):
                    nv = v.strftime("%d.%m.%Y") if isinstance(v, dt.date) else str(v)
                    original[f] = v
                else:
                    nv = str(v)
                values[f] = nv
                if isinstance(nv, str) and not nv.isascii():
                    mixed = self._mixed_cache.get(nv)
                    if mixed is None:
                        mixed = mixed_script_words(nv)
                        self._mixed_cache[nv] = mixed
                    for word, latin in mixed:
                        letter = columns[f]
                        self.findings.append(self._finding("mixed-script", sheet, f"{letter}{rn}", rn, letter,
                                                           value=nv, field_name=f, detail=word,
                                                           expected=", ".join(latin)))
            out.append(Row(number=rn, values=values, original=original, hidden=rn in hidden))
            if (i & 0x3FFF) == 0:
                self._budget()
                if self.progress:
                    self.progress("Чтение строк", i - hdr_idx, total)
        data_cols = {letter for letter in columns.values()}
        known_rows = {r.number for r in out}

        def in_data(ref: str) -> tuple[str, int] | None:
            m = _REF_SPLIT.fullmatch(ref)
            if not m:
                return None
            letter, rn = m.group(1), int(m.group(2))
            if rn <= header_row_no or letter not in data_cols:
                return None
            return letter, rn

        field_of = {letter: f for f, letter in columns.items()}
        row_by_no = {r.number: r for r in out}
        for ref, text in sorted(scan.errors.items(), key=lambda kv: _ref_key(kv[0])):
            loc = in_data(ref)
            if loc is None:
                continue
            letter, rn = loc
            problem_cells.add(ref)
            f = field_of[letter]
            if rn in row_by_no:
                row_by_no[rn].values[f] = None
                row_by_no[rn].original[f] = text
            self.findings.append(self._finding("error-value", sheet, ref, rn, letter, value=text, field_name=f))
        for ref, ftext in sorted(scan.formulas_without_value.items(), key=lambda kv: _ref_key(kv[0])):
            loc = in_data(ref)
            if loc is None or ref in problem_cells:
                continue
            letter, rn = loc
            problem_cells.add(ref)
            f = field_of[letter]
            self.findings.append(self._finding("formula-no-value", sheet, ref, rn, letter, value=ftext,
                                               field_name=f, detail=ftext))
        for rng in scan.merged:
            a, _, b = rng.partition(":")
            ma, mb = _REF_SPLIT.fullmatch(a), _REF_SPLIT.fullmatch(b or a)
            if not ma or not mb:
                continue
            c1, r1, c2, r2 = col_index(ma.group(1)), int(ma.group(2)), col_index(mb.group(1)), int(mb.group(2))
            if r2 <= header_row_no:
                continue
            touched = [col_letter(c) for c in range(c1, c2 + 1) if col_letter(c) in data_cols]
            if not touched:
                continue
            for rn in range(max(r1, header_row_no + 1), r2 + 1):
                for letter in touched:
                    problem_cells.add(f"{letter}{rn}")
            letter = col_letter(c1) if col_letter(c1) in data_cols else touched[0]
            self.findings.append(self._finding("merged-cells", sheet, a, r1, letter, value=rng,
                                               field_name=field_of.get(letter), detail=rng))
        hidden_data = sorted(r for r in hidden if r in known_rows)
        if hidden_data:
            by = " фильтром" if scan.autofilter else ""
            self.findings.append(self._finding("hidden-rows", sheet, f"A{hidden_data[0]}", hidden_data[0], None,
                                               detail=_ranges(hidden_data), expected=by))
        reg = Register(path=self.path, sheet=sheet, header_row=header_row_no, columns=columns, headers=headers,
                       rows=out)
        reg.problem_cells = problem_cells
        reg.formula_cells = scan.formulas
        reg.lock_owner = lock_owner(self.path)
        if reg.lock_owner:
            self.findings.append(self._finding("workbook-open", None, None, None, None, detail=reg.lock_owner))
        if self.progress:
            self.progress("Чтение строк", total, total)
        return reg

    def _norm(self, v: str) -> str:
        n = self._norm_cache.get(v)
        if n is None:
            n = normalize(v)
            if len(self._norm_cache) < 500_000:
                self._norm_cache[v] = n
        return n

    def _to_date(self, v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if 1 <= v < 2_958_466:
                base = dt.date(1904, 1, 1) if self.pkg.date1904 else dt.date(1899, 12, 30)
                return base + dt.timedelta(days=int(v))
            return str(v)
        if isinstance(v, str):
            s = self._norm(v)
            return parse_date_text(s) or (s or None)
        return v

    def _read_info(self, rows: list[list[Any]]) -> dict[str, str]:
        labels = {header_key(f.label): f.key for f in self.rules.schema.info.fields}
        out: dict[str, str] = {}
        for row in rows:
            if len(row) < 2:
                continue
            k, v = row[0], row[1]
            if not isinstance(k, str):
                continue
            key = labels.get(header_key(k))
            if key is None:
                continue
            if isinstance(v, float) and v.is_integer():
                v = str(int(v))
            out[key] = normalize(str(v)) if v not in (None, "") else ""
        return out


def parse_date_text(s: str) -> dt.date | None:
    m = _DATE_TEXT.match(s)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _ISO_DATE.match(s)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


def _blank(row: list[Any]) -> bool:
    for v in row:
        if v is None or v == "":
            continue
        if isinstance(v, str) and not v.strip():
            continue
        return False
    return True


def _ref_key(ref: str) -> tuple[int, int]:
    m = _REF_SPLIT.fullmatch(ref)
    return (int(m.group(2)), col_index(m.group(1))) if m else (0, 0)


def _ranges(nums: list[int]) -> str:
    parts: list[str] = []
    start = prev = nums[0]
    for n in nums[1:]:
        if n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}–{prev}" if prev > start else str(start))
        start = prev = n
    parts.append(f"{start}–{prev}" if prev > start else str(start))
    if len(parts) > 10:
        parts = [*parts[:10], f"… (всего {len(nums)})"]
    return ", ".join(parts)


def _short(e: BaseException) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return s[:200]


# --------------------------------------------------------------------------------------------------
# Who has the workbook open
# --------------------------------------------------------------------------------------------------

def lock_owner(path: Path) -> str | None:
    """The user named in Excel's «~$» lock file or LibreOffice's «.~lock…#» file, if one is present."""
    candidates = [path.with_name("~$" + path.name)]
    if len(path.name) > 2:
        candidates.append(path.with_name("~$" + path.name[2:]))
    for lock in candidates:
        try:
            raw = lock.read_bytes()[:512]
        except OSError:
            continue
        name = parse_excel_lock(raw)
        if name:
            return name
    lo = path.with_name(f".~lock.{path.name}#")
    try:
        text = lo.read_text("utf-8", "replace")
    except OSError:
        return None
    parts = text.split(",")
    return (parts[0] or (parts[2] if len(parts) > 2 else "")).strip() or None


def parse_excel_lock(raw: bytes) -> str | None:
    """Excel's owner file: a length byte and the ANSI name, then at 0x36 the name in UTF-16."""
    if len(raw) < 2:
        return None
    if len(raw) >= 0x38 + 2:
        n = raw[0x36]
        if 0 < n <= 54:
            chunk = raw[0x38:0x38 + 2 * n]
            try:
                name = chunk.decode("utf-16-le").strip("\x00 ")
                if name and name.isprintable():
                    return name
            except UnicodeDecodeError:
                pass
    n = raw[0]
    if 0 < n <= 53:
        try:
            name = raw[1:1 + n].decode("cp1251").strip("\x00 ")
            return name or None
        except UnicodeDecodeError:
            return None
    return None
