"""One error catalogue: every exception the tool raises is a PerechenError with a snake_case code;
`perechen rules --all` lists the file-error codes; a wrong check kind or parameter in rules/checks.toml is a
Russian error (exit 2, file and key named) before any workbook is read."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import perechen
from perechen.check_params import PARAMS
from perechen.checks import CHECK_KINDS
from perechen.cli import main
from perechen.diff import WARNING_TYPES
from perechen.models import CodedError, PerechenError
from tests.conftest import ROOT

SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
PACKAGE = Path(perechen.__file__).resolve().parent


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _modules() -> list[Any]:
    return [importlib.import_module(m.name)
            for m in pkgutil.walk_packages(perechen.__path__, "perechen.") if not m.name.endswith("__main__")]


def test_every_public_exception_class_is_a_perechen_error() -> None:
    found = {}
    for mod in _modules():
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == mod.__name__
                    and not name.startswith("_")):
                found[f"{mod.__name__}.{name}"] = obj
    assert {"perechen.workdays.CalendarError", "perechen.mail.MailError", "perechen.targets.base.TransientError",
            "perechen.store.StoreError"} <= set(found)
    outside = sorted(n for n, cls in found.items() if not issubclass(cls, PerechenError))
    assert outside == []
    for name, cls in found.items():
        if issubclass(cls, CodedError):
            assert SNAKE.match(cls.default_code), name
            assert cls("сообщение").code == cls.default_code
            assert str(cls("сообщение")) == "сообщение"


def test_codes_at_raise_sites_are_snake_case() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if name not in {"PerechenError", "FileError", "RulesError", "StoreError", "DiffError", "JournalError"}:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and not SNAKE.match(first.value):
                bad.append(f"{path.name}:{node.lineno}: {first.value}")
    assert bad == []


def test_every_check_kind_declares_its_params() -> None:
    assert set(PARAMS) == set(CHECK_KINDS) | {"reader"}


# -- perechen rules --all --------------------------------------------------------------------------------


def _file_error_codes() -> list[str]:
    with open(ROOT / "rules" / "file_errors.toml", "rb") as f:
        return list(tomllib.load(f)["errors"])


def test_rules_all_lists_file_error_codes_as_text() -> None:
    res = invoke("rules", "--all")
    assert res.exit_code == 0, res.output
    codes = _file_error_codes()
    assert len(codes) > 20
    section = res.stdout[res.stdout.index(f"Файл не читается (код выхода 2): {len(codes)}"):]
    listed = [ln.split()[0] for ln in section.splitlines()[1:] if ln.startswith("  ")]
    assert listed == codes
    assert "Файл {path} не найден." in section
    # Without --all the listing stays the rules only.
    assert "Файл не читается" not in invoke("rules").stdout


def _diff_warning_types() -> set[str]:
    src = (PACKAGE / "diff.py").read_text(encoding="utf-8")
    return set(re.findall(r'DiffWarning\(\s*"([a-z-]+)"', src))


def test_every_diff_warning_type_is_catalogued() -> None:
    used = _diff_warning_types()
    assert len(used) >= 13
    assert used == set(WARNING_TYPES)
    res = invoke("rules", "--all")
    section = res.stdout[res.stdout.index(f"Предупреждения сравнения (perechen diff): {len(used)}"):]
    assert {ln.split()[0] for ln in section.splitlines()[1:len(used) + 1]} == used


def test_rules_all_lists_file_error_codes_as_json() -> None:
    res = invoke("rules", "--all", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [e["code"] for e in doc["file_errors"]] == _file_error_codes()
    assert {w["type"] for w in doc["diff_warnings"]} == set(WARNING_TYPES)
    assert all(e["message"] for e in doc["file_errors"])
    assert doc["count"] == len(doc["rules"])
    assert "file_errors" not in json.loads(invoke("rules", "--format", "json").stdout)


# -- check kinds and params validated when the rules load ----------------------------------------------

BAD_RULES = [
    # (replace this, with this, key named in the message, words of the message)
    ('kind = "same_person"', 'kind = "same_persn"', "checks[", "неизвестный вид проверки «same_persn»"),
    ('params = { field = "checked_by", other = "responsible" }',
     'params = { field = "checked_by", othr = "responsible" }', "params.othr", "неизвестный ключ"),
    ('params = { field = "checked_by", other = "responsible" }', 'params = { field = "checked_by" }',
     "params.other", "обязательный ключ отсутствует"),
    ('params = { field = "checked_by", other = "responsible" }',
     'params = { field = "checked_by", other = "responsibel" }', "params.other",
     "поля «responsibel» нет в schema.toml"),
    ("review_days = 10,", 'review_days = "десять",', "params.review_days", "ожидается целое число"),
    ('need = ["name", "date", "number"]', 'need = ["name", "date", "nomer"]', "params.need.2",
     "допустимые значения"),
    ("earliest = 2000-01-01", 'earliest = "2000-01-01"', "params.earliest", "ожидается дата TOML без кавычек"),
]


@pytest.mark.parametrize(("old", "new", "key", "words"), BAD_RULES)
def test_bad_check_kind_or_param_stops_before_the_workbook(tmp_path: Path, old: str, new: str, key: str,
                                                           words: str) -> None:
    d = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", d)
    text = (d / "checks.toml").read_text(encoding="utf-8")
    assert old in text
    (d / "checks.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    cfg = tmp_path / "perechen.toml"
    cfg.write_text('rules = "rules"\n', encoding="utf-8")
    missing = tmp_path / "нет такой книги.xlsx"  # never read: the rules fail first
    for fmt in ("json", "text"):
        res = invoke("check", str(missing), "--config", str(cfg), "--no-report", "--format", fmt)
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output
        if fmt == "json":
            err = json.loads(res.stdout)["file_error"]
            assert err["code"] == "rules_broken"
            msg = err["message"]
            assert str(d / "checks.toml") in msg and key in msg and words in msg
            assert "нет такой книги" not in msg
            assert not re.search(r"Input should|Field required|Value error|Extra inputs|valid (integer|date)", msg), msg
        else:
            assert "checks.toml" in res.output and words in res.output
