"""Every corpus case gives its expected outcome (issue 7, part 1): a FileError with its code and a Russian
message naming the file, or the rows read and exactly the reader findings (code, cell) expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from perechen.models import FileError, PerechenError
from perechen.reader import read_register
from perechen.rules import Rules
from tests.corpus import make_corpus as mc


@pytest.fixture(scope="session")
def corpus() -> dict[str, Path | None]:
    return mc.corpus_dir()


def test_corpus_has_at_least_30_cases() -> None:
    assert len(mc.CASES) >= 30
    assert len({c.name for c in mc.CASES}) == len(mc.CASES)


@pytest.mark.parametrize("case", mc.CASES, ids=[c.name for c in mc.CASES])
def test_corpus_case(case: mc.Case, corpus: dict[str, Path | None], rules: Rules) -> None:
    path = corpus[case.name]
    if path is None:
        pytest.skip(f"needs {case.needs}")
    exp = case.expect
    if exp.error:
        with pytest.raises(FileError) as ei:
            read_register(path, rules)
        err = ei.value
        assert err.code == exp.error, err.message
        assert err.code in rules.file_errors, f"code {err.code} has no message in rules/file_errors.toml"
        assert str(path) in err.message  # names the file
        assert "Traceback" not in err.message and "{" not in err.message
        assert any("а" <= ch <= "я" for ch in err.message.lower())  # Russian
        for s in exp.message:
            assert s in err.message, (s, err.message)
        return
    try:
        reg = read_register(path, rules)
    except PerechenError as e:  # pragma: no cover - the assertion message is the point
        pytest.fail(f"unexpected {e.code}: {e.message}")
    if exp.rows is not None:
        assert len(reg.rows) == exp.rows
    got = {(f.code, f.cell) for f in reg.findings}
    if exp.findings is not None:
        assert got == exp.findings, [f.message for f in reg.findings]
    for f in reg.findings:
        assert f.cell is None or f.sheet == reg.sheet
    for s in exp.message:
        assert any(s in f.message for f in reg.findings), (s, [f.message for f in reg.findings])
    if exp.check:
        exp.check(reg)


def test_corpus_recipe_hash_is_stable() -> None:
    assert mc.recipe_hash() == mc.recipe_hash()
