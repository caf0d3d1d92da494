"""A run lock for ``perechen nightly``: one job at a time per output folder.

The lock is a small JSON file (``output/nightly.lock``: pid, host, start time, process start marker)
created with ``O_CREAT | O_EXCL``, so exactly one process can create it. A second run that finds a
live lock fails with :class:`LockBusy` (a Russian message naming the process, the computer and the
start time) and touches nothing. A lock left by a run that was killed is recovered:

* same computer and the process is gone (or its pid now belongs to a process started later);
* or the lock is older than ``max_age`` (the run hung, or it came from another computer);
* or the file is empty/unreadable and older than a few seconds (killed right after creating it).

Taking over a stale lock happens under a second short-lived file (``nightly.lock.recover``, also
``O_EXCL``), so two runs that both find the same stale lock cannot both win.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import PerechenError

EMPTY_LOCK_GRACE_S = 10.0  # an empty lock file younger than this may still be being written
RECOVER_LOCK_STALE_S = 60.0


class LockBusy(PerechenError):
    """Another run holds the lock."""

    def __init__(self, message: str, path: Path, holder: LockInfo | None) -> None:
        super().__init__("locked", message, path)
        self.holder = holder


@dataclass
class LockInfo:
    pid: int
    host: str
    started: dt.datetime
    proc_start: str | None = None  # /proc/<pid>/stat start time (Linux), to detect pid reuse
    run_dir: str | None = None  # set once the run created its report folder
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        d: dict[str, Any] = {"pid": self.pid, "host": self.host,
                             "started": self.started.isoformat(timespec="seconds"),
                             "proc_start": self.proc_start, "run_dir": self.run_dir}
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_bytes(cls, raw: bytes) -> LockInfo | None:
        try:
            d = json.loads(raw.decode("utf-8"))
            return cls(pid=int(d["pid"]), host=str(d["host"]), started=dt.datetime.fromisoformat(d["started"]),
                       proc_start=d.get("proc_start"), run_dir=d.get("run_dir"))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None

    def describe(self) -> str:
        return (f"процесс {self.pid} на компьютере {self.host}, начат "
                f"{self.started.strftime('%d.%m.%Y %H:%M:%S')}")


def process_start_marker(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux: field 22 of /proc/<pid>/stat), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ")".
    rest = raw[raw.rfind(")") + 2:].split()
    return rest[19] if len(rest) > 19 else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this computer."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return False
    # A zombie (killed, not yet reaped by its parent) is not running any more.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
        state = stat[stat.rfind(")") + 2:].split()[0]
        if state in {"Z", "X"}:
            return False
    except (OSError, IndexError):
        pass
    return True


def _pid_alive_windows(pid: int) -> bool:  # pragma: no cover - Windows only
    # os.kill(pid, 0) would terminate the process on Windows; ask the kernel instead.
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return bool(ctypes.get_last_error() == 5)  # type: ignore[attr-defined]  # ERROR_ACCESS_DENIED: exists
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


class RunLock:
    """``with RunLock(path, max_age=...) as lock:`` — or :meth:`acquire` / :meth:`release`."""

    def __init__(self, path: Path, *, max_age: dt.timedelta = dt.timedelta(hours=6),
                 now: dt.datetime | None = None) -> None:
        self.path = Path(path)
        self.max_age = max_age
        self._now = now
        self.info: LockInfo | None = None
        self.recovered: LockInfo | None = None  # the stale lock this run took over, if any
        self.recovered_unreadable = False

    # -- public ----------------------------------------------------------------------------------
    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        info = LockInfo(pid=os.getpid(), host=socket.gethostname(), started=self._now or dt.datetime.now(),
                        proc_start=process_start_marker(os.getpid()))
        for _ in range(5):
            if self._create(info):
                self.info = info
                return self
            holder, raw_ok, age = self._read_existing()
            if holder is None and not raw_ok:
                continue  # vanished between create and read: try again
            stale, _why = self._is_stale(holder, age)
            if not stale:
                raise LockBusy(self._busy_message(holder), self.path, holder)
            if self._take_over(holder):
                if holder is None:
                    self.recovered_unreadable = True
                else:
                    self.recovered = holder
            # loop: try to create it again (another run may have been quicker)
        holder, _, _ = self._read_existing()
        raise LockBusy(self._busy_message(holder), self.path, holder)

    def set_run_dir(self, run_dir: Path) -> None:
        """Record the report folder in the lock, so a run that recovers it can name the interrupted run."""
        if self.info is None:
            return
        self.info.run_dir = str(run_dir)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(self.info.to_json(), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass

    def release(self) -> None:
        if self.info is None:
            return
        current, _, _ = self._read_existing()
        if current is not None and current.pid == self.info.pid and current.host == self.info.host:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        self.info = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- internals -------------------------------------------------------------------------------
    def _create(self, info: LockInfo) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as e:
            raise PerechenError("lock_failed", f"Не удалось создать файл блокировки {self.path}: "
                                               f"{e.strerror or e}.", self.path) from None
        try:
            os.write(fd, info.to_json().encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _read_existing(self) -> tuple[LockInfo | None, bool, float]:
        """(parsed lock or None, whether the file exists, age in seconds by mtime)."""
        try:
            raw = self.path.read_bytes()
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None, False, 0.0
        except OSError:
            return None, True, 0.0
        return LockInfo.from_bytes(raw), True, age

    def _is_stale(self, holder: LockInfo | None, age_s: float) -> tuple[bool, str]:
        if holder is None:
            return age_s > EMPTY_LOCK_GRACE_S, "файл блокировки пуст или повреждён"
        now = self._now or dt.datetime.now()
        if now - holder.started > self.max_age:
            return True, "блокировка старше допустимого"
        if holder.host == socket.gethostname():
            if not pid_alive(holder.pid):
                return True, "процесс завершён"
            marker = process_start_marker(holder.pid)
            if holder.proc_start and marker and marker != holder.proc_start:
                return True, "номер процесса занят другой программой"
        return False, ""

    def _take_over(self, holder: LockInfo | None) -> bool:
        """Remove the stale lock under a guard file; False when another run is recovering it."""
        guard = self.path.with_name(self.path.name + ".recover")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                if time.time() - guard.stat().st_mtime > RECOVER_LOCK_STALE_S:
                    guard.unlink()
            except OSError:
                pass
            time.sleep(0.05)
            return False
        os.close(fd)
        try:
            # Re-read under the guard: still the same stale lock?
            again, exists, age = self._read_existing()
            if not exists:
                return True
            same = (again is None and holder is None) or (
                again is not None and holder is not None and again.pid == holder.pid
                and again.host == holder.host and again.started == holder.started)
            if not same or not self._is_stale(again, age)[0]:
                return False
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            return True
        finally:
            try:
                guard.unlink()
            except OSError:
                pass

    def _busy_message(self, holder: LockInfo | None) -> str:
        who = holder.describe() if holder else "данные о процессе не прочитаны"
        return (f"Ночная проверка уже выполняется ({who}; файл блокировки {self.path}). "
                "Этот запуск ничего не изменил. Дождитесь окончания или, если тот процесс завис, "
                "завершите его — блокировка будет снята при следующем запуске.")
