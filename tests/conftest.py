"""Shared fixtures: rules, the bundled register's rows, and a builder of test workbooks."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.servers.plugin"]

from perechen.rules import Rules  # noqa: E402
from perechen.template import build_workbook  # noqa: E402


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location("make_workbook", ROOT / "scripts" / "make_workbook.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_workbook"] = mod
    spec.loader.exec_module(mod)
    return mod


EXAMPLE = _load_example()
BUNDLED = ROOT / "workbook" / "perechen.xlsx"
# «Сведения» of the registers tests write: the bundled example's plus what the agency fills in itself (the
# bundled register leaves these empty, and `perechen check` names them: info-field-empty).
FILLED_INFO = {**EXAMPLE.INFO, "site": "https://gtn.example.ru",
               "approving_document": "Приказ Службы от 01.03.2024 № 30-о «Об утверждении перечня точек взаимодействия»",
               "phone": "+7 (4012) 00-00-00", "email": "gtn@example.ru", "inn": "3906000000"}


@pytest.fixture(scope="session")
def rules() -> Rules:
    return Rules.load(ROOT / "rules")


@pytest.fixture
def good_rows() -> list[dict[str, Any]]:
    """The bundled register's rows (a valid register), as dicts by field name."""
    return copy.deepcopy(EXAMPLE.rows())


@pytest.fixture
def good_info() -> dict[str, str]:
    return dict(FILLED_INFO)


WorkbookMaker = Callable[..., Path]


@pytest.fixture
def make_workbook(tmp_path: Path, rules: Rules) -> WorkbookMaker:
    """make_workbook(rows, info=None, name="perechen.xlsx") -> path of a register written like `perechen init`."""
    counter = {"n": 0}

    def make(rows: list[dict[str, Any]] | None = None, info: dict[str, str] | None = None,
             name: str | None = None) -> Path:
        counter["n"] += 1
        p = tmp_path / (name or f"perechen-{counter['n']}.xlsx")
        p.write_bytes(build_workbook(rules, rows if rows is not None else EXAMPLE.rows(),
                                     info if info is not None else FILLED_INFO))
        return p

    return make


@pytest.fixture
def master_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the bundled workbook in a temp folder; asserts its bytes are unchanged afterwards."""
    p = tmp_path / "master" / "perechen.xlsx"
    p.parent.mkdir()
    p.write_bytes(BUNDLED.read_bytes())
    before = hashlib.sha256(p.read_bytes()).hexdigest()
    yield p
    assert hashlib.sha256(p.read_bytes()).hexdigest() == before, "the master workbook was modified"


TODAY = dt.date(2026, 11, 30)
