"""Locks: one job at a time per output folder — the nightly run, a publication, a commit to the store.

Every lock is an operating-system lock taken through :mod:`filelock` (``flock`` on Linux and macOS,
``LockFileEx`` on Windows): the OS releases it when the holding process ends, however it ends, so the lock of
a killed run is simply free for the next one. A lock that cannot be taken is an error, never skipped.

:func:`exclusive` is the plain lock (``output/published/.lock``, ``output/published/.publish.lock``).
:class:`RunLock` is the nightly run's lock: the OS lock on a hidden file beside it (``output/.nightly.lock``)
plus ``output/nightly.lock``, a small JSON note of the holder (pid, computer, start time, report folder)
written once the OS lock is held. The note only names the holder — in the «уже выполняется» message, and,
when a run finds a note it did not write, as the run that was killed (recorded in the run history).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock

from .fsutil import os_reason, write_replace
from .models import PerechenError
from .text import ru_datetime

POLL_SECONDS = 0.1


class LockBusy(PerechenError):
    """Another process holds the lock."""

    def __init__(self, message: str, path: Path, holder: LockInfo | None = None, *, code: str = "locked") -> None:
        super().__init__(code, message, path)
        self.holder = holder


def _os_lock(path: Path, timeout: float) -> filelock.BaseFileLock:
    """Take the OS lock on ``path``, waiting up to ``timeout`` seconds; LockBusy when it stays held."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path), timeout=timeout, poll_interval=POLL_SECONDS)
        lock.acquire()
    except filelock.Timeout:
        raise LockBusy(f"Файл блокировки {path} занят другим процессом.", path) from None
    except OSError as e:
        raise PerechenError("lock_failed", f"Не удалось создать файл блокировки {path}: {os_reason(e)}.",
                            path) from None
    return lock


@contextlib.contextmanager
def exclusive(path: Path, *, wait: float = 0.0, busy: Callable[[], PerechenError] | None = None) -> Iterator[None]:
    """Hold the OS lock on ``path`` for the ``with`` block (waiting up to ``wait`` seconds for it).

    When it stays held, raises ``busy()`` (a Russian message for the situation) or :class:`LockBusy`.
    """
    try:
        lock = _os_lock(path, wait)
    except LockBusy:
        if busy is None:
            raise
        raise busy() from None
    try:
        yield
    finally:
        lock.release()


@dataclass
class LockInfo:
    """Who holds (or held, if it was killed) the nightly lock."""

    pid: int
    host: str
    started: dt.datetime
    run_dir: str | None = None  # set once the run created its report folder

    def to_json(self) -> str:
        d: dict[str, Any] = {"pid": self.pid, "host": self.host,
                             "started": self.started.isoformat(timespec="seconds"), "run_dir": self.run_dir}
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_bytes(cls, raw: bytes) -> LockInfo | None:
        try:
            d = json.loads(raw.decode("utf-8"))
            return cls(pid=int(d["pid"]), host=str(d["host"]), started=dt.datetime.fromisoformat(d["started"]),
                       run_dir=d.get("run_dir"))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None

    def describe(self) -> str:
        return (f"процесс {self.pid} на компьютере {self.host}, начат "
                f"{ru_datetime(self.started, seconds=True)}")


class RunLock:
    """``with RunLock(output / "nightly.lock") as lock:`` — or :meth:`acquire` / :meth:`release`.

    ``path`` is the holder note; the OS lock is on the hidden file ``.<name>`` beside it. ``max_age``: a run
    holding the lock longer than this is called hung in the «уже выполняется» message (it is not taken over —
    its process still runs; ending it releases the lock).
    """

    def __init__(self, path: Path, *, max_age: dt.timedelta = dt.timedelta(hours=6),
                 now: dt.datetime | None = None) -> None:
        self.path = Path(path)
        self.os_path = self.path.with_name(f".{self.path.name}")
        self.max_age = max_age
        self._now = now
        self._lock: filelock.BaseFileLock | None = None
        self.info: LockInfo | None = None
        self.recovered: LockInfo | None = None  # the note of a killed run this run found, if any
        self.recovered_unreadable = False  # a note was found but could not be read

    # -- public ----------------------------------------------------------------------------------
    def acquire(self) -> RunLock:
        # No pid-file lock even for an output/ shared by several hosts over SMB: the server (Windows, Samba)
        # enforces byte-range locks across clients (LockFileEx; flock on a Linux cifs mount not made with
        # nobrl) and drops them when the holder's session ends, so the note only names the holder.
        try:
            self._lock = _os_lock(self.os_path, 0.0)
        except LockBusy:
            holder = self._read_note()
            raise LockBusy(self._busy_message(holder), self.path, holder) from None
        try:
            # The OS lock was free: a note still here was left by a run that was killed.
            if self.path.exists():
                self.recovered = self._read_note()
                self.recovered_unreadable = self.recovered is None
            self.info = LockInfo(pid=os.getpid(), host=socket.gethostname(), started=self._now or dt.datetime.now())
            self._write_note()
        except BaseException:
            self._lock.release()
            self._lock = None
            raise
        return self

    def set_run_dir(self, run_dir: Path) -> None:
        """Record the report folder in the note, so a run that finds it can name the interrupted run."""
        if self.info is None:
            return
        self.info.run_dir = str(run_dir)
        with contextlib.suppress(PerechenError):
            self._write_note()

    def release(self) -> None:
        if self._lock is None:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        finally:
            self._lock.release()
            self._lock = None
            self.info = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- internals -------------------------------------------------------------------------------
    def _write_note(self) -> None:
        assert self.info is not None
        try:
            # fsutil's one atomic write; its replace is retried while a refused run reads the note (Windows).
            write_replace(self.path, self.info.to_json())
        except OSError as e:
            raise PerechenError("lock_failed", f"Не удалось записать файл блокировки {self.path}: "
                                               f"{os_reason(e)}.", self.path) from None

    def _read_note(self) -> LockInfo | None:
        try:
            return LockInfo.from_bytes(self.path.read_bytes())
        except OSError:
            return None

    def _busy_message(self, holder: LockInfo | None) -> str:
        who = holder.describe() if holder else "данные о процессе не прочитаны"
        advice = "Дождитесь окончания или, если тот процесс завис, завершите его — блокировка снимется сама."
        if holder is not None and (self._now or dt.datetime.now()) - holder.started > self.max_age:
            hours = int(self.max_age.total_seconds() // 3600)
            advice = (f"Он идёт дольше {hours} ч и, вероятно, завис: завершите процесс {holder.pid} на компьютере "
                      f"{holder.host} — блокировка снимется сама.")
        return (f"Ночная проверка уже выполняется ({who}; файл блокировки {self.path}). "
                f"Этот запуск ничего не изменил. {advice}")
