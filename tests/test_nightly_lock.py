"""The nightly run lock: one run at a time, a killed run's lock is taken over.

Unit tests of perechen.locks (an OS lock through filelock, plus a note naming the holder), then real processes:
a second `perechen nightly` while the first holds the lock, and a run killed with SIGKILL midway followed by one
that recovers and finishes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perechen.locks import LockBusy, LockInfo, RunLock, exclusive
from perechen.models import PerechenError

ROOT = Path(__file__).resolve().parent.parent
PERECHEN = ROOT / ".venv" / "bin" / "perechen"
PYTHON = sys.executable
TODAY = "2026-11-30"


def _write_note(path: Path, **over: Any) -> None:
    d = {"pid": os.getpid(), "host": socket.gethostname(), "started": dt.datetime.now().isoformat(timespec="seconds"),
         "run_dir": None}
    d.update(over)
    path.write_text(json.dumps(d), encoding="utf-8")


def _dead_pid() -> int:
    p = subprocess.Popen([PYTHON, "-c", "pass"])
    p.wait()
    return p.pid


# A child that takes the lock (RunLock, or the plain lock with "plain"), says "held", and keeps it until stdin
# closes — or until it is killed. HIDE_FCNTL=1 makes fcntl unimportable first, as on Windows.
HOLDER = r"""
import os, sys
if os.environ.get("HIDE_FCNTL"):
    sys.modules["fcntl"] = None
from pathlib import Path
from perechen.locks import RunLock, exclusive
path = Path(sys.argv[1])
with (exclusive(path) if sys.argv[2:] == ["plain"] else RunLock(path)):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder() -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def start(path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        p = subprocess.Popen([PYTHON, "-c", HOLDER, str(path), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **(env or {})})
        procs.append(p)
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "held", p.communicate()
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


# --------------------------------------------------------------------------------------------------
# Unit tests
# --------------------------------------------------------------------------------------------------

def test_acquire_writes_pid_host_start_and_release_removes(tmp_path: Path) -> None:
    path = tmp_path / "out" / "nightly.lock"
    with RunLock(path) as lock:
        info = LockInfo.from_bytes(path.read_bytes())
        assert info is not None
        assert info.pid == os.getpid()
        assert info.host == socket.gethostname()
        assert abs((dt.datetime.now() - info.started).total_seconds()) < 5
        lock.set_run_dir(tmp_path / "run")
        assert LockInfo.from_bytes(path.read_bytes()).run_dir == str(tmp_path / "run")  # type: ignore[union-attr]
        assert lock.recovered is None and not lock.recovered_unreadable
    assert not path.exists()
    RunLock(path).acquire().release()  # free again


def test_live_lock_refuses_with_russian_message(tmp_path: Path, holder: Any) -> None:
    path = tmp_path / "nightly.lock"
    first = holder(path)
    before = path.read_bytes()
    with pytest.raises(LockBusy) as ei:
        RunLock(path).acquire()
    msg = ei.value.message
    assert "уже выполняется" in msg and str(first.pid) in msg and socket.gethostname() in msg
    assert "ничего не изменил" in msg
    assert ei.value.code == "locked" and ei.value.holder is not None and ei.value.holder.pid == first.pid
    assert path.read_bytes() == before
    with pytest.raises(LockBusy):
        RunLock(path).acquire()  # still held: the refused attempt did not disturb it


def test_lock_held_in_this_process_refuses_a_second_taker(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    with RunLock(path), pytest.raises(LockBusy):
        RunLock(path).acquire()


def test_note_of_a_dead_process_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    pid = _dead_pid()
    _write_note(path, pid=pid, run_dir=str(tmp_path / "reports" / "2026-11-29_010000"))
    lock = RunLock(path).acquire()
    assert lock.recovered is not None and lock.recovered.pid == pid
    assert lock.recovered.run_dir == str(tmp_path / "reports" / "2026-11-29_010000")
    assert LockInfo.from_bytes(path.read_bytes()).pid == os.getpid()  # type: ignore[union-attr]
    lock.release()
    assert not path.exists()


def test_note_naming_a_live_pid_does_not_block_when_nobody_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_note(path, host="other-host.example")  # a pid, a host: only the OS lock decides
    lock = RunLock(path).acquire()
    assert lock.recovered is not None and lock.recovered.host == "other-host.example"
    lock.release()


def test_hung_holder_is_named_not_taken_over(tmp_path: Path, holder: Any) -> None:
    path = tmp_path / "nightly.lock"
    first = holder(path)
    # the holder as another computer's run started 30 hours ago (over an SMB share)
    _write_note(path, pid=first.pid, host="other-host.example",
                started=(dt.datetime.now() - dt.timedelta(hours=30)).isoformat(timespec="seconds"))
    with pytest.raises(LockBusy) as ei:
        RunLock(path, max_age=dt.timedelta(hours=6)).acquire()
    msg = ei.value.message
    assert "other-host.example" in msg and "дольше 6 ч" in msg and "завис" in msg and str(first.pid) in msg


def test_unreadable_note_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    path.write_bytes(b"")  # killed right after creating it
    lock = RunLock(path).acquire()
    assert lock.recovered is None and lock.recovered_unreadable
    assert LockInfo.from_bytes(path.read_bytes()) is not None
    lock.release()


def test_only_one_of_many_racers_takes_a_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_note(path, pid=_dead_pid())
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from perechen.locks import RunLock, LockBusy\n"
        "go = Path(sys.argv[2])\n"
        "while not go.exists(): time.sleep(0.005)\n"
        "try:\n"
        "    lock = RunLock(Path(sys.argv[1])).acquire()\n"
        "except LockBusy:\n"
        "    print('busy'); sys.exit(0)\n"
        "print('won'); sys.stdout.flush(); time.sleep(1.5); lock.release()\n"
    )
    go = tmp_path / "go"
    procs = [subprocess.Popen([PYTHON, "-c", script, str(path), str(go)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT) for _ in range(6)]
    time.sleep(0.5)
    go.write_text("1")
    outs = [p.communicate(timeout=30)[0].strip() for p in procs]
    assert sorted(outs) == ["busy"] * 5 + ["won"], outs
    assert not path.exists()


def test_plain_lock_waits_then_names_the_situation(tmp_path: Path, holder: Any) -> None:
    path = tmp_path / "published" / ".lock"
    holder(path, "plain")
    t0 = time.monotonic()
    with pytest.raises(PerechenError) as ei, exclusive(path, wait=0.3, busy=lambda: PerechenError("x_busy", "занято")):
        pass
    assert ei.value.code == "x_busy" and time.monotonic() - t0 >= 0.3


def test_a_killed_holder_releases_the_lock(tmp_path: Path, holder: Any) -> None:
    """The OS drops the lock of a process that is killed: the next taker gets it at once and names the dead run."""
    path = tmp_path / "nightly.lock"
    first = holder(path)
    with pytest.raises(LockBusy):
        RunLock(path).acquire()
    first.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
    first.wait(timeout=30)
    assert path.exists()  # the killed run could not clean up its note
    lock = RunLock(path).acquire()
    assert lock.recovered is not None and lock.recovered.pid == first.pid
    lock.release()
    plain = tmp_path / ".publish.lock"
    first = holder(plain, "plain")
    first.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
    first.wait(timeout=30)
    with exclusive(plain):
        pass


def test_locking_works_without_fcntl(tmp_path: Path, holder: Any) -> None:
    """As on Windows (no fcntl): perechen.locks still excludes a second taker; no path skips locking."""
    path = tmp_path / "nightly.lock"
    env = {"HIDE_FCNTL": "1"}
    holder(path, env=env)
    probe = (
        "import sys\n"
        "sys.modules['fcntl'] = None\n"
        "from pathlib import Path\n"
        "import filelock\n"
        "assert not filelock.has_fcntl\n"
        "from perechen.locks import RunLock, LockBusy, exclusive\n"
        "from perechen import publish, store\n"
        "try:\n"
        "    RunLock(Path(sys.argv[1])).acquire()\n"
        "except LockBusy as e:\n"
        "    print('busy', e.holder.pid if e.holder else None)\n"
        "else:\n"
        "    print('acquired')\n"
    )
    r = subprocess.run([PYTHON, "-W", "ignore", "-c", probe, str(path)], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "busy", r.stdout
    plain = tmp_path / "published" / ".publish.lock"
    holder(plain, "plain", env=env)
    r = subprocess.run([PYTHON, "-W", "ignore", "-c", probe.replace("RunLock(Path(sys.argv[1])).acquire()",
                                                                    "exclusive(Path(sys.argv[1])).__enter__()"),
                        str(plain)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.stdout.split()[0] == "busy", (r.stdout, r.stderr)


# --------------------------------------------------------------------------------------------------
# Real processes
# --------------------------------------------------------------------------------------------------

# Runs `perechen nightly` in this process, with the check stage held until a gate file appears.
HOLD = r"""
import sys, time
from pathlib import Path
import perechen.stages as stages  # the check stage nightly calls
orig = stages.check_workbook
inside, gate = Path(sys.argv[2]), Path(sys.argv[3])
def held(*a, **k):
    inside.write_text("1")
    while not gate.exists():
        time.sleep(0.02)
    return orig(*a, **k)
stages.check_workbook = held
from perechen.cli import main
main(["nightly", "--config", sys.argv[1], "--today", sys.argv[4]])
"""


@pytest.fixture
def setup(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> dict[str, Path]:
    for r in good_rows:
        r["changed_on"] = dt.date(2026, 11, 25)
    wb = make_workbook(good_rows)
    cfg = tmp_path / "perechen.toml"
    cfg.write_text(f'workbook = "{wb}"\noutput = "{tmp_path / "output"}"\n', encoding="utf-8")
    return {"config": cfg, "workbook": wb, "output": tmp_path / "output", "tmp": tmp_path}


def _hold(setup: dict[str, Path]) -> tuple[subprocess.Popen[str], Path, Path]:
    inside, gate = setup["tmp"] / "inside", setup["tmp"] / "gate"
    p = subprocess.Popen([PYTHON, "-c", HOLD, str(setup["config"]), str(inside), str(gate), TODAY],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=setup["tmp"])
    deadline = time.monotonic() + 30
    while not inside.exists():
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline, "the held run did not reach the check stage"
        time.sleep(0.02)
    return p, inside, gate


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def _nightly(setup: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PERECHEN), "nightly", "--config", str(setup["config"]), "--today", TODAY],
                          capture_output=True, text=True, cwd=setup["tmp"], timeout=120)


def test_second_run_while_first_holds_the_lock_changes_nothing(setup: dict[str, Path]) -> None:
    first, _inside, gate = _hold(setup)
    try:
        before = _tree(setup["output"])
        assert "nightly.lock" in before
        second = _nightly(setup)
        assert second.returncode == 2, second
        assert "уже выполняется" in second.stderr
        assert str(first.pid) in second.stderr
        assert "Traceback" not in second.stderr + second.stdout
        assert _tree(setup["output"]) == before  # nothing written, not even the log
    finally:
        gate.write_text("1")
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, (out, err)
    assert "Сводка:" in out
    assert not (setup["output"] / "nightly.lock").exists()
    history = (setup["output"] / "reports" / "history.jsonl").read_text("utf-8").splitlines()
    assert len(history) == 1


def test_run_killed_midway_is_recovered_by_the_next(setup: dict[str, Path]) -> None:
    first, _inside, _gate = _hold(setup)
    lock = setup["output"] / "nightly.lock"
    held = LockInfo.from_bytes(lock.read_bytes())
    assert held is not None and held.pid == first.pid and held.run_dir
    first.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
    first.wait(timeout=30)
    assert lock.exists()  # the killed run could not clean up

    nxt = _nightly(setup)
    assert nxt.returncode == 0, nxt
    assert f"Снята блокировка прерванного запуска (процесс {first.pid})" in nxt.stdout
    assert not lock.exists()
    history = [json.loads(x) for x in (setup["output"] / "reports" / "history.jsonl").read_text("utf-8").splitlines()]
    assert [h["status"] for h in history] == ["interrupted", "ok"]
    assert history[0]["run"] == Path(held.run_dir).name
    log = (setup["output"] / "logs" / "nightly.log").read_text("utf-8")
    assert "Снята блокировка прерванного запуска" in log
    index = (setup["output"] / "reports" / "index.html").read_text("utf-8")
    assert "запуск прерван" in index


def test_publication_while_another_holds_the_publish_lock_exits_2(setup: dict[str, Path], holder: Any) -> None:
    """The publication lock (output/published/.publish.lock) excludes a second publication, with a Russian message."""
    lock = setup["output"] / "published" / ".publish.lock"
    first = holder(lock, "plain")
    r = subprocess.run([str(PERECHEN), "publish", "--config", str(setup["config"])], capture_output=True, text=True,
                       cwd=setup["tmp"], timeout=120)
    assert r.returncode == 2, r
    assert "Другая публикация уже идёт" in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert not (setup["output"] / "published" / "LATEST").exists()
    first.kill()
    first.wait(timeout=30)
    r = subprocess.run([str(PERECHEN), "publish", "--config", str(setup["config"])], capture_output=True, text=True,
                       cwd=setup["tmp"], timeout=120)
    assert r.returncode == 0, r  # the killed holder's lock went with it
    assert (setup["output"] / "published" / "LATEST").exists()
