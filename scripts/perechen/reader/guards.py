"""Hostile-input guards on the zip and its XML parts, before any parser inflates them: declared sizes
and compression ratios (zip bombs), a DTD in a part's prolog, a forged shared-strings count; one part
inflated at a time, bounded by its declared size."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import describe
from ..models import FileError
from ..rules import Rules
from .extent import _HUGE, _big_int
from .package import Package

MAX_PROLOG_BYTES = 1_000_000


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


def _short(e: BaseException) -> str:
    """What went wrong, in Russian (perechen.errors.describe): no library English reaches a clerk."""
    return describe(e)
