"""The copied zip: unchanged members are copied as their compressed bytes, changed ones recompressed
(big parts in parallel chunks, joined into one deflate stream).
"""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from ..errors import describe
from .ooxml import AnnotateError, check_xml_bytes

BIG_PART = 4_000_000  # bytes: deflate level 1 and in parallel chunks above this
CHUNK = 4 << 20


def workers() -> int:
    return max(2, min(8, os.cpu_count() or 2))


def deflate_chunk(data: memoryview | bytes, zdict: bytes, level: int, last: bool) -> bytes:
    co = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=zdict) if zdict else zlib.compressobj(level, zlib.DEFLATED,
                                                                                                  -15)
    return co.compress(data) + co.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def deflate_start(data: bytes, pool: Executor | None) -> Callable[[], tuple[bytes, int]]:
    """Start compressing ``data`` (raw deflate); the returned function gives (compressed, crc32).

    A big part is cut into chunks compressed in parallel, each primed with the 32 KiB before it and
    ended with a sync flush, so the pieces join into one valid deflate stream (as pigz does).
    """
    level = 1 if len(data) > BIG_PART else 6
    if pool is None or len(data) <= 2 * CHUNK:
        raw = deflate_chunk(data, b"", level, True)
        crc = zlib.crc32(data)
        return lambda: (raw, crc)
    view = memoryview(data)
    bounds = list(range(0, len(data), CHUNK))
    futures = [pool.submit(deflate_chunk, view[s:s + CHUNK], bytes(view[max(0, s - 32768):s]), level,
                           s + CHUNK >= len(data)) for s in bounds]
    crc_f = pool.submit(zlib.crc32, data)
    return lambda: (b"".join(f.result() for f in futures), crc_f.result())


@dataclass
class ZipEntry:
    name: str
    method: int
    crc: int
    size: int
    date_time: tuple[int, ...]
    raw: bytes


class Package:
    """The copied zip: unchanged members are copied as their compressed bytes, changed ones recompressed."""

    def __init__(self, data: bytes, pool: Executor | None = None) -> None:
        self.src = data
        self.pool = pool
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as e:
            raise AnnotateError(f"архив книги не открывается ({describe(e)})") from None
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
                raise AnnotateError(f"часть {name} не распаковывается ({describe(e)})") from None
        else:
            try:
                data = self.zf.read(name)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
                raise AnnotateError(f"часть {name} не распаковывается ({describe(e)})") from None
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise AnnotateError(f"часть {name} повреждена (не сходится размер или контрольная сумма)")
        return data

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        fut = self._prefetched.pop(name, None)
        data = fut.result() if fut is not None else self._inflate(name)
        if name.endswith((".xml", ".rels", ".vml")):
            check_xml_bytes(name, data)
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
                pending[name] = deflate_start(self.changed[name], self.pool)
            elif info.flag_bits & 0x1:
                raise AnnotateError(f"часть {name} зашифрована")
            elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                pending[name] = deflate_start(self.read(name), self.pool)
        now = time.localtime()[:6]

        def finish() -> bytes:
            entries: list[ZipEntry] = []
            for name in order:
                info = self.zf.NameToInfo.get(name)
                if name in pending:
                    raw, crc = pending[name]()
                    size = len(self.changed[name]) if name in self.changed else (info.file_size if info else 0)
                    entries.append(ZipEntry(name, zipfile.ZIP_DEFLATED, crc, size,
                                             tuple(info.date_time if info is not None else now), raw))
                else:
                    assert info is not None
                    entries.append(ZipEntry(name, info.compress_type, info.CRC, info.file_size,
                                             tuple(info.date_time), self._raw(info)))
            return zip_bytes(entries)

        return finish

    def to_bytes(self) -> bytes:
        return self.start_output()()


def zip_bytes(entries: list[ZipEntry]) -> bytes:
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
