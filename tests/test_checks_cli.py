"""CLI: `perechen rules` (text, json, -v, a broken rules folder) and `perechen check` exit codes on
workbooks that are clean, that have only warnings, and that have errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from perechen.cli import main
from perechen.rules import Rules
from tests.conftest import ROOT

TODAY = "2026-11-30"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


# -- perechen rules ----------------------------------------------------------------------------------


def test_rules_text_lists_every_rule(rules: Rules) -> None:
    res = invoke("rules")
    assert res.exit_code == 0, res.output
    for c in rules.checks:
        line = next(ln for ln in res.stdout.splitlines() if ln.split() and ln.split()[0] == c.code)
        assert (f"п. {c.clause}" if c.clause else "Служба") in line and c.title in line
    assert "Ошибки (код выхода 1)" in res.stdout and "Предупреждения" in res.stdout
    assert f"Всего правил: {len(rules.checks)}" in res.stdout


def test_rules_verbose_shows_clause_wording_and_message() -> None:
    res = invoke("rules", "-v")
    assert res.exit_code == 0
    assert "п. 2.7 Порядка: В случае если взаимодействие с клиентом" in res.stdout
    assert "Сообщение: " in res.stdout


def test_rules_json(rules: Rules) -> None:
    res = invoke("rules", "--format", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["count"] == len(rules.checks) == len(doc["rules"])
    assert [r["code"] for r in doc["rules"]] == [c.code for c in rules.checks]
    dup = next(r for r in doc["rules"] if r["code"] == "duplicate-kind")
    assert dup["severity"] == "error" and dup["severity_label"] == "ошибка" and dup["clause"] == "2.7"
    assert dup["clause_text"].startswith("В случае если")
    overdue = next(r for r in doc["rules"] if r["code"] == "review-overdue")
    assert overdue["params"]["review_days"] == 10
    date_rule = next(r for r in doc["rules"] if r["code"] == "date-invalid")
    assert date_rule["params"]["earliest"] == "2000-01-01"  # TOML dates serialised as text


def test_rules_from_config_and_broken_rules(tmp_path: Path) -> None:
    d = tmp_path / "my-rules"
    shutil.copytree(ROOT / "rules", d)
    cfg = tmp_path / "perechen.toml"
    cfg.write_text(f'rules = "{d.name}"\n', encoding="utf-8")
    text = (d / "checks.toml").read_text(encoding="utf-8")
    (d / "checks.toml").write_text(text.replace('title = "Код точки повторяется"', 'title = "Код занят"'),
                                   encoding="utf-8")
    res = invoke("rules", "--config", str(cfg))
    assert res.exit_code == 0 and "Код занят" in res.stdout
    (d / "checks.toml").write_text(text.replace('code = "code-pattern"\nkind = "code_pattern"\nseverity = "error"',
                                                'code = "code-pattern"\nkind = "code_pattern"\nseverity = "fatal"'),
                                   encoding="utf-8")
    res = invoke("rules", "--config", str(cfg), "--format", "json")
    assert res.exit_code == 2
    err = json.loads(res.stdout)["file_error"]
    assert err["code"] == "rules_broken" and "checks.toml" in err["message"] and "severity" in err["message"]
    assert "Traceback" not in res.output


def test_unknown_check_kind_is_a_rules_error(make_workbook, good_rows, tmp_path: Path) -> None:
    d = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", d)
    text = (d / "checks.toml").read_text(encoding="utf-8")
    (d / "checks.toml").write_text(text.replace('kind = "same_person"', 'kind = "same_persn"'), encoding="utf-8")
    cfg = tmp_path / "perechen.toml"
    cfg.write_text('rules = "rules"\n', encoding="utf-8")
    res = invoke("check", str(make_workbook(good_rows)), "--config", str(cfg), "--no-report", "--format", "json")
    assert res.exit_code == 2
    err = json.loads(res.stdout)["file_error"]
    assert "checked-by-self" in err["message"] and "same_persn" in err["message"]


# -- perechen check exit codes -------------------------------------------------------------------------


def test_check_exit_0_on_clean_workbook(make_workbook, good_rows) -> None:
    res = invoke("check", str(make_workbook(good_rows)), "--no-report", "--today", TODAY, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["errors"] == 0 and doc["warnings"] == 0 and doc["findings"] == []


def test_check_exit_0_with_warnings_only(make_workbook, good_rows) -> None:
    good_rows[4]["accessibility"] = None
    good_rows[0]["checked_by"] = good_rows[0]["responsible"]
    res = invoke("check", str(make_workbook(good_rows)), "--no-report", "--today", TODAY, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["errors"] == 0 and doc["warnings"] == 2
    assert {f["code"] for f in doc["findings"]} == {"offline-no-accessibility", "checked-by-self"}


def test_check_exit_1_on_errors(make_workbook, good_rows) -> None:
    good_rows[1]["code"] = "ТВ-01"
    res = invoke("check", str(make_workbook(good_rows)), "--no-report", "--today", TODAY)
    assert res.exit_code == 1
    assert "A2" in res.stdout and "A3" in res.stdout and "code-duplicate" in res.stdout
    assert "ошибок: 2" in res.stdout.splitlines()[-1]


def test_check_today_option_drives_date_rules(make_workbook, good_rows) -> None:
    good_rows[0]["changed_on"] = "01.12.2026"
    path = str(make_workbook(good_rows))
    assert invoke("check", path, "--no-report", "--today", TODAY, "-q").exit_code == 1
    assert invoke("check", path, "--no-report", "--today", "2026-12-01", "-q").exit_code == 0


def test_check_json_findings_carry_clause_and_cell(make_workbook, good_rows) -> None:
    good_rows[2]["channel"] = "офлайн"
    res = invoke("check", str(make_workbook(good_rows)), "--no-report", "--today", TODAY, "--format", "json")
    assert res.exit_code == 1
    (f,) = json.loads(res.stdout)["findings"]
    assert f == {"code": "kind-channel", "severity": "error", "clause": "3.1", "sheet": "Перечень", "cell": "F4",
                 "row": 4, "column": "F", "message": f["message"]}
    assert "(АРМ ГС)»" in f["message"] and "п. 4.1.3" in f["message"]
