"""Small file-system helpers: the one atomic write, the one timestamped-folder namer, disk use.

Every file perechen writes goes through :func:`atomic_write` (temporary file in the same folder, fsync,
:func:`replace`); every report or version folder is named by :func:`stamp` / :func:`free_name`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import describe
from .models import PerechenError


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None, sync: bool = True) -> Path:
    """Write to a temporary name in the same folder, fsync, then rename over ``path``.

    A full disk or a crash never leaves a half-written file under the final name. ``mode``: the file's
    permissions (``0o600`` for a private copy); by default what the umask allows, like any new file.
    ``sync=False`` skips the fsync (a reader still never sees a half-written file, but a power cut may lose the
    file's content): only for files a run rebuilds from scratch in a folder of its own, such as the region run's
    copies of the agencies' check reports (see :mod:`perechen.region`).
    """
    try:
        write_replace(path, data, mode=mode, sync=sync)
    except OSError as e:
        if is_locked(e):
            raise PerechenError("file_locked", f"Не удалось заменить {path}: файл открыт в другой программе "
                                               f"(например, в Excel). Закройте его и повторите.", path) from None
        raise PerechenError("write_failed", f"Не удалось записать {path}: {_why(e)}.", path) from None
    return path


def atomic_write_all(files: Sequence[tuple[Path, bytes | str]]) -> list[Path]:
    """:func:`atomic_write` of several files at once (each fsync'd): the fsyncs, which wait for the disk without
    holding the GIL, overlap in a few threads instead of adding up. The first failure is raised (a PerechenError),
    after every write has ended."""
    if len(files) <= 1:
        return [atomic_write(p, d) for p, d in files]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(files), 8), thread_name_prefix="perechen-write") as pool:
        futures = [pool.submit(atomic_write, p, d) for p, d in files]
    return [f.result() for f in futures]


def write_replace(path: Path, data: bytes | str, *, mode: int | None = None, sync: bool = True) -> None:
    """:func:`atomic_write`'s work, raising the OSError for a caller that words its own message (the store's
    LATEST, the private copy of a remote workbook). The temporary file never outlives a failure."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        # mkstemp creates 0600; reports are meant for colleagues on a shared folder: honour the umask.
        os.chmod(tmp, 0o666 & ~_umask() if mode is None else mode)
        replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# Seconds to wait between attempts to replace a file another program holds open (about 2 s in all).
LOCKED_RETRY_DELAYS: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6, 0.8)
_LOCK_WINERRORS = frozenset({5, 32, 33})  # access denied, sharing violation, lock violation


def is_locked(e: OSError) -> bool:
    """Windows refuses to replace a file open in Excel (WinError 32, or 5 for a read-only share mode).

    Recognised by type and Windows error number, never by message text. On POSIX a PermissionError means
    missing rights, not a lock (an open file can always be replaced there).
    """
    if not isinstance(e, PermissionError):
        return False
    winerror = getattr(e, "winerror", None)
    return winerror in _LOCK_WINERRORS if winerror is not None else os.name == "nt"


def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """``os.replace``, retried briefly while another program (Excel, an antivirus scan) holds ``dst`` open."""
    for delay in (*LOCKED_RETRY_DELAYS, None):
        try:
            os.replace(src, dst)
            return
        except PermissionError as e:
            if delay is None or not is_locked(e):
                raise
            time.sleep(delay)


_OS_REASONS: dict[int, str] = {
    errno.ENOENT: "такой папки нет или путь указан неверно",
    errno.ENOTDIR: "часть пути — файл, а не папка",
    errno.EISDIR: "это папка, а не файл",
    errno.EEXIST: "файл или папка с таким именем уже есть",
    errno.ENAMETOOLONG: "слишком длинное имя файла или путь",
    errno.EBUSY: "файл занят другой программой",
    errno.EINVAL: "недопустимое имя файла",
}


def os_reason(e: OSError) -> str:
    """Why an OS call failed, in Russian for the common cases (the OS's own text, often English, otherwise)."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "не хватает места на диске (или превышен допустимый размер файла); освободите место и повторите"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "нет прав доступа"
    if e.errno == errno.EROFS:
        return "диск или папка только для чтения"
    if e.errno in _OS_REASONS:
        return _OS_REASONS[e.errno]
    return describe(e)


def _why(e: OSError) -> str:
    """:func:`os_reason` for a write."""
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "нет прав на запись в эту папку"
    return os_reason(e)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_synced(path: Path, data: bytes) -> None:
    """Write a new file and fsync it — for files inside a temporary folder that is renamed into place whole
    (a published version, an approval); raises OSError for the caller to word."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- timestamped folders: output/reports/<run>, output/published/<version>, output/approvals/<id> ------------

STAMP_FORMAT = "%Y-%m-%d_%H%M%S"
RUN_NAME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}_\d{6})(?:-(\d+))?$")  # a stamp, "-N" when a second is shared


def stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now()).strftime(STAMP_FORMAT)


def run_names(now: dt.datetime | None = None) -> Iterator[str]:
    """``YYYY-MM-DD_HHMMSS``, then ``…-2``, ``…-3`` … (up to 999) for runs that share a second."""
    base = stamp(now)
    yield base
    for i in range(2, 1000):
        yield f"{base}-{i}"


def stamp_of(name: str) -> dt.datetime | None:
    """When a folder named by :func:`run_names` was made; None for any other name."""
    m = RUN_NAME_RE.match(name)
    if not m:
        return None
    try:
        return dt.datetime.strptime(m.group(1), STAMP_FORMAT)
    except ValueError:
        return None


def make_dir(path: Path) -> Path:
    """Create a folder for reports (``--report-dir`` and the like): an OS failure is a Russian PerechenError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PerechenError("write_failed", f"Не удалось создать папку {path}: {_why(e)}.", path) from None
    return path


def free_name(parent: Path, now: dt.datetime | None = None) -> Path | None:
    """The first name from :func:`run_names` not yet taken in ``parent`` (None when all 999 are)."""
    return next((parent / n for n in run_names(now) if not (parent / n).exists()), None)


def new_run_dir(parent: Path, now: dt.datetime | None = None) -> Path:
    """Create ``parent/<YYYY-MM-DD_HHMMSS>`` (with a suffix when two runs share a second)."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for name in run_names(now):
            d = parent / name
            try:
                d.mkdir()
                return d
            except FileExistsError:
                continue
    except OSError as e:
        raise PerechenError("write_failed", f"Не удалось создать папку отчётов в {parent}: {_why(e)}.",
                            parent) from None
    raise PerechenError("write_failed", f"Не удалось создать папку отчётов в {parent}.", parent)
