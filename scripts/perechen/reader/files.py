"""Load the master file's bytes and say what they are: .xlsx, .ods, or which other kind of file (with
the file-error code and Russian message for each), then open the zip and read the workbook part."""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..models import FileError
from ..rules import Rules
from .extent import _HUGE, MAX_SHEET_CELLS, _letters
from .guards import _check_prolog, _check_sizes, _damaged, _num_ru, _short, read_part
from .package import Package, SheetPart
from .scan import RawScan

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
MAX_ZIP_MEMBERS = 10_000


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
            raise FileError("permission", rules.file_error("permission", path, _short(e)), path) from None
        if path.is_dir():
            raise FileError("is_directory", rules.file_error("is_directory", path), path)
        try:
            with path.open("rb") as f:
                data = f.read()
            st2 = path.stat()
        except PermissionError as e:
            raise FileError("permission", rules.file_error("permission", path, _short(e)), path) from None
        except FileNotFoundError:
            # Replaced by an atomic rename while we read: try again.
            if attempt < attempts:
                sleep(lim.unstable_delay_seconds)
                continue
            raise FileError("not_found", rules.file_error("not_found", path), path) from None
        except OSError as e:
            raise FileError("read_failed", rules.file_error("read_failed", path, _short(e)), path) from None
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
    from .. import ods

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
        detail = f"content.xml ({_short(e)})"
        raise FileError("xml_broken", rules.file_error("xml_broken", path, detail), path) from None
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
