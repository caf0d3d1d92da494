"""The reader's side of concurrency (issue 7, part 5): the master replaced by an atomic rename while it
is read, and a file on a slow share read while it is still being written."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from perechen.models import FileError
from perechen.reader import load_bytes, read_register
from perechen.rules import Rules
from tests.corpus import make_corpus as mc


def _fast(rules: Rules, retries: int = 5, delay: float = 0.05) -> Rules:
    lim = rules.schema.limits.model_copy(update={"unstable_retries": retries, "unstable_delay_seconds": delay})
    schema = rules.schema.model_copy(update={"limits": lim})
    return Rules(rules.directory, schema, rules.lists, rules.checks, rules.file_errors)


class _ReplacedWhileRead(type(Path())):  # type: ignore[misc]
    """A path whose file is atomically replaced (os.replace) right after each of the first N reads."""

    replacements: list[bytes]

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        f = super().open(*args, **kwargs)
        path = self
        real_read = f.read

        def read(*a: Any) -> bytes:
            data = real_read(*a)
            if path.replacements:
                tmp = path.with_name("~tmp" + path.name)
                tmp.write_bytes(path.replacements.pop(0))
                os.replace(tmp, path)
            return data
        f.read = read
        return f


def test_atomic_rename_during_read_is_retried(tmp_path: Path, rules: Rules) -> None:
    old, new = mc.base(), mc.with_openpyxl(lambda wb: wb["Перечень"].__setitem__("S2", "новая версия"))
    p = _ReplacedWhileRead(tmp_path / "perechen.xlsx")
    p.write_bytes(old)
    p.replacements = [new]
    assert load_bytes(p, _fast(rules)) == new  # the old bytes were read, the inode changed: read again


def test_replaced_on_every_attempt_gives_unstable(tmp_path: Path, rules: Rules) -> None:
    p = _ReplacedWhileRead(tmp_path / "perechen.xlsx")
    p.write_bytes(mc.base())
    p.replacements = [mc.base() for _ in range(10)]
    with pytest.raises(FileError) as e:
        load_bytes(p, _fast(rules, retries=3))
    assert e.value.code == "unstable" and str(p) in e.value.message and "3" in e.value.message


def test_reads_during_repeated_replacement_are_consistent(tmp_path: Path, rules: Rules) -> None:
    """Excel saving again and again (temp file + rename) while we read: every read is one whole version."""
    a = mc.base()
    b = mc.with_openpyxl(lambda wb: wb["Перечень"].__setitem__("S2", "версия Б"))
    p = tmp_path / "perechen.xlsx"
    p.write_bytes(a)
    stop = threading.Event()

    def saver() -> None:
        k = 0
        while not stop.is_set():
            tmp = tmp_path / f"~{k % 2}.tmp"
            tmp.write_bytes(b if k % 2 else a)
            os.replace(tmp, p)
            k += 1
            time.sleep(0.002)

    t = threading.Thread(target=saver, daemon=True)
    t.start()
    try:
        seen = set()
        for _ in range(15):
            try:
                reg = read_register(p, _fast(rules, retries=8, delay=0.01))
            except FileError as e:
                assert e.code == "unstable", e.message
                continue
            assert len(reg.rows) == 8
            seen.add(reg.rows[0].get("note"))
        assert seen <= {None, "версия Б"}
    finally:
        stop.set()
        t.join()


def _slow_writer(path: Path, data: bytes, chunks: int, pause: float) -> threading.Thread:
    def run() -> None:
        step = len(data) // chunks + 1
        with path.open("wb") as f:
            for k in range(0, len(data), step):
                f.write(data[k:k + step])
                f.flush()
                time.sleep(pause)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_file_still_being_written_then_finished_is_read(tmp_path: Path, rules: Rules) -> None:
    p = tmp_path / "perechen.xlsx"
    t = _slow_writer(p, mc.base(), chunks=4, pause=0.03)  # done in ~0.12 s
    time.sleep(0.01)
    # A 3 s window for a ~0.12 s write: a busy machine can stall the writer thread longer than the 0.5 s once allowed.
    reg = read_register(p, _fast(rules, retries=60, delay=0.05))
    t.join()
    assert len(reg.rows) == 8


def test_slow_share_still_writing_gives_unstable(tmp_path: Path, rules: Rules) -> None:
    p = tmp_path / "perechen.xlsx"
    t = _slow_writer(p, mc.base(), chunks=60, pause=0.05)  # ~3 s of writing
    time.sleep(0.05)
    with pytest.raises(FileError) as e:
        read_register(p, _fast(rules, retries=4, delay=0.05))
    t.join()
    assert e.value.code == "unstable"
    assert str(p) in e.value.message and "записывается" in e.value.message


def test_recent_zip_without_directory_is_unstable_old_one_damaged(tmp_path: Path, rules: Rules) -> None:
    data = mc.base()
    half = data[: data.find(b"PK\x01\x02")]
    p = tmp_path / "perechen.xlsx"
    p.write_bytes(half)  # just written: Excel may still be saving it
    with pytest.raises(FileError) as e:
        read_register(p, _fast(rules, retries=2, delay=0.01))
    assert e.value.code == "unstable"
    old = time.time() - 3600
    os.utime(p, (old, old))
    with pytest.raises(FileError) as e:
        read_register(p, _fast(rules, retries=2, delay=0.01))
    assert e.value.code == "zip_damaged" and "не до конца" in e.value.message


def test_vanishing_file_during_excel_save_is_waited_for(tmp_path: Path, rules: Rules) -> None:
    """Excel's save: the workbook is briefly absent while a «~…tmp» file sits beside it."""
    p = tmp_path / "perechen.xlsx"
    tmp = tmp_path / "~ABCD.tmp"
    tmp.write_bytes(mc.base())

    def finish() -> None:
        time.sleep(0.1)
        os.replace(tmp, p)

    t = threading.Thread(target=finish, daemon=True)
    t.start()
    reg = read_register(p, _fast(rules, retries=60, delay=0.05))  # a 3 s window for a 0.1 s save (as above)
    t.join()
    assert len(reg.rows) == 8
