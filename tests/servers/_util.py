"""Small helpers shared by the test servers: ports, process groups, skip-or-fail."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NoReturn

REQUIRE_ENV = "PERECHEN_REQUIRE_SERVERS"


class ServerUnavailable(RuntimeError):
    """A server cannot run on this machine (missing package, no permission)."""


def servers_required() -> bool:
    """True when CI demands that every real-server test runs (PERECHEN_REQUIRE_SERVERS=1)."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test with a visible reason, or fail it when the servers are required."""
    import pytest

    if servers_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this is a failure)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: object, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate()`` until it is true or raise TimeoutError naming ``what``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def kill_group(proc: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    """Stop a process started with ``start_new_session=True`` and everything in its group."""
    if proc is None:
        return
    if not hasattr(os, "killpg"):  # Windows: no process groups (start_new_session is ignored there)
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
        return
    pgid = proc.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker of the group survives it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        return


def servers_base_dir() -> Path:
    """Folder holding one sub-folder per running test server (under the system temp dir)."""
    base = Path(tempfile.gettempdir()) / "perechen-servers"
    base.mkdir(mode=0o755, exist_ok=True)
    return base


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_owner(workdir: Path, pgids: list[int]) -> None:
    """Record who owns ``workdir`` and which process groups it started (for stale clean-up)."""
    data = {"owner_pid": os.getpid(), "pgids": pgids}
    tmp = workdir / "owner.json.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(workdir / "owner.json")


def reap_stale(prefix: str) -> None:
    """Remove folders (and their processes) left by test sessions that were killed.

    A process group is killed only when its leader's command line mentions the stale folder,
    so a recycled PID is never touched.
    """
    base = servers_base_dir()
    for workdir in base.glob(prefix + "*"):
        owner_file = workdir / "owner.json"
        try:
            data = json.loads(owner_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # Being created right now, or not ours: leave folders younger than an hour alone.
            with contextlib.suppress(OSError):
                if time.time() - workdir.stat().st_mtime > 3600:
                    shutil.rmtree(workdir, ignore_errors=True)
            continue
        if _pid_alive(int(data.get("owner_pid", 0))):
            continue
        for pgid in data.get("pgids", []):
            try:
                cmdline = Path(f"/proc/{int(pgid)}/cmdline").read_bytes()
            except OSError:
                continue
            if str(workdir).encode() in cmdline:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(pgid), signal.SIGKILL)
        time.sleep(0.2)
        shutil.rmtree(workdir, ignore_errors=True)
