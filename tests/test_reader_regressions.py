"""Every regression case (tests/corpus/regressions/) reads cleanly in a memory-limited child process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.regressions.recipes import REGRESSIONS, Regression
from tests.test_reader_limits import MAX_RSS_MB, measure

HERE = Path(__file__).resolve().parent / "corpus" / "regressions"
FILES = sorted(HERE.glob("*.xlsx"))


@pytest.mark.parametrize("reg", REGRESSIONS, ids=[r.name for r in REGRESSIONS])
def test_regression_recipe(reg: Regression, tmp_path: Path) -> None:
    p = tmp_path / "перечень.xlsx"
    p.write_bytes(reg.build())
    outcome, _took, peak_mb, _ = measure(p)
    assert outcome == reg.expect, reg.origin
    assert peak_mb < MAX_RSS_MB  # no wall-clock assertion: a runaway is killed by the child's CPU limit


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_regression_file(path: Path, tmp_path: Path) -> None:
    note = path.with_suffix(".txt").read_text("utf-8")
    expect = note.splitlines()[0].removeprefix("expect:").strip()
    p = tmp_path / "перечень.xlsx"
    p.write_bytes(path.read_bytes())
    outcome, _took, peak_mb, _ = measure(p)
    assert outcome == expect, note
    assert peak_mb < MAX_RSS_MB  # no wall-clock assertion: a runaway is killed by the child's CPU limit


def test_regression_files_are_tiny() -> None:
    for p in FILES:
        assert p.stat().st_size < 20_000, f"{p.name}: keep committed regression files tiny, or write a recipe"
        assert p.with_suffix(".txt").is_file(), f"{p.name}: a note of origin is required"
