"""`perechen check`: the JSON contract, exit codes, and the master workbook left untouched."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from perechen.cli import main


def test_check_bundled_is_clean(master_copy: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["check", str(master_copy), "--format", "json", "--report-dir",
                                    str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rows"] == 8 and doc["errors"] == 0
    assert set(doc) >= {"workbook", "rows", "errors", "warnings", "findings"}
    assert (tmp_path / "r" / "report.json").is_file()


def test_check_no_report_writes_nothing(master_copy: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["check", str(master_copy), "--no-report", "--quiet"])
    assert res.exit_code == 0
    # One warning: «Сведения» of the bundled example leaves the agency's own fields empty (info-field-empty).
    assert res.stdout.strip().endswith("ошибок нет, предупреждений: 1.")
    assert not (tmp_path / "output").exists()


def test_unreadable_file_exit_2_json(tmp_path: Path) -> None:
    p = tmp_path / "таблица.xlsx"
    p.write_text("Код;Процесс\n1;2\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(p), "--format", "json", "--no-report"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["file_error"]["code"] == "csv"
    assert "CSV" in doc["file_error"]["message"]
    assert "Traceback" not in res.output


def test_unreadable_file_exit_2_text(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["check", str(tmp_path / "missing.xlsx"), "--no-report"])
    assert res.exit_code == 2
    assert "не найден" in res.stderr
    assert "missing.xlsx" in res.stderr


def test_reports_are_readable_by_colleagues(master_copy: Path, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        res = CliRunner().invoke(main, ["check", str(master_copy), "--report-dir", str(tmp_path / "r")])
    finally:
        os.umask(old)
    assert res.exit_code == 0
    for p in (tmp_path / "r").iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


def test_help_speaks_russian() -> None:
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    assert res.output.startswith("Использование: ")
    assert "Параметры:" in res.output and "Команды:" in res.output
    for name in ("check", "diff", "publish", "nightly", "history", "rules", "init"):
        sub = CliRunner().invoke(main, [name, "--help"])
        assert sub.exit_code == 0
        assert "Показать эту справку и выйти." in sub.output, name
        assert "Show this message" not in sub.output
