"""Build the corpus of hostile and broken workbooks the reader must survive (issue 7, part 1).

Every case is generated here from the bundled register (``scripts/make_workbook.py``) or from scratch;
nothing is a binary blob of unknown origin. Each case says what the reader must answer: a FileError
code, or the rows it reads and the findings (code, cell) it reports.

    python tests/corpus/make_corpus.py OUTDIR      # build every case into OUTDIR/<case>/<file>

Tests call :func:`corpus_dir` which builds once into a cache folder keyed by this script's source
(cases that need LibreOffice or msoffcrypto-tool are skipped when those are missing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

from perechen.models import Register  # noqa: E402
from perechen.rules import Rules  # noqa: E402
from perechen.template import build_workbook  # noqa: E402

SHEET1 = "xl/worksheets/sheet1.xml"  # «Перечень» in the base workbook
OLD = time.time() - 3600  # mtime given to finished broken files, so the reader does not wait on them
USER = "Иванова Мария Петровна"


# --------------------------------------------------------------------------------------------------
# The base register and helpers
# --------------------------------------------------------------------------------------------------

def _example() -> Any:
    if "make_workbook" in sys.modules:
        return sys.modules["make_workbook"]
    spec = importlib.util.spec_from_file_location("make_workbook", ROOT / "scripts" / "make_workbook.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_workbook"] = mod
    spec.loader.exec_module(mod)
    return mod


_CACHE: dict[str, Any] = {}


def rules() -> Rules:
    if "rules" not in _CACHE:
        _CACHE["rules"] = Rules.load(ROOT / "rules")
    return _CACHE["rules"]  # type: ignore[no-any-return]


def rows() -> list[dict[str, Any]]:
    return [dict(r) for r in _example().rows()]


def base() -> bytes:
    """The bundled register as `perechen init` writes it: 8 rows, 4 sheets, no findings."""
    if "base" not in _CACHE:
        _CACHE["base"] = build_workbook(rules(), rows(), _example().INFO)
    return _CACHE["base"]  # type: ignore[no-any-return]


def members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def zip_of(parts: list[tuple[str, bytes]], level: int = 6) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, body in parts:
            zi = zipfile.ZipInfo(name, date_time=(2024, 2, 26, 10, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, body)
    return buf.getvalue()


def edit_parts(data: bytes, **edits: Callable[[bytes], bytes]) -> bytes:
    """Rewrite members by name (keyword: name with '/' as '__' and '.' as '_')."""
    out = []
    for name, body in members(data):
        key = name.replace("/", "__").replace(".", "_")
        if key in edits:
            body = edits[key](body)
        out.append((name, body))
    return zip_of(out)


def edit_part(data: bytes, name: str, fn: Callable[[bytes], bytes]) -> bytes:
    return zip_of([(n, fn(b) if n == name else b) for n, b in members(data)])


def add_parts(data: bytes, extra: list[tuple[str, bytes]]) -> bytes:
    return zip_of([*members(data), *extra])


def set_cell(xml: bytes, ref: str, cell: str) -> bytes:
    """Replace the <c r="ref"> element of a sheet (it must exist)."""
    pat = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
    new, n = pat.subn(cell.encode("utf-8"), xml, count=1)
    assert n == 1, ref
    return new


def with_openpyxl(fn: Callable[[Any], None], data: bytes | None = None) -> bytes:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data or base()))
    fn(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------------------------------
# OLE compound files (CFB), written by hand: encrypted workbooks, .xls, .doc
# --------------------------------------------------------------------------------------------------

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def cfb(streams: list[tuple[str, bytes]]) -> bytes:
    """A minimal version-3 compound file holding the given root-level streams.

    Streams shorter than the 4096-byte mini-stream cutoff are padded with zeros so that every stream
    lives in regular 512-byte sectors (no mini stream is needed). One FAT sector: up to 127 sectors.
    """
    streams = [(n, b.ljust(4096, b"\0")) for n, b in streams]
    n_dir_entries = 1 + len(streams)
    dir_sectors = (n_dir_entries * 128 + 511) // 512
    layout: list[tuple[int, int]] = []  # (first sector, count) per stream
    nxt = 1 + dir_sectors
    for _, body in streams:
        count = (len(body) + 511) // 512
        layout.append((nxt, count))
        nxt += count
    assert nxt <= 128, "corpus CFB writer holds one FAT sector only"
    fat = [FREESECT] * 128
    fat[0] = FATSECT
    for i in range(dir_sectors):
        fat[1 + i] = 1 + i + 1 if i < dir_sectors - 1 else ENDOFCHAIN
    for first, count in layout:
        for k in range(count):
            fat[first + k] = first + k + 1 if k < count - 1 else ENDOFCHAIN

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", left, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", start, size))

    dirs = [entry("Root Entry", 5, NOSTREAM, NOSTREAM, 1 if streams else NOSTREAM, ENDOFCHAIN, 0)]
    for i, ((name, body), (first, _)) in enumerate(zip(streams, layout, strict=True), start=1):
        right = i + 1 if i < len(streams) else NOSTREAM
        dirs.append(entry(name, 2, NOSTREAM, right, NOSTREAM, first, len(body)))
    dir_bytes = b"".join(dirs).ljust(dir_sectors * 512, b"\0")
    for k in range(dir_sectors * 4 - len(dirs)):  # unused entries: empty, with NOSTREAM links
        off = (len(dirs) + k) * 128
        dir_bytes = dir_bytes[:off + 68] + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + dir_bytes[off + 80:]
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108)
    assert len(header) == 512
    body = b"".join(b.ljust(count * 512, b"\0") for (_, b), (_, count) in zip(streams, layout, strict=True))
    return header + struct.pack("<128I", *fat) + dir_bytes + body


def biff8_workbook() -> bytes:
    """A BIFF8 «Workbook» stream: globals BOF … EOF, one sheet BOF … EOF (enough to be an .xls)."""
    def rec(kind: int, payload: bytes) -> bytes:
        return struct.pack("<HH", kind, len(payload)) + payload

    bof_globals = rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06))
    bof_sheet = rec(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x06))
    eof = rec(0x000A, b"")
    return bof_globals + rec(0x0042, struct.pack("<H", 1251)) + eof + bof_sheet + eof


def excel_owner_file(user: str) -> bytes:
    """Excel's «~$name.xlsx» owner file: length byte + ANSI name, at 0x36 length + UTF-16 name; 165 bytes."""
    ansi = user.encode("cp1251", "replace")[:53]
    raw = bytes([len(ansi)]) + ansi.ljust(53, b" ")
    raw += bytes([len(user), 0]) + user.encode("utf-16-le")
    return raw.ljust(165, b" ")


# --------------------------------------------------------------------------------------------------
# Case builders. Each gets its own empty folder and returns the path the reader is given.
# --------------------------------------------------------------------------------------------------

def _w(d: Path, name: str, data: bytes, mtime: float | None = None) -> Path:
    p = d / name
    p.write_bytes(data)
    if mtime is not None:
        os.utime(p, (mtime, mtime))
    return p


def b_missing(d: Path) -> Path:
    return d / "нет-такой-книги.xlsx"


def b_empty(d: Path) -> Path:
    return _w(d, "пустой.xlsx", b"", OLD)


def b_directory(d: Path) -> Path:
    (d / "перечень.xlsx").mkdir()
    return d / "перечень.xlsx"


def b_lock_as_workbook(d: Path) -> Path:
    _w(d, "perechen.xlsx", base())
    return _w(d, "~$perechen.xlsx", excel_owner_file(USER))


def b_lock_beside_excel(d: Path) -> Path:
    _w(d, "~$perechen.xlsx", excel_owner_file(USER))
    return _w(d, "perechen.xlsx", base())


def b_lock_beside_libreoffice(d: Path) -> Path:
    _w(d, ".~lock.perechen.xlsx#", "Петров Пётр,WS-12,petrov,30.11.2026 09:15,file:///C:/Users/petrov/AppData;"
       .encode())
    return _w(d, "perechen.xlsx", base())


def b_encrypted_cfb(d: Path) -> Path:
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<?xml version=\"1.0\"?><encryption/>"
    pkg = struct.pack("<Q", 12000) + os.urandom(4000)
    data = cfb([("EncryptionInfo", info), ("EncryptedPackage", pkg)])
    return _w(d, "с паролем.xlsx", data)


def b_encrypted_real(d: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile  # type: ignore[import-untyped]

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(base())).encrypt("Пароль-123", out)
    return _w(d, "с паролем.xlsx", out.getvalue())


def b_xls_biff8(d: Path) -> Path:
    return _w(d, "перечень.xlsx", cfb([("Workbook", biff8_workbook())]))


def b_xls_libreoffice(d: Path) -> Path:
    src = _w(d, "src.xlsx", base())
    out = soffice_convert(src, "xls", d)
    target = d / "перечень.xlsx"
    out.rename(target)
    src.unlink()
    return target


def b_doc_ole(d: Path) -> Path:
    return _w(d, "перечень.xlsx", cfb([("WordDocument", b"\xec\xa5\xc1\x00" + b"\0" * 600), ("1Table", b"\0" * 100)]))


def b_csv(d: Path) -> Path:
    text = "Код;Процесс;Наименование точки взаимодействия\nТВ-01;Приём заявок;Электронная почта\n"
    return _w(d, "перечень.xlsx", ("\ufeff" + text).encode("utf-8"))


def b_csv_cp1251(d: Path) -> Path:
    text = "Код,Процесс,Наименование точки взаимодействия\r\nТВ-01,Приём заявок,Электронная почта\r\n"
    return _w(d, "перечень.xlsx", text.encode("cp1251"))


def b_docx(d: Path) -> Path:
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.'
           'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Перечень</w:t></w:r></w:p>'
           '</w:body></w:document>')
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.wordprocessingml.document.main+xml"/></Types>')
    return _w(d, "перечень.xlsx", zip_of([("[Content_Types].xml", ct.encode()), ("word/document.xml", doc.encode())]))


def b_ods(d: Path) -> Path:
    return _w(d, "перечень.xlsx", zip_of([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                                          ("content.xml", b"<office:document-content/>")]))


def b_xlsb(d: Path) -> Path:
    return _w(d, "перечень.xlsx", zip_of([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.bin", b"\x83\x01\x00")]))


def b_pdf(d: Path) -> Path:
    return _w(d, "перечень.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


def b_html(d: Path) -> Path:
    html = "<html><head><meta charset='utf-8'></head><body><table><tr><td>Код</td></tr></table></body></html>"
    return _w(d, "перечень.xlsx", html.encode())


def b_xml2003(d: Path) -> Path:
    xml = ('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns="urn:schemas-microsoft-'
           'com:office:spreadsheet"><Worksheet ss:Name="Перечень"/></Workbook>')
    return _w(d, "перечень.xlsx", xml.encode())


def b_binary_junk(d: Path) -> Path:
    return _w(d, "перечень.xlsx", bytes(range(256)) * 8)


def b_zip_damaged(d: Path) -> Path:
    data = bytearray(base())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(SHEET1)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(200, 240):  # inside the deflate stream of «Перечень»
        data[start + k] ^= 0x5A
    return _w(d, "перечень.xlsx", bytes(data), OLD)


def b_truncated(d: Path) -> Path:
    data = base()
    return _w(d, "перечень.xlsx", data[: len(data) * 6 // 10], OLD)


def b_half_written(d: Path) -> Path:
    data = base()
    cd = data.rfind(b"PK\x01\x02")
    first_cd = data.find(b"PK\x01\x02")
    assert 0 < first_cd <= cd
    return _w(d, "перечень.xlsx", data[:first_cd], OLD)


def _patch_sizes(data: bytes, name: str, size: int, local: bool = True) -> bytes:
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    if local:
        struct.pack_into("<I", buf, info.header_offset + 22, size)
    raw = name.encode()
    i = buf.find(b"PK\x01\x02")
    while i != -1:
        nlen = struct.unpack_from("<H", buf, i + 28)[0]
        if buf[i + 46:i + 46 + nlen] == raw:
            struct.pack_into("<I", buf, i + 24, size)
            break
        i = buf.find(b"PK\x01\x02", i + 4)
    return bytes(buf)


def b_zip_bomb_declared(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _patch_sizes(base(), "xl/worksheets/sheet4.xml", 0xF0000000))


def b_zip_bomb_actual(d: Path) -> Path:
    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    filler = head + b"<sheetData/>" + b" " * 80_000_000 + b"</worksheet>"
    parts = [(n, filler if n == "xl/worksheets/sheet4.xml" else b) for n, b in members(base())]
    return _w(d, "перечень.xlsx", zip_of(parts, level=9))


def b_zip_size_lie(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _patch_sizes(base(), SHEET1, 1000))


def b_zip_duplicate_member(d: Path) -> Path:
    parts = members(base())
    other = dict(parts)["xl/worksheets/sheet3.xml"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in parts:
            zf.writestr(n, b)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zf.writestr(SHEET1, other)
    return _w(d, "перечень.xlsx", buf.getvalue())


def b_zip_encrypted_member(d: Path) -> Path:
    buf = bytearray(base())
    with zipfile.ZipFile(io.BytesIO(bytes(buf))) as zf:
        info = zf.getinfo(SHEET1)
    flags_local = info.header_offset + 6
    buf[flags_local] |= 1
    i = buf.find(b"PK\x01\x02")
    while i != -1:
        nlen = struct.unpack_from("<H", buf, i + 28)[0]
        if buf[i + 46:i + 46 + nlen] == SHEET1.encode():
            buf[i + 8] |= 1
        i = buf.find(b"PK\x01\x02", i + 4)
    return _w(d, "перечень.xlsx", bytes(buf))


LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                    for i in range(1, 10)) + "]>\n")
XXE = '<?xml version="1.0"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'


def _shared_strings_variant(prolog: str, entity: str) -> bytes:
    """Move one cell's text into a sharedStrings part that starts with the given prolog."""
    def sheet(xml: bytes) -> bytes:
        return set_cell(xml, "S2", '<c r="S2" t="s"><v>0</v></c>')
    sst = (prolog + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
           f'uniqueCount="1"><si><t>{entity}</t></si></sst>').encode()
    parts = []
    for n, b in members(base()):
        if n == SHEET1:
            b = sheet(b)
        elif n == "[Content_Types].xml":
            b = b.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                          b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        elif n == "xl/_rels/workbook.xml.rels":
            b = b.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                          b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                          b"</Relationships>")
        parts.append((n, b))
    parts.append(("xl/sharedStrings.xml", sst))
    return zip_of(parts)


def b_shared_strings_ok(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _shared_strings_variant('<?xml version="1.0"?>\n', "Примечание из общей таблицы"))


def b_billion_laughs_sst(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _shared_strings_variant(LAUGHS, "&lol9;"))


def b_xxe_sst(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _shared_strings_variant(XXE, "&xxe;"))


def b_utf16_dtd_sst(d: Path) -> Path:
    data = _shared_strings_variant(LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"'), "&lol9;")
    return _w(d, "перечень.xlsx", edit_part(data, "xl/sharedStrings.xml",
                                            lambda b: b"\xff\xfe" + b.decode().encode("utf-16-le")))


def b_billion_laughs_sheet(d: Path) -> Path:
    def fn(xml: bytes) -> bytes:
        xml = LAUGHS.encode() + xml.split(b"?>", 1)[-1] if xml.startswith(b"<?xml") else LAUGHS.encode() + xml
        return set_cell(xml, "S2", '<c r="S2" t="inlineStr"><is><t>&lol9;</t></is></c>')
    return _w(d, "перечень.xlsx", edit_part(base(), SHEET1, fn))


def b_xxe_workbook(d: Path) -> Path:
    return _w(d, "перечень.xlsx", edit_part(base(), "xl/workbook.xml", lambda b: XXE.encode() + b))


def b_dtd_after_comment(d: Path) -> Path:
    prolog = '<?xml version="1.0"?>\n<!--' + "x" * 100_000 + "-->\n" + XXE.split("\n", 1)[1]
    return _w(d, "перечень.xlsx", edit_part(base(), "xl/worksheets/sheet2.xml", lambda b: prolog.encode() + b))


def b_no_register(d: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Лист1"
    ws.append(["ФИО", "Должность", "Телефон"])
    ws.append(["Иванов И.И.", "Инспектор", "+7 4012 00-00-00"])
    buf = io.BytesIO()
    wb.save(buf)
    return _w(d, "перечень.xlsx", buf.getvalue())


def b_two_candidates(d: Path) -> Path:
    def fn(wb: Any) -> None:
        c = wb.copy_worksheet(wb["Перечень"])
        c.title = "Перечень (2)"
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_no_sheets(d: Path) -> Path:
    def wb(xml: bytes) -> bytes:
        return re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", re.sub(rb"<definedNames>.*</definedNames>", b"", xml))
    return _w(d, "перечень.xlsx", edit_part(base(), "xl/workbook.xml", wb))


def b_missing_sheet_part(d: Path) -> Path:
    return _w(d, "перечень.xlsx", zip_of([(n, b) for n, b in members(base()) if n != SHEET1]))


def b_info_missing(d: Path) -> Path:
    return _w(d, "перечень.xlsx", with_openpyxl(lambda wb: wb.remove(wb["Сведения"])))


def b_libreoffice_saved(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        for r in range(2, 10):
            ws[f"S{r}"] = f'=A{r}&" — проверено"'
    src = _w(d, "src.xlsx", with_openpyxl(fn))
    out = soffice_convert(src, "xlsx", d / "lo")
    target = d / "перечень.xlsx"
    out.rename(target)
    src.unlink()
    shutil.rmtree(d / "lo", ignore_errors=True)
    return target


def _xlsxwriter_register(d: Path, formulas: bool = True, constant_memory: bool = False) -> bytes:
    import xlsxwriter

    r = rules()
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": not constant_memory, "constant_memory": constant_memory,
                                   "tmpdir": str(d)})
    ws = wb.add_worksheet("Перечень")
    datef = wb.add_format({"num_format": "dd.mm.yyyy"})
    cols = r.schema.columns
    for j, c in enumerate(cols):
        ws.write_string(0, j, c.header)
    for i, row in enumerate(rows(), start=1):
        for j, c in enumerate(cols):
            v = row.get(c.field)
            if isinstance(v, list):
                v = "; ".join(v)
            if c.field == "note" and formulas:
                ws.write_formula(i, j, f'=A{i + 1}&" — проверено"')
            elif isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), datef)
            elif v not in (None, ""):
                ws.write_string(i, j, str(v))
    wb.close()
    return buf.getvalue()


def b_xlsxwriter_formulas(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _xlsxwriter_register(d))


def b_xlsxwriter_inline(d: Path) -> Path:
    return _w(d, "перечень.xlsx", _xlsxwriter_register(d, formulas=False, constant_memory=True))


STRICT = [
    (b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships/"),
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships"),
    (b"http://schemas.openxmlformats.org/drawingml/2006/main", b"http://purl.oclc.org/ooxml/drawingml/main"),
]


def b_strict(d: Path) -> Path:
    def fn(b: bytes) -> bytes:
        for a, s in STRICT:
            b = b.replace(a, s)
        return b.replace(b"<workbookPr", b'<workbookPr conformance="strict"', 1) if b"<workbook " in b[:200] else b
    return _w(d, "перечень.xlsx", zip_of([(n, fn(b)) for n, b in members(base())]))


def b_dimension_small(d: Path) -> Path:
    return _w(d, "перечень.xlsx", edit_part(base(), SHEET1, lambda b: re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', b)))


def b_dimension_large(d: Path) -> Path:
    return _w(d, "перечень.xlsx", edit_part(base(), SHEET1, lambda b: re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', b)))


def b_formatting_to_last_row(d: Path) -> Path:
    def fn(b: bytes) -> bytes:
        # Row-level formatting on every row to the last one, and a styled empty cell on every 10th.
        out = []
        for r in range(2002, 1_048_577):
            if r % 10 == 0 or r == 1_048_576:
                out.append(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/><c r="S{r}" s="1"/></row>')
            else:
                out.append(f'<row r="{r}" s="1" customFormat="1"/>')
        body = "".join(out).encode()
        b = b.replace(b"</sheetData>", body + b"</sheetData>")
        return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:S1048576"/>', b)
    return _w(d, "перечень.xlsx", edit_part(base(), SHEET1, fn))


def b_date1904(d: Path) -> Path:
    def fn(wb: Any) -> None:
        wb.epoch = dt.datetime(1904, 1, 1)
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_rich_text(d: Path) -> Path:
    data = _shared_strings_variant('<?xml version="1.0"?>\n', "")
    rich = ('<si><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve">Передано </t></r>'
            '<r><rPr><i/><color rgb="FFFF0000"/></rPr><t>в работу</t></r><rPh sb="0" eb="1"><t>ふりがな</t></rPh></si>')
    return _w(d, "перечень.xlsx", edit_part(data, "xl/sharedStrings.xml",
                                            lambda b: re.sub(rb"<si>.*</si>", rich.encode(), b)))


def b_title_block(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        ws.insert_rows(1, 3)
        ws["A1"] = "Перечень точек взаимодействия с клиентом Службы гостехнадзора Калининградской области"
        ws["A2"] = "Утверждён приказом от 26.02.2024 № 25-о"
        ws.merge_cells("A1:S1")
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_register_not_first(d: Path) -> Path:
    return _w(d, "перечень.xlsx", with_openpyxl(lambda wb: wb.move_sheet("Перечень", offset=3)))


def b_hidden_first_sheet(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb.create_sheet("Служебный", 0)
        ws.sheet_state = "hidden"
        ws.append(["Код", "Процесс", "Канал", "Вид точки", "Статус"])  # looks a bit like a register
        ws.append(["X", "Y", "цифровая", "СЭД", "включено"])
        wb.active = 1
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_autofilter_hidden(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        ws.auto_filter.add_filter_column(4, ["цифровая"])
        for r in (6, 7, 8, 9):
            ws.row_dimensions[r].hidden = True
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_hidden_rows_manual(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        ws.auto_filter.ref = None
        ws.row_dimensions[3].hidden = True
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_long_text(d: Path) -> Path:
    text = ("Доступность: сотрудник зачитывает ответ, предлагает крупный шрифт и помощь при заполнении. "
            * 120)[:10_500]
    return _w(d, "перечень.xlsx", with_openpyxl(lambda wb: wb["Перечень"].__setitem__("M2", text)))


def b_cells_32767(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        for ref, ch in (("S2", "я"), ("S3", "x"), ("M4", "ё")):
            ws[ref] = (ch * 32_767)
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_xlsm(d: Path) -> Path:
    vba = cfb([("PROJECT", b"ID=\"{00000000-0000-0000-0000-000000000000}\"\r\nModule=Module1\r\n"),
               ("Module1", b"Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\nEnd Sub\r\n")])

    def ct(b: bytes) -> bytes:
        b = b.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                      b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
        return b.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                         b"</Types>")

    def rels(b: bytes) -> bytes:
        return b.replace(b"</Relationships>", b'<Relationship Id="rId90" Type="http://schemas.microsoft.com/office/'
                         b'2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    parts = [(n, ct(b) if n == "[Content_Types].xml" else rels(b) if n == "xl/_rels/workbook.xml.rels" else b)
             for n, b in members(base())]
    return _w(d, "перечень.xlsm", zip_of([*parts, ("xl/vbaProject.bin", vba)]))


def b_merged_cells(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        ws.merge_cells("B3:B5")
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_error_values(d: Path) -> Path:
    def fn(xml: bytes) -> bytes:
        xml = set_cell(xml, "D3", '<c r="D3" t="e"><f>#REF!</f><v>#REF!</v></c>')
        xml = set_cell(xml, "O4", '<c r="O4" t="e"><f>VLOOKUP(A4,Справочники!A:B,2,0)</f><v>#N/A</v></c>')
        xml = set_cell(xml, "S5", '<c r="S5" t="inlineStr"><is><t>#N/A</t></is></c>')  # typed text, not an error
        return set_cell(xml, "S6", '<c r="S6" t="inlineStr"><is><t>NA</t></is></c>')
    return _w(d, "перечень.xlsx", edit_part(base(), SHEET1, fn))


def b_formula_no_value(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        ws["S2"] = '=A2&" — проверено"'
        ws["O3"] = "=Сведения!B7"
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_shared_formula_no_value(d: Path) -> Path:
    def fn(xml: bytes) -> bytes:
        xml = set_cell(xml, "S2", '<c r="S2"><f t="shared" ref="S2:S4" si="0">A2&amp;"!"</f></c>')
        xml = set_cell(xml, "S3", '<c r="S3"><f t="shared" si="0"/></c>')
        return set_cell(xml, "S4", '<c r="S4" t="str"><f t="shared" si="0"/><v>ТВ-03!</v></c>')

    def calc(xml: bytes) -> bytes:  # as Excel saves it: cached values are trusted
        return xml.replace(b' fullCalcOnLoad="1"', b"")
    return _w(d, "перечень.xlsx", edit_part(edit_part(base(), SHEET1, fn), "xl/workbook.xml", calc))


def _far_cell(ref: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        rn = re.sub(r"[A-Z]", "", ref)
        return _w(d, "перечень.xlsx", edit_part(base(), SHEET1, lambda b: b.replace(
            b"</sheetData>", f'<row r="{rn}"><c r="{ref}"><v>1</v></c></row></sheetData>'.encode())))
    return build


def b_rel_target_mismatch(d: Path) -> Path:
    """A sheet target written «xl/worksheets/…», with a harmless decoy at xl/xl/worksheets/… and a part
    holding a value in XFD1048576 at xl/worksheets/…. calamine 0.9 resolves it like the reader (the
    decoy); the reader reads only plainly written targets, so no resolver difference can slip past it."""
    parts = []
    sheet1 = dict(members(base()))[SHEET1]
    evil = sheet1.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    for n, b in members(base()):
        if n == "xl/_rels/workbook.xml.rels":
            b = b.replace(b'Target="/xl/worksheets/sheet1.xml"', b'Target="xl/worksheets/sheet9.xml"')
        parts.append((n, b))
    parts += [("xl/xl/worksheets/sheet9.xml", sheet1), ("xl/worksheets/sheet9.xml", evil)]
    return _w(d, "перечень.xlsx", zip_of(parts))


def _far_markup(cell: str) -> Callable[[Path], Path]:
    """A value in column XFD of row 3 written in a given way, and one in A199000 (within the row limit):
    a reader that misses the first lets calamine allocate 16,384 × 199,000 cells and abort."""
    def build(d: Path) -> Path:
        rows = f'<row r="3">{cell}</row><row r="199000"><c r="A199000"><v>1</v></c></row>'
        return _w(d, "перечень.xlsx", edit_part(base(), "xl/worksheets/sheet3.xml", lambda b: b.replace(
            b"</sheetData>", rows.encode() + b"</sheetData>")))
    return build


def b_rless_wide_row(d: Path) -> Path:
    # Cells without r= attributes: positions count from the previous cell. 300 of them in one row.
    cells = "".join("<c><v>1</v></c>" for _ in range(300))
    return _w(d, "перечень.xlsx", edit_part(base(), "xl/worksheets/sheet3.xml", lambda b: b.replace(
        b"</sheetData>", f'<row r="40">{cells}</row></sheetData>'.encode())))


def b_blank_rows(d: Path) -> Path:
    def fn(wb: Any) -> None:
        ws = wb["Перечень"]
        ws.insert_rows(4, 2)
        ws.insert_rows(9, 1)
        ws["S20"] = "   "  # a cell of spaces far below: still blank
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_chartsheet(d: Path) -> Path:
    def fn(wb: Any) -> None:
        from openpyxl.chart import BarChart, Reference

        cs = wb.create_chartsheet("Диаграмма", 0)
        ch = BarChart()
        ch.add_data(Reference(wb["Перечень"], min_col=18, min_row=1, max_row=9), titles_from_data=True)
        cs.add_chart(ch)
    return _w(d, "перечень.xlsx", with_openpyxl(fn))


def b_sheet_name_escaping(d: Path) -> Path:
    return _w(d, "перечень.xlsx", with_openpyxl(lambda wb: setattr(wb["Перечень"], "title", "Перечень <&> 'точек'")))


# --------------------------------------------------------------------------------------------------
# Expected outcomes
# --------------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------------
# OpenDocument (.ods): LibreOffice's own conversions of xlsx cases, and hand-written hostile content.xml
# --------------------------------------------------------------------------------------------------

ODS_FROM_XLSX = ("base", "merged_cells", "error_values", "hidden_rows_manual", "autofilter_hidden", "title_block",
                 "date1904", "libreoffice_saved", "hidden_first_sheet")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"')
ODS_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                'opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/>{extra}</manifest:manifest>')


def ods_converted() -> dict[str, bytes]:
    """The xlsx cases of ODS_FROM_XLSX saved as .ods by LibreOffice (one soffice run for all)."""
    if "ods" not in _CACHE:
        tmp = Path(tempfile.mkdtemp(prefix="perechen-ods-"))
        try:
            srcs = []
            for name in ODS_FROM_XLSX:
                sub = tmp / name
                sub.mkdir()
                if name == "base":
                    src = _w(sub, "перечень.xlsx", base())
                else:
                    src = next(c for c in CASES if c.name == name).build(sub)
                srcs.append(src.rename(tmp / f"{name}.xlsx"))
            soffice_convert_many(srcs, "ods", tmp / "out")
            _CACHE["ods"] = {name: (tmp / "out" / f"{name}.ods").read_bytes() for name in ODS_FROM_XLSX}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _CACHE["ods"]  # type: ignore[no-any-return]


def ods_zip(content: bytes, *, manifest_extra: str = "", extra: list[tuple[str, bytes]] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype", date_time=(2024, 2, 26, 10, 0, 0)), ODS_MIME)
        for name, body in [("META-INF/manifest.xml", ODS_MANIFEST.format(extra=manifest_extra).encode()),
                           ("content.xml", content), *(extra or [])]:
            zi = zipfile.ZipInfo(name, date_time=(2024, 2, 26, 10, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, body)
    return buf.getvalue()


def ods_content(table: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>', name: str = "Перечень") -> bytes:
    """content.xml with one table «name» whose rows are given as markup."""
    return (f'{prolog}<office:document-content {ODS_NS}><office:body><office:spreadsheet>'
            f'<table:table table:name="{name}">{table}</table:table>'
            '</office:spreadsheet></office:body></office:document-content>').encode()


ODS_HEADER = ('<table:table-row>' + "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p>'
                                            '</table:table-cell>' for h in ("Код", "Процесс",
                                                                            "Наименование точки взаимодействия"))
              + '</table:table-row>')
ODS_VALUE = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'


def _ods_case(name: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        return _w(d, "перечень.ods", ods_converted()[name])
    return build


def _ods_hostile(table: str, **kw: Any) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        return _w(d, "перечень.ods", ods_zip(ods_content(ODS_HEADER + table), **kw))
    return build


def _edit_ods_content(data: bytes, fn: Callable[[bytes], bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as zf:
        for info in src.infolist():
            body = src.read(info)
            zf.writestr(info, fn(body) if info.filename == "content.xml" else body)
    return buf.getvalue()


def b_ods_formula_no_value(d: Path) -> Path:
    def fn(xml: bytes) -> bytes:
        new, n = re.subn(rb'<table:table-cell[^>]*><text:p>\xd0\xa2\xd0\x92-02</text:p></table:table-cell>',
                         b'<table:table-cell table:formula="of:=[.A2]&amp;&quot;!&quot;"/>', xml, count=1)
        assert n == 1
        return new
    return _w(d, "перечень.ods", _edit_ods_content(ods_converted()["base"], fn))


def b_ods_dtd(where: str, prolog: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        def fn(xml: bytes) -> bytes:
            return prolog.encode() + xml.split(b"?>", 1)[1]
        data = ods_converted()["base"]
        if where == "content.xml":
            return _w(d, "перечень.ods", _edit_ods_content(data, fn))
        return _w(d, "перечень.ods", edit_part(data, where, fn))
    return build


def b_ods_zip_bomb(d: Path) -> Path:
    return _w(d, "перечень.ods", _patch_sizes(ods_converted()["base"], "styles.xml", 0xF0000000))


def b_ods_encrypted(d: Path) -> Path:
    enc = ('<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml">'
           '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AAAA"/>'
           '</manifest:file-entry>')
    return _w(d, "перечень.ods", ods_zip(ods_content(ODS_HEADER), manifest_extra=enc))


def b_ods_odt(d: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", b"application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", b"<office:document-content/>")
    return _w(d, "перечень.ods", buf.getvalue())


def _c_ods_errors(reg: Register) -> None:
    assert _row(reg, 3).get("name") is None and _row(reg, 3).raw("name") == "#REF!"
    assert _row(reg, 4).get("responsible") is None


def _c_ods_formula(reg: Register) -> None:
    assert _row(reg, 3).get("code") is None



@dataclass
class Expect:
    error: str | None = None  # FileError code
    rows: int | None = None
    findings: set[tuple[str, str | None]] | None = None  # exact set of reader findings (code, cell)
    message: tuple[str, ...] = ()  # substrings of the error message, or of some finding's message
    check: Callable[[Register], None] | None = None


@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]
    expect: Expect
    note: str
    needs: str | None = None  # "soffice" | "msoffcrypto"
    slow: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _row(reg: Register, n: int) -> Any:
    return next(r for r in reg.rows if r.number == n)


def _c_lo(reg: Register) -> None:
    assert _row(reg, 2).get("note") == "ТВ-01 — проверено"
    assert not reg.problem_cells


def _c_1904(reg: Register) -> None:
    assert {r.get("changed_on") for r in reg.rows} == {dt.date(2024, 2, 26)}


def _c_rich(reg: Register) -> None:
    assert _row(reg, 2).get("note") == "Передано в работу"


def _c_long(reg: Register) -> None:
    assert len(_row(reg, 2).get("accessibility")) == 10_500


def _c_32767(reg: Register) -> None:
    assert _row(reg, 2).get("note") == "я" * 32_767
    assert _row(reg, 3).get("note") == "x" * 32_767
    assert _row(reg, 4).get("accessibility") == "ё" * 32_767


def _c_errors(reg: Register) -> None:
    assert _row(reg, 3).get("name") is None and _row(reg, 3).raw("name") == "#REF!"
    assert _row(reg, 4).get("responsible") is None
    assert _row(reg, 5).get("note") == "#N/A"  # typed text stays text
    assert _row(reg, 6).get("note") == "NA"


def _c_title(reg: Register) -> None:
    assert reg.header_row == 4 and reg.rows[0].number == 5


def _c_blank(reg: Register) -> None:
    assert [r.number for r in reg.rows] == [2, 3, 6, 7, 8, 10, 11, 12]


def _c_date(reg: Register) -> None:
    assert reg.rows[0].get("changed_on") == dt.date(2024, 2, 26)
    assert reg.rows[0].get("code") == "ТВ-01"


def _c_sst(reg: Register) -> None:
    assert _row(reg, 2).get("note") == "Примечание из общей таблицы"


def _c_hidden_filter(reg: Register) -> None:
    assert [r.number for r in reg.rows if r.hidden] == [6, 7, 8, 9]


def _c_lock(reg: Register) -> None:
    assert reg.lock_owner == USER


OK8 = dict(rows=8, findings=set())

CASES: list[Case] = [
    Case("missing", b_missing, Expect("not_found", message=("не найден",)), "path that does not exist"),
    Case("empty", b_empty, Expect("empty", message=("0 байт",)), "zero-byte file"),
    Case("directory", b_directory, Expect("is_directory"), "a folder named .xlsx"),
    Case("lock_file_as_workbook", b_lock_as_workbook, Expect("lock_file", message=("~$",)),
         "Excel owner file «~$perechen.xlsx» given instead of the workbook"),
    Case("lock_beside_excel", b_lock_beside_excel,
         Expect(rows=8, findings={("workbook-open", None)}, message=(USER,), check=_c_lock),
         "Excel owner file next to the workbook: who has it open"),
    Case("lock_beside_libreoffice", b_lock_beside_libreoffice,
         Expect(rows=8, findings={("workbook-open", None)}, message=("Петров Пётр",)),
         "LibreOffice .~lock file next to the workbook"),
    Case("encrypted_cfb", b_encrypted_cfb, Expect("encrypted", message=("паролем",)),
         "OLE container with EncryptionInfo/EncryptedPackage streams (hand-built CFB)"),
    Case("encrypted_real", b_encrypted_real, Expect("encrypted", message=("паролем",)),
         "the base register really encrypted by msoffcrypto-tool (agile encryption)", needs="msoffcrypto"),
    Case("xls_biff8", b_xls_biff8, Expect("xls", message=("97–2003",)), "minimal BIFF8 .xls named .xlsx"),
    Case("xls_libreoffice", b_xls_libreoffice, Expect("xls"), "real .xls saved by LibreOffice, named .xlsx",
         needs="soffice"),
    Case("doc_ole", b_doc_ole, Expect("word"), "Word 97 .doc (OLE WordDocument) named .xlsx"),
    Case("csv_utf8", b_csv, Expect("csv", message=("CSV",)), "CSV (UTF-8 with BOM, «;») named .xlsx"),
    Case("csv_cp1251", b_csv_cp1251, Expect("csv"), "CSV in cp1251 with «,» named .xlsx"),
    Case("docx", b_docx, Expect("word", message=("Word",)), "a Word .docx named .xlsx"),
    Case("ods", b_ods, Expect("zip_damaged", message=("META-INF/manifest.xml",)),
         "an OpenDocument file named .xlsx, without its manifest"),
    Case("xlsb", b_xlsb, Expect("not_xlsx", message=(".xlsb",)), "a binary .xlsb workbook named .xlsx"),
    Case("pdf", b_pdf, Expect("not_xlsx", message=("PDF",)), "a PDF named .xlsx"),
    Case("html", b_html, Expect("not_xlsx", message=("HTML",)), "Excel «web page» saved as .xlsx"),
    Case("xml2003", b_xml2003, Expect("not_xlsx", message=("XML",)), "Excel 2003 XML spreadsheet named .xlsx"),
    Case("binary_junk", b_binary_junk, Expect("not_xlsx"), "random binary"),
    Case("zip_damaged", b_zip_damaged, Expect("zip_damaged", message=(SHEET1,)),
         "bytes flipped inside the compressed «Перечень» part"),
    Case("truncated", b_truncated, Expect("zip_damaged"), "the first 60 % of the file"),
    Case("half_written", b_half_written, Expect("zip_damaged", message=("не до конца",)),
         "local entries written, central directory missing"),
    Case("zip_bomb_declared", b_zip_bomb_declared, Expect("zip_bomb", message=("МБ",)),
         "central directory declares a 4 GB part"),
    Case("zip_bomb_actual", b_zip_bomb_actual, Expect("zip_bomb", message=("xl/worksheets/sheet4.xml",)),
         "80 MB of spaces deflated ~1000:1 into one part"),
    Case("zip_size_lie", b_zip_size_lie, Expect("zip_damaged", message=(SHEET1,)),
         "declared uncompressed size smaller than the real one"),
    Case("zip_duplicate_member", b_zip_duplicate_member, Expect("zip_damaged", message=(SHEET1,)),
         "two zip members with the same name"),
    Case("zip_encrypted_member", b_zip_encrypted_member, Expect("zip_damaged", message=(SHEET1,)),
         "zip member flagged as ZipCrypto-encrypted"),
    Case("billion_laughs_sst", b_billion_laughs_sst, Expect("xml_dtd", message=("xl/sharedStrings.xml",)),
         "billion laughs in sharedStrings"),
    Case("xxe_sst", b_xxe_sst, Expect("xml_dtd", message=("xl/sharedStrings.xml",)),
         "external entity (file:///etc/passwd) in sharedStrings"),
    Case("utf16_dtd_sst", b_utf16_dtd_sst, Expect("xml_dtd", message=("xl/sharedStrings.xml",)),
         "billion laughs in a UTF-16 sharedStrings part"),
    Case("billion_laughs_sheet", b_billion_laughs_sheet, Expect("xml_dtd", message=(SHEET1,)),
         "billion laughs in the register sheet"),
    Case("xxe_workbook", b_xxe_workbook, Expect("xml_dtd", message=("xl/workbook.xml",)),
         "external entity in xl/workbook.xml"),
    Case("dtd_after_comment", b_dtd_after_comment, Expect("xml_dtd", message=("xl/worksheets/sheet2.xml",)),
         "DOCTYPE hidden behind a 100 KB comment in the prolog"),
    Case("no_register", b_no_register, Expect("no_register", message=("«Лист1»",)), "no sheet has the header"),
    Case("two_candidates", b_two_candidates, Expect("many_registers", message=("«Перечень»", "«Перечень (2)»")),
         "the register sheet copied"),
    Case("no_sheets", b_no_sheets, Expect("no_sheets"), "workbook.xml lists no sheets"),
    Case("missing_sheet_part", b_missing_sheet_part, Expect("zip_damaged", message=(SHEET1,)),
         "a sheet whose part is missing from the zip"),
    Case("info_missing", b_info_missing, Expect(rows=8, findings={("info-sheet-missing", None)}),
         "no «Сведения» sheet"),
    Case("shared_strings", b_shared_strings_ok, Expect(rows=8, findings=set(), check=_c_sst),
         "text in sharedStrings (control case for the DTD cases)"),
    Case("libreoffice_saved", b_libreoffice_saved, Expect(rows=8, findings=set(), check=_c_lo),
         "formulas recalculated and cached by LibreOffice", needs="soffice"),
    Case("xlsxwriter_formulas", b_xlsxwriter_formulas,
         Expect(rows=8, findings={("formula-no-value", f"S{r}") for r in range(2, 10)}
                | {("info-sheet-missing", None)}),
         "xlsxwriter: formulas cached as 0 with fullCalcOnLoad"),
    Case("xlsxwriter_inline", b_xlsxwriter_inline,
         Expect(rows=8, findings={("info-sheet-missing", None)}, check=_c_date),
         "xlsxwriter constant_memory: inline strings, no sharedStrings"),
    Case("strict_ooxml", b_strict, Expect(rows=8, findings=set(), check=_c_date), "Strict OOXML namespaces"),
    Case("dimension_small", b_dimension_small, Expect(**OK8), "<dimension ref=\"A1\"/>"),  # type: ignore[arg-type]
    Case("dimension_large", b_dimension_large, Expect(**OK8), "<dimension ref=\"A1:XFD1048576\"/>"),  # type: ignore[arg-type]
    Case("formatting_to_last_row", b_formatting_to_last_row, Expect(**OK8),  # type: ignore[arg-type]
         "row formatting and styled empty cells down to row 1,048,576", slow=True),
    Case("date1904", b_date1904, Expect(rows=8, findings=set(), check=_c_1904), "1904 date system"),
    Case("rich_text", b_rich_text, Expect(rows=8, findings=set(), check=_c_rich),
         "rich-text runs and phonetic text in sharedStrings"),
    Case("title_block", b_title_block, Expect(rows=8, findings=set(), check=_c_title),
         "three title rows (one merged) above the header"),
    Case("register_not_first", b_register_not_first, Expect(**OK8), "register is the last sheet"),  # type: ignore[arg-type]
    Case("hidden_first_sheet", b_hidden_first_sheet, Expect(**OK8),  # type: ignore[arg-type]
         "a hidden helper sheet first, looking a bit like a register"),
    Case("autofilter_hidden", b_autofilter_hidden,
         Expect(rows=8, findings={("hidden-rows", "A6")}, message=("фильтром",), check=_c_hidden_filter),
         "an autofilter hiding rows 6–9"),
    Case("hidden_rows_manual", b_hidden_rows_manual, Expect(rows=8, findings={("hidden-rows", "A3")}),
         "a row hidden by hand"),
    Case("long_text", b_long_text, Expect(rows=8, findings=set(), check=_c_long), "10,500 characters in a cell"),
    Case("cells_32767", b_cells_32767, Expect(rows=8, findings=set(), check=_c_32767),
         "three cells of 32,767 characters"),
    Case("xlsm_macro", b_xlsm, Expect(**OK8), ".xlsm with xl/vbaProject.bin"),  # type: ignore[arg-type]
    Case("merged_cells", b_merged_cells, Expect(rows=8, findings={("merged-cells", "B3")}), "B3:B5 merged"),
    Case("error_values", b_error_values,
         Expect(rows=8, findings={("error-value", "D3"), ("error-value", "O4")}, check=_c_errors),
         "#REF! and #N/A error cells; «#N/A» and «NA» typed as text"),
    Case("formula_no_value", b_formula_no_value,
         Expect(rows=8, findings={("formula-no-value", "S2"), ("formula-no-value", "O3")}),
         "formulas written by openpyxl: no cached value"),
    Case("shared_formula_no_value", b_shared_formula_no_value,
         Expect(rows=8, findings={("formula-no-value", "S2"), ("formula-no-value", "S3")}),
         "a shared formula: master and one child without values, one child with a cached string"),
    Case("far_cell_xfd", _far_cell("XFD1048576"), Expect("sheet_too_large", message=("XFD1048576", "Перечень")),
         "a value in the last cell of the sheet (calamine would allocate 550 GB and abort)"),
    Case("far_cell_row", _far_cell("S1048576"), Expect("sheet_too_large", message=("S1048576",)),
         "a value in row 1,048,576 of a data column"),
    Case("far_cell_wide", _far_cell("ZZ150000"), Expect("sheet_too_large", message=("ZZ150000",)),
         "a value at ZZ150000: within the row limit but 702 × 150,000 cells"),
    Case("far_cell_budget", _far_cell("CV150000"), Expect("sheet_too_large", message=("CV150000", "100 столбцов")),
         "a value at CV150000: within 200 columns and the row limit, but over the 6,000,000-cell budget"),
    Case("rel_target_mismatch", b_rel_target_mismatch, Expect("no_register"),
         "sheet target «xl/worksheets/…» that resolvers may read differently: that sheet is not read"),
    # Markup calamine 0.9 accepts and a naive scan misses (found by probing calamine; see _far_markup).
    Case("far_lowercase_ref", _far_markup('<c r="xfd3"><v>1</v></c>'),
         Expect("sheet_too_large", message=("XFD3",)), "calamine reads r=\"xfd3\" as XFD3"),
    Case("far_empty_inline", _far_markup('<c r="XFD3" t="inlineStr"><is/></c>'),
         Expect("sheet_too_large", message=("XFD3",)), "<is/> counts as a value for calamine"),
    Case("far_prefixed_value", _far_markup('<c r="XFD3"><x:v xmlns:x="urn:x">1</x:v></c>'),
         Expect("sheet_too_large", message=("XFD3",)), "a prefixed <x:v> inside an unprefixed cell"),
    Case("far_single_quotes", _far_markup("<c r='XFD3'><v>1</v></c>"),
         Expect("sheet_too_large", message=("XFD3",)), "r='XFD3' in single quotes"),
    Case("far_second_r", _far_markup("<c r=\"A3\" r='XFD3'><v>1</v></c>"),
         Expect("sheet_too_large", message=("XFD3",)), "a repeated r attribute: calamine takes the last"),
    Case("far_gt_in_attr", _far_markup('<c foo="a>b" r="XFD3"><v>1</v></c>'),
         Expect("sheet_too_large", message=("XFD3",)), "«>» inside an attribute value before r="),
    Case("rless_wide_row", b_rless_wide_row, Expect("sheet_too_large", message=("Сведения",)),
         "300 cells without r= attributes in one row of «Сведения»"),
    Case("blank_rows", b_blank_rows, Expect(rows=8, findings=set(), check=_c_blank),
         "blank rows between data rows and a cell of spaces far below"),
    Case("chartsheet", b_chartsheet, Expect(**OK8), "a chart sheet first"),  # type: ignore[arg-type]
    Case("sheet_name_escaping", b_sheet_name_escaping, Expect(**OK8),  # type: ignore[arg-type]
         "register sheet named with < & > and quotes"),
]

_BIG = 10**8
CASES += [
    Case("ods_base", _ods_case("base"), Expect(rows=8, findings=set(), check=_c_date),
         "the bundled register saved as .ods by LibreOffice", needs="soffice"),
    Case("ods_merged_cells", _ods_case("merged_cells"), Expect(rows=8, findings={("merged-cells", "B3")}),
         ".ods: B3:B5 merged (table:number-rows-spanned)", needs="soffice"),
    Case("ods_error_values", _ods_case("error_values"),
         Expect(rows=8, findings={("error-value", "D3"), ("error-value", "O4")}, check=_c_ods_errors),
         ".ods: #REF! and #N/A (calcext:value-type=\"error\" with a 0 as value)", needs="soffice"),
    Case("ods_hidden_rows_manual", _ods_case("hidden_rows_manual"), Expect(rows=8, findings={("hidden-rows", "A3")}),
         ".ods: a row hidden by hand (table:visibility=\"collapse\")", needs="soffice"),
    Case("ods_autofilter_hidden", _ods_case("autofilter_hidden"),
         Expect(rows=8, findings={("hidden-rows", "A6")}, message=("фильтром",), check=_c_hidden_filter),
         ".ods: an autofilter hiding rows 6–9", needs="soffice"),
    Case("ods_title_block", _ods_case("title_block"), Expect(rows=8, findings=set(), check=_c_title),
         ".ods: three title rows above the header", needs="soffice"),
    Case("ods_date1904", _ods_case("date1904"), Expect(rows=8, findings=set(), check=_c_1904),
         ".ods converted from a 1904-date workbook: office:date-value", needs="soffice"),
    Case("ods_formulas_cached", _ods_case("libreoffice_saved"), Expect(rows=8, findings=set(), check=_c_lo),
         ".ods: formulas with their computed values", needs="soffice"),
    Case("ods_hidden_first_sheet", _ods_case("hidden_first_sheet"), Expect(**OK8),  # type: ignore[arg-type]
         ".ods: a hidden table first (table:display=\"false\"), looking a bit like a register", needs="soffice"),
    Case("ods_formula_no_value", b_ods_formula_no_value,
         Expect(rows=8, findings={("formula-no-value", "A3")}, check=_c_ods_formula),
         ".ods: a table:formula without a computed value", needs="soffice"),
    Case("ods_billion_laughs", b_ods_dtd("content.xml", LAUGHS), Expect("xml_dtd", message=("content.xml",)),
         ".ods: billion laughs in content.xml", needs="soffice"),
    Case("ods_xxe_styles", b_ods_dtd("styles.xml", XXE), Expect("xml_dtd", message=("styles.xml",)),
         ".ods: external entity in styles.xml", needs="soffice"),
    Case("ods_zip_bomb_declared", b_ods_zip_bomb, Expect("zip_bomb", message=("МБ",)),
         ".ods: central directory declares a 4 GB styles.xml", needs="soffice"),
    Case("ods_encrypted", b_ods_encrypted, Expect("encrypted", message=("паролем",)),
         ".ods saved with a password (manifest:encryption-data)"),
    Case("ods_odt", b_ods_odt, Expect("not_xlsx", message=("opendocument.text",)), "an .odt text document named .ods"),
    Case("ods_broken_xml", _ods_hostile("<table:table-row><table:table-cell>"),
         Expect("xml_broken", message=("content.xml",)), ".ods: content.xml cut off inside a cell"),
    Case("ods_cell_in_cell", _ods_hostile('<table:table-row><table:table-cell office:value-type="string">'
                                          '<table:table-cell/></table:table-cell></table:table-row>'),
         Expect("xml_broken", message=("content.xml",)), ".ods: a cell nested in a cell (calamine loses its place)"),
    Case("ods_odd_repeat_count", _ods_hostile('<table:table-row><table:table-cell table:number-columns-repeated=" 5" '
                                              'office:value-type="float" office:value="1"/></table:table-row>'),
         Expect("read_failed", message=("content.xml",)), ".ods: a repeat count calamine cannot parse (« 5»)"),
    Case("ods_rows_repeated", _ods_hostile(f'<table:table-row table:number-rows-repeated="{_BIG}">{ODS_VALUE}'
                                           '</table:table-row>'),
         Expect("sheet_too_large", message=("A100000001",)),
         ".ods: one row holding a value repeated 10^8 times (calamine would allocate 1,048,576 rows)"),
    Case("ods_columns_repeated", _ods_hostile(f'<table:table-row><table:table-cell table:number-columns-repeated='
                                              f'"{_BIG}" office:value-type="float" office:value="1"/>'
                                              '</table:table-row>'),
         Expect("sheet_too_large", message=("за пределами листа",)), ".ods: a value repeated across 10^8 columns"),
    Case("ods_empty_rows_between", _ods_hostile(f'<table:table-row table:number-rows-repeated="{_BIG}">'
                                                '<table:table-cell/></table:table-row>'
                                                f'<table:table-row>{ODS_VALUE}</table:table-row>'),
         Expect("sheet_too_large", message=("A100000002",)),
         ".ods: 10^8 empty rows, then a value (calamine fills the rows in between)"),
    Case("ods_square", _ods_hostile('<table:table-row table:number-rows-repeated="150000"><table:table-cell '
                                    'table:number-columns-repeated="100" office:value-type="float" office:value="1"/>'
                                    '</table:table-row>'),
         Expect("sheet_too_large", message=("CV", "ячеек")),
         ".ods: 100 values × 150,000 rows from 200 bytes: within rows and columns, over the cell budget"),
    Case("ods_text_s", _ods_hostile('<table:table-row><table:table-cell office:value-type="string"><text:p>а'
                                    '<text:s text:c="1000000000"/></text:p></table:table-cell></table:table-row>'),
         Expect("sheet_too_large", message=("text:s",)), ".ods: <text:s text:c=\"1000000000\"/> (a GB of spaces)"),
    Case("ods_text_repeated", _ods_hostile('<table:table-row><table:table-cell table:number-columns-repeated="100" '
                                           'office:value-type="string"><text:p>а<text:s text:c="900000"/></text:p>'
                                           '</table:table-cell></table:table-row>'
                                           '<table:table-row table:number-rows-repeated="10"><table:table-cell '
                                           'table:number-columns-repeated="100" office:value-type="string"><text:p>'
                                           'а<text:s text:c="900000"/></text:p></table:table-cell></table:table-row>'),
         Expect("sheet_too_large", message=("повторы",)),
         ".ods: 900,000 spaces repeated over 1,100 cells (990 MB of text)"),
]


# --------------------------------------------------------------------------------------------------
# Tools and building
# --------------------------------------------------------------------------------------------------

def have(need: str | None) -> bool:
    if need is None:
        return True
    if need == "soffice":
        return shutil.which("soffice") is not None
    if need == "msoffcrypto":
        return importlib.util.find_spec("msoffcrypto") is not None
    return False


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", fmt,
                        "--outdir", str(outdir), str(src)], check=True, capture_output=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = outdir / (src.stem + "." + fmt)
    if not out.exists():
        raise RuntimeError(f"soffice did not write {out}")
    return out


def soffice_convert_many(srcs: list[Path], fmt: str, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", fmt,
                        "--outdir", str(outdir), *map(str, srcs)], check=True, capture_output=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def recipe_hash() -> str:
    h = hashlib.sha256()
    for p in (Path(__file__), ROOT / "scripts" / "perechen" / "template.py", ROOT / "scripts" / "make_workbook.py",
              ROOT / "rules" / "schema.toml", ROOT / "rules" / "lists.toml"):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build(dest: Path, cases: list[Case] | None = None) -> dict[str, Path | None]:
    """Build cases into dest/<name>/; returns name -> path (None when a needed tool is missing)."""
    out: dict[str, Path | None] = {}
    for case in cases or CASES:
        d = dest / case.name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        out[case.name] = case.build(d) if have(case.needs) else None
    return out


def corpus_dir() -> dict[str, Path | None]:
    """The corpus, built once into a cache folder keyed by the recipes (PERECHEN_CORPUS_DIR overrides)."""
    root = Path(os.environ.get("PERECHEN_CORPUS_DIR") or Path(tempfile.gettempdir()) / "perechen-corpus")
    tools = "".join("1" if have(n) else "0" for n in ("soffice", "msoffcrypto"))
    dest = root / f"{recipe_hash()}-{tools}"
    marker = dest / ".complete"
    if not marker.exists():
        tmp = root / f".building-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        build(tmp)
        (tmp / ".complete").write_text("ok")
        try:
            tmp.rename(dest)
        except OSError:  # built by someone else meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
        # Files re-get their intended mtimes (rename keeps them).
    result: dict[str, Path | None] = {}
    for case in CASES:
        d = dest / case.name
        if not have(case.needs):
            result[case.name] = None
            continue
        files = [p for p in d.iterdir()] if d.exists() else []
        result[case.name] = _target(case, d, files)
    return result


def _target(case: Case, d: Path, files: list[Path]) -> Path:
    # The path the builder returned: rebuild the choice from what is in the folder.
    if case.name == "missing":
        return d / "нет-такой-книги.xlsx"
    if case.name == "lock_file_as_workbook":
        return d / "~$perechen.xlsx"
    named = [p for p in files if not p.name.startswith(("~$", ".~lock"))]
    assert len(named) == 1, (case.name, files)
    return named[0]


def main(argv: list[str]) -> int:
    dest = Path(argv[1]) if len(argv) > 1 else Path("corpus-out")
    t0 = time.time()
    for name, p in build(dest).items():
        size = p.stat().st_size if p is not None and p.is_file() else 0
        print(f"{name:28} {size:>10,} {p if p else '(skipped: tool missing)'}")
    print(f"built in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

