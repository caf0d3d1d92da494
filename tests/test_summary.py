"""The nightly summary as a typed model: nightly.json and history.jsonl of earlier runs still load, the files
written now read back unchanged, --quiet picks summary fields, and the dashboard renders with StrictUndefined."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined, UndefinedError

from perechen.config import Config
from perechen.dashboard import TEMPLATES, load_history, write_dashboard
from perechen.jinja import environment
from perechen.mail import compose_keeper, deadline_lines
from perechen.nightly import QUIET_FIELDS, run_nightly
from perechen.summary import HISTORY_VERSION, SUMMARY_VERSION, HistoryEntry, NightlySummary

TODAY = dt.date(2026, 11, 30)

# A history written before the entries were typed: no "version", an interrupted run without "workbook" and
# "keeper_email", a key perechen no longer writes, a line that is not a run, a torn last line.
OLD_HISTORY = [
    {"run": "2026-11-01_010000", "started": "2026-11-01T01:00:00", "finished": "2026-11-01T01:00:09",
     "status": "errors", "exit_code": 1, "demo": False, "workbook": "C:\\Перечень\\perechen.xlsx", "rows": 8,
     "errors": 3, "warnings": 1, "pending_changes": 2, "pending_review": 0, "deadline": "2026-11-12",
     "working_days_left": 5, "overdue": False, "published": None, "publish_text": "не выполнялась: ошибки",
     "mail_sent": 1, "mail_failed": 0, "file_error": None, "keeper_email": "keeper@agency.ru",
     "files": {"summary": "2026-11-01_010000/summary.html", "nightly": "2026-11-01_010000/nightly.json",
               "html": "2026-11-01_010000/report.html"},
     "legacy_key": "ignored"},
    {"run": "2026-11-02_010000", "started": "2026-11-02T01:00:00", "finished": None, "status": "interrupted",
     "exit_code": None, "demo": False, "rows": None, "errors": None, "warnings": None, "pending_changes": None,
     "pending_review": None, "deadline": None, "working_days_left": None, "overdue": False, "published": None,
     "publish_text": None, "mail_sent": 0, "mail_failed": 0,
     "file_error": "Запуск прерван (процесс 4242 на компьютере srv).", "files": {}},
    {"status": "ok"},
]

# nightly.json of that run as perechen wrote it before the model: no "overdue", no "timings", no
# "mail.missing", no "whole_workbook", publication not attempted (no outcome keys).
OLD_SUMMARY: dict[str, Any] = {
    "version": 1, "run": "2026-11-01_010000", "started": "2026-11-01T01:00:00", "started_text": "01.11.2026 01:00",
    "finished": "2026-11-01T01:00:09", "today": "2026-11-01", "demo": False,
    "workbook": "C:\\Перечень\\perechen.xlsx", "status": "errors", "exit_code": 1, "file_error": None,
    "failure_title": None, "lock_owner": None, "agency": "Служба <b>", "recovered_lock": None,
    "check": {"rows": 8, "errors": 3, "warnings": 1, "infos": 0,
              "by_status": [{"value": "включено", "count": 8}], "by_channel": [{"value": "офлайн", "count": 8}],
              "by_responsible": [{"responsible": "Иванова <script>", "errors": 3, "warnings": 1, "infos": 0}]},
    "diff": {"baseline": None, "pending_changes": 2, "pending_review": 0, "publication_required": True,
             "earliest_change": "2026-10-29", "deadline": "2026-11-12", "working_days_left": 5, "overdue": False,
             "changes_list": [{"code": "ТВ-01", "name": "Приём", "kind": "added", "what": "новая точка",
                               "title": "Приём — новая точка", "changed_on": "2026-10-29",
                               "deadline": "2026-11-12", "working_days_left": 5}]},
    "publish": {"auto": True, "attempted": False, "ok": None, "target": "folder", "version": None,
                "text": "не выполнялась: в книге есть ошибки (3)", "reason": "rule_errors"},
    "mail": {"enabled": True, "results": [{"purpose": "keeper", "to": ["keeper@agency.ru"], "ok": True}],
             "text": "отправлено 1."},
    "keeper_email": "keeper@agency.ru", "report_dir": "C:\\out\\reports\\2026-11-01_010000",
    "files": {"summary": "summary.html", "nightly": "nightly.json", "html": "report.html"}, "errors": [],
    "log_file": None,
}


def config(tmp_path: Path, workbook: Path, **over: Any) -> Config:
    cfg = Config.model_validate({"workbook": str(workbook), "output": str(tmp_path / "output"), **over})
    cfg.base_dir = tmp_path
    return cfg


def old_reports(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    (reports / "2026-11-01_010000").mkdir(parents=True)
    (reports / "2026-11-01_010000" / "nightly.json").write_text(json.dumps(OLD_SUMMARY, ensure_ascii=False),
                                                                encoding="utf-8")
    lines = [json.dumps(e, ensure_ascii=False) for e in OLD_HISTORY]
    (reports / "history.jsonl").write_text("\n".join(lines) + '\n{"run": "2026-11-03_01', encoding="utf-8")
    return reports


def test_history_and_summaries_of_earlier_versions_load(tmp_path: Path) -> None:
    reports = old_reports(tmp_path)
    history = load_history(reports)
    assert [h.run for h in history] == ["2026-11-01_010000", "2026-11-02_010000"]
    assert all(h.schema_version == HISTORY_VERSION == 1 for h in history)
    assert history[0].errors == 3 and history[0].keeper_email == "keeper@agency.ru"
    assert history[1].status == "interrupted" and history[1].workbook is None and history[1].errors is None
    s = NightlySummary.load(reports / "2026-11-01_010000" / "nightly.json")
    assert s is not None and s.schema_version == SUMMARY_VERSION == 1
    assert s.overdue is False and s.timings == {} and s.mail.missing == []
    assert s.check is not None and s.check.whole_workbook.errors == 0
    assert s.diff is not None and s.diff.changes_list[0].fields == [] and s.diff.overdue_working_days is None
    assert s.publish is not None and s.publish.reason == "rule_errors" and s.publish.urls == {}
    assert s.mail.results[0].ok and s.mail.results[0].error is None
    assert NightlySummary.load(reports / "missing" / "nightly.json") is None
    (reports / "broken.json").write_text('{"check": {"rows": "много"}}', encoding="utf-8")
    assert NightlySummary.load(reports / "broken.json") is None


def test_dashboard_of_earlier_runs_renders_strictly(tmp_path: Path) -> None:
    reports = old_reports(tmp_path)
    html = write_dashboard(reports).read_text("utf-8")
    assert "Запусков в истории: 2" in html
    assert "Служба &lt;b&gt;" in html and "Иванова &lt;script&gt;" in html and "<script" not in html
    assert "Изменений, ожидающих размещения на официальном сайте: <strong>2</strong>" in html and "12.11.2026" in html
    assert "Запуск прерван (процесс 4242 на компьютере srv)." in html
    assert 'href="2026-11-01_010000/report.html"' in html
    # the mails of a summary read back from an earlier version's file
    s = NightlySummary.load(reports / "2026-11-01_010000" / "nightly.json")
    assert s is not None
    mail = compose_keeper(s, [], to=["keeper@agency.ru"], attachment=None)
    assert mail.subject == "Перечень точек взаимодействия: ошибок 3, предупреждений 1 — проверка 01.11.2026"
    assert "Иванова <script>: ошибок 3, предупреждений 1" in mail.text and "• ТВ-01: Приём — новая точка" in mail.text
    assert deadline_lines(s.diff)[1] == ("Срок размещения на официальном сайте (п. 5.4) — 12.11.2026, осталось 5 "
                                         "рабочих дней.")


def test_dashboard_environment_is_strict() -> None:
    env = environment(TEMPLATES)
    assert env.undefined is StrictUndefined and env.autoescape
    with pytest.raises(UndefinedError):
        env.from_string("{{ s.no_such_field }}").render(s=NightlySummary())


def test_files_written_now_read_back_unchanged(tmp_path: Path, make_workbook: Any,
                                               good_rows: list[dict[str, Any]]) -> None:
    for r in good_rows:
        r["changed_on"] = dt.date(2026, 11, 25)
    cfg = config(tmp_path, make_workbook(good_rows))
    res = run_nightly(cfg, today=TODAY)
    assert res.run_dir is not None
    text = (res.run_dir / "nightly.json").read_text("utf-8")
    data = json.loads(text)
    assert data["version"] == SUMMARY_VERSION and "schema_version" not in data
    # publication was not attempted: only what happened is stored, as before the model
    assert set(data["publish"]) == {"auto", "attempted", "ok", "target", "version", "text", "reason"}
    again = NightlySummary.load(res.run_dir / "nightly.json")
    assert again is not None and again.to_json() == text
    assert again.check == res.summary.check and again.diff == res.summary.diff and again.mail == res.summary.mail
    raw = (cfg.output_dir / "reports" / "history.jsonl").read_text("utf-8").splitlines()
    line = json.loads(raw[-1])
    assert line["version"] == HISTORY_VERSION and line["run"] == res.run_dir.name
    assert load_history(cfg.output_dir / "reports")[-1] == HistoryEntry.from_summary(res.summary)


def test_quiet_selects_fields_of_the_summary(tmp_path: Path, make_workbook: Any,
                                             good_rows: list[dict[str, Any]]) -> None:
    for r in good_rows:
        r["changed_on"] = dt.date(2026, 11, 25)
    good_rows[0]["channel"] = "голубиная почта"
    wb = make_workbook(good_rows)
    cfg = config(tmp_path, wb)
    res = run_nightly(cfg, today=TODAY)
    assert {ln.field for ln in res.output} >= {"check", "diff", "publish", "mail", "dashboard"}
    assert res.printed() == res.lines
    quiet = res.printed(quiet=True)
    assert quiet == [ln.text for ln in res.output if ln.field in QUIET_FIELDS]
    assert quiet[0] == "Проверка: строк 8, ошибок 1, предупреждений 0." and quiet[-1].startswith("Сводка: ")
    assert len(quiet) == 2
    wb.write_bytes(b"not a workbook at all")
    res = run_nightly(cfg, today=TODAY)
    quiet = res.printed(quiet=True)
    assert quiet[0].startswith("Книгу не удалось прочитать: ") and quiet[-1].startswith("Сводка: ")
    assert not any(q.startswith(("Письма:", "Отчёты:", "Журнал:")) for q in quiet)
