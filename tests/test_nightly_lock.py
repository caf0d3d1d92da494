"""The nightly run lock: one run at a time, a killed run's lock is recovered.

Unit tests of perechen.lock, then real processes: a second `perechen nightly` while the first holds the lock,
and a run killed with SIGKILL midway followed by one that recovers and finishes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from perechen.lock import LockBusy, LockInfo, RunLock, pid_alive, process_start_marker

ROOT = Path(__file__).resolve().parent.parent
PERECHEN = ROOT / ".venv" / "bin" / "perechen"
PYTHON = sys.executable
TODAY = "2026-11-30"


def _write_lock(path: Path, **over: Any) -> None:
    d = {"pid": os.getpid(), "host": socket.gethostname(), "started": dt.datetime.now().isoformat(timespec="seconds"),
         "proc_start": process_start_marker(os.getpid()), "run_dir": None}
    d.update(over)
    path.write_text(json.dumps(d), encoding="utf-8")


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    assert not pid_alive(p.pid)
    return p.pid


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
    assert not path.exists()


def test_live_lock_refuses_with_russian_message(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_lock(path)  # this very process: alive
    before = path.read_bytes()
    with pytest.raises(LockBusy) as ei:
        RunLock(path).acquire()
    msg = ei.value.message
    assert "уже выполняется" in msg and str(os.getpid()) in msg and socket.gethostname() in msg
    assert "ничего не изменил" in msg
    assert ei.value.code == "locked"
    assert path.read_bytes() == before


def test_lock_of_a_dead_process_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    pid = _dead_pid()
    _write_lock(path, pid=pid, run_dir=str(tmp_path / "reports" / "2026-11-29_010000"))
    lock = RunLock(path).acquire()
    assert lock.recovered is not None and lock.recovered.pid == pid
    assert LockInfo.from_bytes(path.read_bytes()).pid == os.getpid()  # type: ignore[union-attr]
    lock.release()
    assert not path.exists()


def test_old_lock_is_recovered_even_if_pid_alive(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_lock(path, started=(dt.datetime.now() - dt.timedelta(hours=7)).isoformat())
    with pytest.raises(LockBusy):
        RunLock(path, max_age=dt.timedelta(hours=8)).acquire()
    lock = RunLock(path, max_age=dt.timedelta(hours=6)).acquire()
    assert lock.recovered is not None
    lock.release()


def test_lock_from_another_computer_waits_for_max_age(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_lock(path, pid=_dead_pid(), host="other-host.example")  # cannot see that pid: trust it …
    with pytest.raises(LockBusy) as ei:
        RunLock(path).acquire()
    assert "other-host.example" in ei.value.message
    _write_lock(path, pid=1, host="other-host.example",
                started=(dt.datetime.now() - dt.timedelta(hours=30)).isoformat())
    RunLock(path).acquire().release()  # … until it is older than the maximum age


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_reused_pid_is_not_mistaken_for_the_run(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_lock(path, proc_start="1")  # our pid, but a different process start time
    lock = RunLock(path).acquire()
    assert lock.recovered is not None
    lock.release()


def test_empty_lock_file_recovered_only_when_old(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    path.write_bytes(b"")
    with pytest.raises(LockBusy):
        RunLock(path).acquire()  # may still be being written
    old = time.time() - 120
    os.utime(path, (old, old))
    lock = RunLock(path).acquire()
    assert lock.recovered_unreadable
    lock.release()


def test_only_one_of_many_racers_takes_a_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "nightly.lock"
    _write_lock(path, pid=_dead_pid())
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from perechen.lock import RunLock, LockBusy\n"
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
    first.send_signal(signal.SIGKILL)
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
