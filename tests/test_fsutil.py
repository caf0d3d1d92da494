"""fsutil: the one atomic write and the one timestamped-folder namer every module uses."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest

from perechen import fsutil
from perechen.models import PerechenError

NOW = dt.datetime(2026, 12, 6, 2, 30, 5)


def test_run_names_and_stamp_of(tmp_path: Path) -> None:
    names = list(fsutil.run_names(NOW))
    assert names[:3] == ["2026-12-06_023005", "2026-12-06_023005-2", "2026-12-06_023005-3"] and len(names) == 999
    assert all(fsutil.stamp_of(n) == NOW for n in names)
    assert fsutil.stamp_of("index.html") is None and fsutil.stamp_of("2026-13-01_000000") is None

    first = fsutil.new_run_dir(tmp_path, NOW)
    second = fsutil.new_run_dir(tmp_path, NOW)  # the same second: a suffix, never the same folder
    assert (first.name, second.name) == ("2026-12-06_023005", "2026-12-06_023005-2")
    assert fsutil.free_name(tmp_path, NOW) == tmp_path / "2026-12-06_023005-3"
    assert not (tmp_path / "2026-12-06_023005-3").exists()  # free_name only names it


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "a.json"
    fsutil.atomic_write(p, "первый")
    fsutil.atomic_write(p, b"second")
    assert p.read_bytes() == b"second" and [x.name for x in p.parent.iterdir()] == ["a.json"]


def test_atomic_write_without_fsync_still_replaces_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sync=False (a region run's copies of the agencies' reports): no fsync, still a temporary name + rename."""
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    p = tmp_path / "report.html"
    fsutil.atomic_write(p, "старый")
    assert len(synced) == 1
    fsutil.atomic_write(p, "новый", sync=False)
    assert len(synced) == 1 and p.read_text(encoding="utf-8") == "новый"
    assert [x.name for x in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_atomic_write_private_mode(tmp_path: Path) -> None:
    p = fsutil.atomic_write(tmp_path / "copy.xlsx", b"x", mode=0o600)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    q = fsutil.atomic_write(tmp_path / "report.html", "x")
    assert stat.S_IMODE(q.stat().st_mode) == 0o666 & ~fsutil._umask()


def test_atomic_write_all_writes_every_file_synced_and_names_a_failure(tmp_path: Path) -> None:
    files = [(tmp_path / f"sort-{i}.html", f"вид {i}") for i in range(12)]
    assert fsutil.atomic_write_all(files) == [p for p, _ in files]
    assert all(p.read_text(encoding="utf-8") == d for p, d in files)
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted(p.name for p, _ in files)  # no temporary left
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(PerechenError) as e:
        fsutil.atomic_write_all([(tmp_path / "ok.html", "x"), (tmp_path / "taken" / "index.html", "x")])
    assert e.value.code == "write_failed" and "index.html" in e.value.message
    assert (tmp_path / "ok.html").read_text(encoding="utf-8") == "x"
