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
import functools
import gc
import hashlib
import io
import operator
import posixpath
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cells import col_index, col_letter, ref_key
from .models import FileError, Finding, PerechenError, Register, Row
from .rules import Rules
from .text import header_key, mixed_script_words, normalize, parse_date_text, ru_date

Progress = Callable[[str, int, int], None]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d{1,7})"')
_T_ATTR = re.compile(rb'\bt="([a-z]+)"')
_HIDDEN_ATTR = re.compile(rb'hidden="(?:1|true)"')
_ROW_NUM = re.compile(rb'\br="(\d+)"')
_REF_SPLIT = re.compile(r"([A-Z]+)(\d+)")
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#BUSY!", "#CONNECT!"}


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
            # Written to within the last moments: still being saved (or copied from a slow share);
            # an old file without its directory is damaged, and identify() says so.
            stable = time.time() - st2.st_mtime > max(5.0, 5 * lim.unstable_delay_seconds * attempts)
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

# Cells calamine may allocate for one sheet (it builds a dense width × height grid of 32-byte cells,
# and aborts the whole process when an allocation fails). A register of 200,000 rows × 30 columns fits.
MAX_SHEET_CELLS = 6_000_000
MAX_ZIP_MEMBERS = 10_000
MAX_PROLOG_BYTES = 1_000_000


@dataclass
class SheetPart:
    name: str
    part: str
    state: str = "visible"
    kind: str = "worksheet"  # worksheet | chartsheet | other
    scan: RawScan | None = None


@dataclass
class Package:
    """The opened, checked .xlsx zip."""

    zf: zipfile.ZipFile
    sheets: list[tuple[str, str, str]] = field(default_factory=list)  # (name, part path, state)
    parts: list[SheetPart] = field(default_factory=list)
    date1904: bool = False
    strict: bool = False
    stale_formulas: bool = False  # calcPr fullCalcOnLoad: cached values were not computed by the writer
    kind: str = "xlsx"  # xlsx | ods (OpenDocument: sheets and scans come from content.xml, see _open_ods)


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
        infos = zf.infolist()
    except Exception as e:  # BadZipFile, LargeZipFile, ValueError, struct.error, OSError, EOFError …
        detail = ("архив записан не до конца (нет каталога архива)" if not _zip_complete(data)
                  else f"архив повреждён ({_short(e)})")
        raise FileError("zip_damaged", rules.file_error("zip_damaged", path, detail), path) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise FileError("zip_damaged", rules.file_error(
            "zip_damaged", path, f"в архиве {len(infos)} частей — книги Excel столько не содержат"), path)
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise FileError("zip_damaged", rules.file_error(
                "zip_damaged", path, f"часть {info.filename} записана в архив дважды"), path)
        seen.add(info.filename)
    names = seen
    if "word/document.xml" in names:
        raise FileError("word", rules.file_error("word", path), path)
    if any(n.startswith("ppt/") for n in names):
        raise FileError("not_xlsx", rules.file_error("not_xlsx", path, "это презентация PowerPoint"), path)
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        if "mimetype" in names:
            return _open_ods(zf, path, rules)
        detail = "в архиве нет книги Excel (xl/workbook.xml)"
        raise FileError("not_xlsx", rules.file_error("not_xlsx", path, detail), path)
    if "xl/workbook.bin" in names:
        raise FileError("not_xlsx", rules.file_error(
            "not_xlsx", path, "это двоичная книга Excel (.xlsb); сохраните её как «Книга Excel (*.xlsx)»"), path)
    _check_sizes(zf, path, rules)
    pkg = Package(zf=zf)
    # Every XML part is checked for DTDs before anything parses it.
    for info in infos:
        if not info.is_dir():
            _check_prolog(pkg, info, path, rules)
    _read_workbook_part(pkg, path, rules)
    return pkg


# Characters that repeated cells and <text:s text:c="…"/> may add to an .ods (calamine builds them all).
MAX_ODS_AMPLIFIED_CHARS = 50_000_000
MAX_ODS_CELL_CHARS = 1_000_000


def _open_ods(zf: zipfile.ZipFile, path: Path, rules: Rules) -> Package:
    """An OpenDocument spreadsheet: the same zip and DTD guards as .xlsx, then content.xml walked once
    (perechen.ods) for calamine's allocation and the cells calamine does not expose."""
    from . import ods

    _check_sizes(zf, path, rules)
    pkg = Package(zf=zf, kind="ods")
    for info in zf.infolist():
        if not info.is_dir():
            _check_prolog(pkg, info, path, rules)
    mime = read_part(pkg, "mimetype", path, rules)[:200]
    if not mime.startswith(ods.MIMETYPE):
        what = mime.decode("ascii", "replace").strip() or "неизвестный тип"
        raise FileError("not_xlsx", rules.file_error("not_xlsx", path, (
            f"это документ OpenDocument ({what}), а не электронная таблица (.ods)")), path)
    names = set(zf.namelist())
    for part in ("META-INF/manifest.xml", "content.xml"):
        if part not in names:
            raise _damaged(path, rules, part)
    if b"encryption-data" in read_part(pkg, "META-INF/manifest.xml", path, rules):
        raise FileError("encrypted", rules.file_error("encrypted", path), path)
    try:
        content = ods.scan_content(read_part(pkg, "content.xml", path, rules))
    except ods.OdsMarkupError as e:
        raise FileError("xml_broken", rules.file_error("xml_broken", path, f"content.xml ({e})"), path) from None
    lim = rules.schema.limits
    max_row = lim.max_rows + rules.schema.register_spec.header_search_rows
    max_col = lim.max_columns
    budget = min(MAX_SHEET_CELLS, max_row * max_col)
    total = 0

    def ref(pos: tuple[int, int]) -> str:
        c, r = pos
        return f"{_letters(c)}{r}" if c <= 16_384 and r < ods.HUGE else "за пределами листа"

    def fail(sheet: str, detail: str) -> FileError:
        return FileError("sheet_too_large", rules.file_error("sheet_too_large", path, f"«{sheet}»: {detail}"), path)

    limits_txt = f"выходит за пределы {max_row:,} строк и {max_col} столбцов".replace(",", " ")
    seen: set[str] = set()
    for t in content.tables:
        if t.name in seen:
            raise FileError("xml_broken", rules.file_error(
                "xml_broken", path, f"content.xml (лист «{t.name}» указан дважды)"), path)
        seen.add(t.name)
        if t.width > max_col:
            raise fail(t.name, f"значение в ячейке {ref(t.far_col)} {limits_txt}")
        if t.height > max_row:
            raise fail(t.name, f"значение в ячейке {ref(t.far_row)} {limits_txt}")
        total += t.height * t.width
        if total > budget:
            raise fail(t.name, f"значение в ячейке {ref(t.far_col)} — листы книги заняли бы больше "
                               f"{budget:,} ячеек".replace(",", " "))
        if t.longest_text > MAX_ODS_CELL_CHARS:
            n = _num_ru(min(t.longest_text, _HUGE))
            raise fail(t.name, f"текст ячейки {ref(t.longest_at)} развернулся бы в {n} символов (text:s)")
        if t.amplified_chars > MAX_ODS_AMPLIFIED_CHARS:
            raise fail(t.name, f"повторы ячеек и пробелов (number-columns-repeated, number-rows-repeated, text:s) "
                               f"развернулись бы в {_num_ru(min(t.amplified_chars, _HUGE))} символов")
        state = "hidden" if t.hidden else "visible"
        scan = RawScan(
            formulas_without_value={ref(p): "=" + f.lstrip("=") for p, f in t.formulas_without_value.items()},
            formulas={ref(p) for p in t.formulas}, formulas_cached={ref(p) for p in t.formulas_cached},
            errors={ref(p): e for p, e in t.errors.items()},
            hidden_rows=[r for a, b in t.hidden_rows for r in range(a, min(b, max(t.height, a)) + 1)],
            merged=[f"{ref((c1, r1))}:{ref((c2, r2))}" for c1, r1, c2, r2 in t.merged],
            autofilter=t.autofilter)
        pkg.sheets.append((t.name, "content.xml", state))
        pkg.parts.append(SheetPart(name=t.name, part="content.xml", state=state, kind="worksheet", scan=scan))
    if not pkg.sheets:
        raise FileError("no_sheets", rules.file_error("no_sheets", path), path)
    return pkg


def _ole_error(data: bytes, path: Path, rules: Rules) -> FileError:
    def utf16(s: str) -> bytes:
        return s.encode("utf-16-le")

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
    """Refuse a zip bomb from its directory, before inflating anything.

    The declared sizes are what counts: zipfile and calamine's zip reader both stop with an error
    when a part inflates to more than its declared size.
    """
    lim = rules.schema.limits
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > 50_000_000 and ratio > lim.max_compression_ratio:
            raise FileError("zip_bomb", rules.file_error(
                "zip_bomb", path, f"{_mb(info.file_size)} (часть {info.filename} сжата в {ratio:.0f} раз)"), path)
        if info.file_size > lim.max_uncompressed_bytes:
            raise FileError("zip_bomb", rules.file_error(
                "zip_bomb", path, f"{_mb(info.file_size)} (часть {info.filename})"), path)
    if total > lim.max_uncompressed_bytes:
        raise FileError("zip_bomb", rules.file_error("zip_bomb", path, _mb(total)), path)


def _num_ru(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.0f} МБ".replace(",", " ")


def _damaged(path: Path, rules: Rules, name: str, e: BaseException | None = None) -> FileError:
    if e is None:
        detail = f"нет части {name}"
    elif isinstance(e, RuntimeError) and "password" in str(e).lower():
        detail = f"часть {name} зашифрована средствами архива"
    else:
        detail = f"часть {name} не распаковывается ({_short(e)})"
    return FileError("zip_damaged", rules.file_error("zip_damaged", path, detail), path)


def read_part(pkg: Package, name: str, path: Path, rules: Rules) -> bytes:
    """Inflate one part, bounded by its declared size (zipfile checks size and CRC)."""
    try:
        return pkg.zf.read(name)
    except KeyError:
        raise _damaged(path, rules, name) from None
    except Exception as e:  # BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError …
        raise _damaged(path, rules, name, e) from None


def _check_prolog(pkg: Package, info: zipfile.ZipInfo, path: Path, rules: Rules) -> None:
    """Refuse a part whose XML prolog carries a DTD (<!DOCTYPE …>, hence entity declarations), or whose
    root element announces more shared strings than the part can hold.

    A DTD may only stand in the prolog, before the root element, so only the head of each part is
    inflated. UTF-16 parts are decoded; parts that are not XML (images, vbaProject.bin) pass.
    """
    name = info.filename
    buf = b""
    verdict: str | None = None
    root_tag: re.Match[bytes] | None = None
    try:
        with pkg.zf.open(info) as f:
            final = False
            while True:
                chunk = f.read(4096 if not buf else 65536)
                final = not chunk
                buf += chunk
                verdict, data, at = _prolog_scan(buf, final)
                if verdict is not None and at >= 0 and verdict == "ok":
                    root_tag = _START_TAG.match(data, at)
                    if root_tag is None and not final and len(buf) <= MAX_PROLOG_BYTES:
                        continue  # the root's start tag is not complete yet
                if verdict is not None:
                    break
                if len(buf) > MAX_PROLOG_BYTES:
                    verdict = "long"
                    break
    except Exception as e:  # damaged or encrypted member
        raise _damaged(path, rules, name, e) from None
    if verdict == "dtd":
        raise FileError("xml_dtd", rules.file_error("xml_dtd", path, name), path)
    if verdict == "long":
        raise FileError("xml_broken", rules.file_error(
            "xml_broken", path, f"{name} (слишком длинное начало до корневого элемента)"), path)
    if root_tag is not None:
        # calamine reserves memory for uniqueCount shared strings up front (24 bytes each): a forged
        # uniqueCount="4000000000" asks for 96 GB and aborts the process.
        for m in _UNIQUE_COUNT.finditer(root_tag.group(0)):
            n = _big_int(m.group(1))
            cap = max(1000, info.file_size // 4)
            if n > cap:
                raise FileError("xml_broken", rules.file_error("xml_broken", path, (
                    f"{name} (в заголовке указано {_num_ru(min(n, _HUGE))} строк, а в части их не может быть "
                    f"больше {_num_ru(cap)})")), path)


_PROLOG_WS = b" \t\r\n"
_START_TAG = re.compile(rb"""<[^\s>/!?]+(?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_UNIQUE_COUNT = re.compile(rb"""[\s:]uniqueCount\s*=\s*["']\s*\+?(\d+)""")


def _prolog_verdict(buf: bytes, final: bool) -> str | None:
    """'ok' (root element reached or not XML), 'dtd', or None (need more bytes)."""
    return _prolog_scan(buf, final)[0]


def _prolog_scan(buf: bytes, final: bool) -> tuple[str | None, bytes, int]:
    """(verdict, the head as UTF-8 bytes, index of the root element's '<' or -1)."""
    if buf[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(buf) >= 2 and (buf[0] == 0 or buf[1] == 0)):
        enc = "utf-16-be" if buf[:2] == b"\xfe\xff" or buf[:1] == b"\0" else "utf-16-le"
        text = buf[: len(buf) & ~1].decode(enc, "replace").lstrip("\ufeff")
        data = text.encode("utf-8", "replace")
    else:
        data = buf[3:] if buf.startswith(b"\xef\xbb\xbf") else buf
    i, n = 0, len(data)
    while True:
        while i < n and data[i] in _PROLOG_WS:
            i += 1
        if i >= n:
            return ("ok" if final else None), data, -1
        if data[i] != 0x3C:  # not '<': not XML (or text before the root: the parser will object)
            return "ok", data, -1
        if n - i < 9 and not final:
            return None, data, -1
        if data.startswith(b"<?", i):
            j = data.find(b"?>", i + 2)
            if j < 0:
                return ("ok" if final else None), data, -1
            i = j + 2
        elif data.startswith(b"<!--", i):
            j = data.find(b"-->", i + 4)
            if j < 0:
                return ("ok" if final else None), data, -1
            i = j + 3
        elif data.startswith(b"<!", i):
            return "dtd", data, i  # <!DOCTYPE, <!ENTITY or any other declaration before the root
        else:
            return "ok", data, i


_NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_CANONICAL_SHEET = re.compile(r"(?:/xl/)?worksheets/[^/\\:?#%]+\.xml")


def _read_workbook_part(pkg: Package, path: Path, rules: Rules) -> None:
    from defusedxml import ElementTree as DET
    from defusedxml.common import DefusedXmlException

    part = "xl/workbook.xml"
    try:
        wb = DET.fromstring(read_part(pkg, part, path, rules))
        part = "xl/_rels/workbook.xml.rels"
        rels = DET.fromstring(read_part(pkg, part, path, rules))
    except DefusedXmlException:
        raise FileError("xml_dtd", rules.file_error("xml_dtd", path, part), path) from None
    except FileError:
        raise
    except Exception as e:  # ParseError
        raise FileError("xml_broken", rules.file_error("xml_broken", path, f"{part} ({_short(e)})"), path) from None
    pkg.strict = wb.tag.startswith("{" + _NS_STRICT)
    targets: dict[str, str] = {}
    raw_targets: dict[str, str] = {}
    for rel in rels:
        rid, target = rel.get("Id"), rel.get("Target") or ""
        if rid and rel.get("TargetMode") != "External":
            if target.startswith("/"):
                tpart = target.lstrip("/")
            else:
                tpart = posixpath.normpath("xl/" + target)
            targets[rid] = tpart
            raw_targets[rid] = target
    names_seen: set[str] = set()
    for el in wb.iter():
        if not isinstance(el.tag, str):
            continue
        local = el.tag.rsplit("}", 1)[-1]
        if local == "workbookPr":
            pkg.date1904 = (el.get("date1904") or "").lower() in {"1", "true"}
        elif local == "calcPr":
            pkg.stale_formulas = (el.get("fullCalcOnLoad") or "").lower() in {"1", "true"}
        elif local == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), "")
            name, target = el.get("name") or "", targets.get(rid, "")
            if name in names_seen:
                raise FileError("xml_broken", rules.file_error(
                    "xml_broken", path, f"xl/workbook.xml (лист «{name}» указан дважды)"), path)
            names_seen.add(name)
            state = el.get("state") or "visible"
            # Only a plainly written target is read: calamine resolves relationship targets itself, and
            # the part it reads must be the very part whose size the extent guard has checked.
            kind = ("worksheet" if _CANONICAL_SHEET.fullmatch(raw_targets.get(rid, ""))
                    else "chartsheet" if "chartsheets/" in target else "other")
            pkg.sheets.append((name, target, state))
            pkg.parts.append(SheetPart(name=name, part=target, state=state, kind=kind))
    if not pkg.sheets:
        raise FileError("no_sheets", rules.file_error("no_sheets", path), path)


# --------------------------------------------------------------------------------------------------
# Sheet XML: extent guard and the raw scan
# --------------------------------------------------------------------------------------------------

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
    for m in pt["f_start"].finditer(xml):
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
        i = xml.find(b't="e"', pos)
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
    for m in _HIDDEN_ATTR.finditer(xml):
        lt = xml.rfind(b"<", 0, m.start())
        gt = xml.find(b">", m.start())
        tag = xml[lt:gt + 1]
        if pt["row_tag"].match(tag):
            rn = _ROW_NUM.search(tag)
            if rn:
                scan.hidden_rows.append(int(rn.group(1)))
    # <autoFilter> and <mergeCells> follow <sheetData> in a worksheet (CT_Worksheet's sequence).
    tail = max(0, xml.rfind(b"sheetData>"))
    scan.merged = [m.group(1).decode() for m in pt["merge"].finditer(xml, tail)]
    scan.autofilter = pt["autofilter"].search(xml, tail) is not None
    return scan


def _xml_unescape(s: str) -> str:
    from html import unescape
    return unescape(s)


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
_ODD_R = re.compile(rb"r(?:\s+=|=\s|=')")  # may also hit text: then only the slower exact path runs
_RLESS = re.compile(rb'<(?:c|row)(?:[>/]|\s+(?!r="))')


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
    pos = 0
    while True:
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
    body_at = xml.find(b"?>") + 2 if xml.startswith(b"<?") else 0
    if (prefix or xml.find(b"<!", body_at) >= 0 or xml.find(b"<?", body_at) >= 0 or _ODD_PREFIXED.search(xml)
            or _ODD_R.search(xml) or _RLESS.search(xml)):
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
        return  # height <= max_row and width <= fast_cols: within the budget
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


def read_register(path: str | Path, rules: Rules | None = None, *, progress: Progress | None = None) -> Register:
    """Read the register sheet of a workbook. Raises FileError when the file cannot be read.

    Nothing but :class:`~perechen.models.PerechenError` leaves this function: an unexpected exception
    becomes a FileError «reader_bug» (the fuzzers treat that code as a crash).
    """
    rules = rules or Rules.load()
    path = Path(path)
    started = time.monotonic()
    gc_was_on = gc.isenabled()
    gc.disable()  # bulk loading: the collector would rescan every row list many times over
    try:
        data = load_bytes(path, rules)
        pkg = identify(data, path, rules)
        reader = _SheetReader(path, rules, pkg, data, started, progress)
        reg = reader.read()
    except (PerechenError, KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        raise FileError("sheet_too_large", rules.file_error(
            "sheet_too_large", path, "не хватило памяти при чтении книги"), path) from None
    except BaseException as e:  # incl. pyo3's PanicException, which is not an Exception
        raise FileError("reader_bug", rules.file_error(
            "reader_bug", path, f"{type(e).__name__}: {_short(e)}"), path) from e
    finally:
        if gc_was_on:
            gc.enable()
    reg.sha256 = hashlib.sha256(data).hexdigest()
    reg.data = data
    return reg


_HAS_LATIN = re.compile(r"[A-Za-z]")
# Text made only of these needs nothing from normalize() but trimming (checked with is_normalized too).
_PLAIN_TEXT = re.compile(r"[^ \n\u0400-\u045f0-9.,;:!?()«»\"'№/%+=*#&@_\[\]-]")
_CellInfo = tuple[Any, bool, list[tuple[str, str]]]  # normalised value, changed, mixed-script words


class _SheetReader:
    def __init__(self, path: Path, rules: Rules, pkg: Package, data: bytes, started: float,
                 progress: Progress | None) -> None:
        self.path, self.rules, self.pkg, self.data = path, rules, pkg, data
        self.started = started
        self.progress = progress
        self.findings: list[Finding] = []
        self._norm_cache: dict[str, str] = {}
        self._cell_cache: dict[str, _CellInfo] = {}

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
                       row=row, column=column, field=field_name, value=value, title=chk.title)

    def _calamine_error(self, e: BaseException, sheet: SheetPart | None = None) -> FileError:
        """Name the damaged part when calamine stumbles over one; else say what calamine said."""
        import python_calamine as pc
        from defusedxml import ElementTree as DET

        if isinstance(e, pc.PasswordError):
            return self._fail("encrypted")
        for info in self.pkg.zf.infolist():
            try:
                self.pkg.zf.read(info)
            except Exception as ze:
                return _damaged(self.path, self.rules, info.filename, ze)
        if self.pkg.kind == "ods":  # calamine's own (English) reason is not shown to the clerk
            return self._fail("read_failed", "таблицы в части content.xml записаны так, как их не записывает ни "
                                             "одна офисная программа (например, число повторов ячеек со знаком "
                                             "или пробелами)")
        if sheet is not None:
            # A worksheet calamine could not parse: name its part (the XML error is calamine's, in English).
            return self._fail("xml_broken", f"{sheet.part} (лист «{sheet.name}»: {_short(e)})")
        # Opening failed ("Cannot detect file format" hides the reason): find the broken part ourselves.
        names = set(self.pkg.zf.namelist())
        for part in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/workbook.xml",
                     "xl/styles.xml", "xl/sharedStrings.xml"):
            if part not in names:
                continue
            try:
                DET.fromstring(self.pkg.zf.read(part))
            except Exception as pe:
                return self._fail("xml_broken", f"{part} ({_short(pe)})")
        if "detect file format" in str(e):
            missing = [p for p in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels", "xl/styles.xml")
                       if p not in names]
            detail = ("части книги не согласуются друг с другом"
                      + (f" (нет частей: {', '.join(missing)})" if missing else " (связи между частями нарушены)"))
            return self._fail("read_failed", detail)
        return self._fail("read_failed", _short(e))

    # -- main ------------------------------------------------------------------------------------
    def _prepare_sheets(self) -> None:
        """Inflate every worksheet once: refuse sizes calamine cannot hold, scan the raw XML."""
        if self.pkg.kind == "ods":
            return  # content.xml was walked by _open_ods
        names = set(self.pkg.zf.namelist())
        for sp in self.pkg.parts:
            if sp.kind != "worksheet":
                continue
            if sp.part not in names:
                raise _damaged(self.path, self.rules, f"{sp.part} (лист «{sp.name}»)")
            xml = read_part(self.pkg, sp.part, self.path, self.rules)
            prefix = sheet_prefix(xml)
            check_extent(xml, sp.name, self.path, self.rules, prefix)
            sp.scan = scan_sheet_xml(xml, prefix)
            del xml
            self._budget()

    def read(self) -> Register:
        import python_calamine as pc

        if self.progress:
            self.progress("Чтение книги", 0, 1)
        self._prepare_sheets()
        try:
            wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(self.data))
            meta = list(wb.sheets_metadata)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # CalamineError … and pyo3's PanicException
            raise self._calamine_error(e) from None
        spec = self.rules.schema.register_spec
        parts = {sp.name: sp for sp in self.pkg.parts}
        candidates: list[tuple[str, SheetPart, int, dict[int, str], list[list[Any]]]] = []
        info_sheet: tuple[str, list[list[Any]]] | None = None
        sheet_names = [name for name, _, _ in self.pkg.sheets]
        for i, md in enumerate(meta):
            sp = parts.get(md.name)
            if sp is None or sp.kind != "worksheet" or sp.scan is None or md.typ != pc.SheetTypeEnum.WorkSheet:
                continue  # chart sheets, and anything the extent guard has not seen
            try:
                rows = wb.get_sheet_by_index(i).to_python(skip_empty_area=False)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:
                raise self._calamine_error(e, sp) from None
            self._budget()
            found = self._find_header(rows[: spec.header_search_rows])
            if found is not None:
                hdr_idx, mapping = found
                candidates.append((md.name, sp, hdr_idx, mapping, rows))
            if info_sheet is None and header_key(md.name) == header_key(self.rules.schema.info.sheet):
                info_sheet = (md.name, rows)
            elif found is None:
                del rows
        if not candidates:
            listed = ", ".join(f"«{n}»" for n in sheet_names)
            raise self._fail("no_register", f"Листы книги: {listed}.")
        visible = [c for c in candidates if c[1].state == "visible"]
        if len(candidates) > 1 and len(visible) == 1:
            candidates = visible  # a hidden helper sheet that looks like the register is not it
        if len(candidates) > 1:
            raise self._fail("many_registers", ", ".join(f"«{c[0]}»" for c in candidates))
        name, sp, hdr_idx, mapping, rows = candidates[0]
        reg = self._read_rows(name, sp.scan or RawScan(), hdr_idx, mapping, rows)
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
        max_cols = self.rules.schema.limits.max_columns
        for i, row in enumerate(rows):
            mapping: dict[int, str] = {}
            for j, v in enumerate(row[:max_cols]):
                if isinstance(v, str) and v and len(v) < 500:
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

    def _cell_text(self, v: str) -> _CellInfo:
        """Normalise a text cell once per distinct text (registers repeat values a lot)."""
        info = self._cell_cache.get(v)
        if info is None:
            if _PLAIN_TEXT.search(v) is None and "  " not in v and unicodedata.is_normalized("NFC", v):
                # Cyrillic, digits and ordinary punctuation only: normalize() would only trim it.
                nv = v.strip()
                info = (nv or None, nv != v, [])
            else:
                nv = normalize(v)
                mixed = mixed_script_words(nv) if not nv.isascii() and _HAS_LATIN.search(nv) else []
                info = (nv or None, nv != v, mixed)
            if len(self._cell_cache) < 500_000:
                self._cell_cache[v] = info
        return info

    def _read_rows(self, sheet: str, scan: RawScan, hdr_idx: int, mapping: dict[int, str],
                   rows: list[list[Any]]) -> Register:
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
                # A second column of a never-published field (a «Комментарий» beside «Примечание»): a warning.
                code = ("duplicate-note-column" if rules.has_check("duplicate-note-column")
                        and f in rules.check("duplicate-note-column").params.get("fields", []) else "duplicate-column")
                self.findings.append(self._finding(code, sheet, ref, header_row_no, letter,
                                                   value=text, field_name=f))
                continue
            columns[f] = letter
            headers[f] = text
            col_fields.append((j, f))
        for col in rules.schema.columns:
            if col.required and col.field not in columns:
                self.findings.append(self._finding("missing-column", sheet, f"A{header_row_no}", header_row_no, None,
                                                   field_name=col.field))
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
        out = self._convert_rows(sheet, rows, hdr_idx, last, col_fields, columns, date_fields, hidden)
        total = n_data
        findings = self.findings
        data_cols = {letter for letter in columns.values()}
        known_rows = {r.number for r in out}
        last_row = out[-1].number if out else header_row_no

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
        for ref, text in sorted(scan.errors.items(), key=lambda kv: ref_key(kv[0])):
            loc = in_data(ref)
            if loc is None:
                continue
            letter, rn = loc
            problem_cells.add(ref)
            f = field_of[letter]
            if rn in row_by_no:
                row_by_no[rn].values[f] = None
                row_by_no[rn].original[f] = text
            findings.append(self._finding("error-value", sheet, ref, rn, letter, value=text, field_name=f))
        stale = {ref: "" for ref in scan.formulas_cached} if self.pkg.stale_formulas else {}
        for ref, ftext in sorted({**stale, **scan.formulas_without_value}.items(), key=lambda kv: ref_key(kv[0])):
            loc = in_data(ref)
            if loc is None or ref in problem_cells:
                continue
            letter, rn = loc
            problem_cells.add(ref)
            f = field_of[letter]
            if not ftext:  # cached by a writer that does not calculate (fullCalcOnLoad): not to be trusted
                ftext = "(значение не пересчитано)"
                if rn in row_by_no:
                    row = row_by_no[rn]
                    if row.values.get(f) is not None:
                        row.original.setdefault(f, row.values[f])
                    row.values[f] = None
            findings.append(self._finding("formula-no-value", sheet, ref, rn, letter, value=ftext,
                                          field_name=f, detail=ftext))
        data_idx = sorted(col_index(letter) for letter in data_cols)
        for rng in scan.merged:
            a, _, b = rng.partition(":")
            ma, mb = _REF_SPLIT.fullmatch(a), _REF_SPLIT.fullmatch(b or a)
            if not ma or not mb:
                continue
            c1, r1, c2, r2 = col_index(ma.group(1)), int(ma.group(2)), col_index(mb.group(1)), int(mb.group(2))
            if r2 <= header_row_no or r1 > last_row:
                continue
            touched = [col_letter(c) for c in data_idx if c1 <= c <= c2]
            if not touched:
                continue
            for rn in range(max(r1, header_row_no + 1), min(r2, last_row) + 1):
                for letter in touched:
                    problem_cells.add(f"{letter}{rn}")
            letter = col_letter(c1) if col_letter(c1) in data_cols else touched[0]
            findings.append(self._finding("merged-cells", sheet, a, r1, letter, value=rng,
                                          field_name=field_of.get(letter), detail=rng))
        hidden_data = sorted(r for r in hidden if r in known_rows)
        if hidden_data:
            by = " фильтром" if scan.autofilter else ""
            findings.append(self._finding("hidden-rows", sheet, f"A{hidden_data[0]}", hidden_data[0], None,
                                          detail=_ranges(hidden_data), expected=by))
        reg = Register(path=self.path, sheet=sheet, header_row=header_row_no, columns=columns, headers=headers,
                       rows=out)
        reg.problem_cells = problem_cells
        reg.formula_cells = scan.formulas
        reg.lock_owner = lock_owner(self.path)
        if reg.lock_owner:
            findings.append(self._finding("workbook-open", None, None, None, None, detail=reg.lock_owner))
        if self.progress:
            self.progress("Чтение строк", total, total)
        return reg

    def _convert_rows(self, sheet: str, rows: list[list[Any]], hdr_idx: int, last: int,
                      col_fields: list[tuple[int, str]], columns: dict[str, str], date_fields: set[str],
                      hidden: set[int]) -> list[Row]:
        """Turn calamine's rows into Row objects, column by column.

        Each distinct text of a column is normalised once; per cell only list comprehensions and
        dict lookups run (this is the hot loop of a 100,000-row register).
        """
        idx = [i for i in range(hdr_idx + 1, last) if not _blank(rows[i])]
        data = [rows[i] for i in idx]
        numbers = [i + 1 for i in idx]
        originals: dict[int, dict[str, Any]] = {}
        columns_out: list[list[Any]] = []
        fields = [f for _, f in col_fields]
        js = [j for j, _ in col_fields]
        if js and data:
            try:
                picked = list(map(operator.itemgetter(*js), data)) if len(js) > 1 else [(r[js[0]],) for r in data]
            except IndexError:
                picked = [tuple(r[j] if j < len(r) else None for j in js) for r in data]
            cols: list[tuple[Any, ...]] = list(zip(*picked, strict=True))
            del picked
        else:
            cols = [() for _ in js]
        for n_col, (f, col) in enumerate(zip(fields, cols, strict=True)):
            self._budget()
            if self.progress:
                self.progress("Чтение строк", n_col, len(fields))
            if f in date_fields:
                columns_out.append([None if v is None or v == "" else self._to_date(v) for v in col])
                continue
            uniq = set(col)
            texts = [v for v in uniq if v.__class__ is str]
            only_text = len(texts) == len(uniq)
            nv_map: dict[str, Any] = {}
            changed: set[str] = set()
            mixed: dict[str, list[tuple[str, str]]] = {}
            if _plain_texts(texts):
                nv_map = dict(zip(texts, texts, strict=True))
                if "" in nv_map:
                    nv_map[""] = None
            else:
                for v in texts:
                    nv, ch, mx = self._cell_text(v)
                    nv_map[v] = nv
                    if ch:
                        changed.add(v)
                    if mx:
                        mixed[v] = mx
            if only_text:
                vals = list(map(nv_map.__getitem__, col))
            else:
                vals = [nv_map[v] if v.__class__ is str else _other_value(v) for v in col]
            if changed or mixed or not only_text:
                letter = columns[f]
                for k, v in enumerate(col):
                    if v.__class__ is str:
                        if v in changed:
                            originals.setdefault(k, {})[f] = v
                        words = mixed.get(v)
                        if words:
                            rn = numbers[k]
                            for word, latin in words:
                                self.findings.append(self._finding(
                                    "mixed-script", sheet, f"{letter}{rn}", rn, letter, value=vals[k], field_name=f,
                                    detail=word, expected=", ".join(latin)))
                    elif (v is not None and not isinstance(v, (int, str))) or isinstance(v, bool):
                        originals.setdefault(k, {})[f] = v
            columns_out.append(vals)
        out: list[Row] = []
        if not fields:
            return [Row(number=rn, values={}, original={}, hidden=rn in hidden) for rn in numbers]
        for k, vals_row in enumerate(zip(*columns_out, strict=True)):
            rn = numbers[k]
            out.append(Row(number=rn, values=dict(zip(fields, vals_row, strict=True)),
                           original=originals.get(k) or {}, hidden=rn in hidden))
        return out

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


def _blank(row: list[Any]) -> bool:
    for v in row:
        if v is None or v == "":
            continue
        if isinstance(v, str) and not v.strip():
            continue
        return False
    return True


_PLAIN_JOINED = re.compile(r"[^\x00 \n\u0400-\u045f0-9.,;:!?()«»\"'№/%+=*#&@_\[\]-]")


def _plain_texts(texts: list[str]) -> bool:
    """True when every text is already normalised (plain Cyrillic text, no spaces to trim), in one pass."""
    if not texts:
        return True
    joined = "\x00".join(texts)
    return (_PLAIN_JOINED.search(joined) is None and "  " not in joined and "\x00 " not in joined
            and " \x00" not in joined and "\x00\n" not in joined and "\n\x00" not in joined
            and not joined[:1].isspace() and not joined[-1:].isspace() and unicodedata.is_normalized("NFC", joined))


def _other_value(v: Any) -> Any:
    """A non-text cell in a text column, as text (None for an empty cell)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "да" if v else "нет"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    if isinstance(v, dt.date):
        return ru_date(v)
    if isinstance(v, str):  # a str subclass
        return normalize(str(v)) or None
    return str(v)


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
