"""Issue 13 §2, by simulation: every Windows error number for «a file another program holds» is a lock.

tests/test_platform.py simulates Excel holding a file with WinError 32 (sharing violation); Windows also answers
5 (access denied: a read-only share mode, a preview pane) and 33 (lock violation). Each is retried briefly and
then named «файл открыт в другой программе»; any other Windows error with a PermissionError is not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from perechen import fsutil
from perechen.models import PerechenError


def _hold(monkeypatch: pytest.MonkeyPatch, winerror: int) -> list[int]:
    real = os.replace
    calls = [0]

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == "perechen.xlsx":
            calls[0] += 1
            e = PermissionError(13, "Отказано в доступе")
            e.winerror = winerror  # type: ignore[attr-defined]  # set by Windows; absent on POSIX
            raise e
        real(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", replace)
    monkeypatch.setattr(fsutil, "LOCKED_RETRY_DELAYS", (0.01, 0.01))
    return calls


@pytest.mark.parametrize("winerror", [5, 32, 33])
def test_windows_lock_errors_are_named_and_retried(winerror: int, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "perechen.xlsx"
    target.write_bytes(b"old")
    calls = _hold(monkeypatch, winerror)
    with pytest.raises(PerechenError) as ei:
        fsutil.atomic_write(target, b"new")
    assert ei.value.code == "file_locked" and "файл открыт в другой программе" in ei.value.message
    assert calls[0] == 3, "tried, then retried briefly"
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["perechen.xlsx"]


def test_another_windows_error_is_not_a_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _hold(monkeypatch, 1920)  # ERROR_CANT_ACCESS_FILE: not «open in another program»
    with pytest.raises(PerechenError) as ei:
        fsutil.atomic_write(tmp_path / "perechen.xlsx", b"new")
    assert ei.value.code != "file_locked" and "другой программе" not in ei.value.message
    assert calls[0] == 1, "not retried"
