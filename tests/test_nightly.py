"""perechen nightly: the whole job in process (run_nightly) and through the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest

from perechen.config import Config
from perechen.nightly import run_nightly
from perechen.summary import CountItem

ROOT = Path(__file__).resolve().parent.parent
PERECHEN = ROOT / ".venv" / "bin" / "perechen"
TODAY = dt.date(2026, 11, 30)
HEAD_GENERAL = "Начальник отдела организационной и кадровой работы"
HEAD_SUPERVISION = "Начальник отдела регистрации и технического надзора"


def config(tmp_path: Path, workbook: Path, **over: Any) -> Config:
    data: dict[str, Any] = {"workbook": str(workbook), "output": str(tmp_path / "output")}
    data.update(over)
    cfg = Config.model_validate(data)
    cfg.base_dir = tmp_path
    return cfg


def recent(rows: list[dict[str, Any]], day: dt.date = dt.date(2026, 11, 25)) -> list[dict[str, Any]]:
    for r in rows:
        r["changed_on"] = day
    return rows


def with_findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One error (row 2, ТВ-01, HEAD_GENERAL) and two warnings (rows 6 and 8)."""
    recent(rows)
    rows[0]["channel"] = "голубиная почта"
    rows[4]["accessibility"] = None
    rows[6]["checked_by"] = rows[6]["responsible"]
    return rows


def history(cfg: Config) -> list[dict[str, Any]]:
    p = cfg.output_dir / "reports" / "history.jsonl"
    return [json.loads(x) for x in p.read_text("utf-8").splitlines()]


def test_clean_run_writes_reports_history_dashboard_and_log(tmp_path: Path, make_workbook: Any,
                                                            good_rows: list[dict[str, Any]]) -> None:
    wb = make_workbook(recent(good_rows))
    digest = hashlib.sha256(wb.read_bytes()).hexdigest()
    cfg = config(tmp_path, wb)
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 0, res.lines
    s = res.summary
    assert s.status == "ok" and s.check.errors == 0 and s.check.rows == 8
    assert res.run_dir is not None and res.run_dir.parent == cfg.output_dir / "reports"
    assert len(res.run_dir.name) == len("2026-11-30_010203")
    names = {p.name for p in res.run_dir.iterdir()}
    assert {"report.json", "nightly.json", "summary.html", "diff.json", "diff.html", "diff.xlsx"} <= names
    # counts by status and channel
    assert s.check.by_status == [CountItem(value="включено", count=8)]
    assert {c.value: c.count for c in s.check.by_channel} == {"цифровая": 4, "офлайн": 4}
    # diff: no published version yet -> 8 new touchpoints; the first placement of the approved list (п. 5.2) has
    # no 5.4 term (issue 11 item 3; a deadline of 09.12.2026 was expected here before)
    d = s.diff
    assert d.pending_changes == 8 and d.publication_required and not d.overdue
    assert d.first_placement and d.deadline is None and d.working_days_left is None
    assert {c.kind for c in d.changes_list} == {"added"}
    assert all(c.deadline is None for c in d.changes_list)
    # publication is off by default
    assert s.publish.attempted is False and s.publish.reason == "auto_off"
    assert "publish.auto = false" in s.publish.text
    # history, dashboard, log
    h = history(cfg)
    assert len(h) == 1 and h[0]["run"] == res.run_dir.name and h[0]["pending_changes"] == 8
    assert h[0]["files"]["summary"] == f"{res.run_dir.name}/summary.html"
    index = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    assert res.dashboard == cfg.output_dir / "reports" / "index.html"
    assert f'href="{res.run_dir.name}/summary.html"' in index
    assert "первое размещение утверждённого перечня" in index and "ПРОСРОЧЕНО" not in index
    log = (cfg.output_dir / "logs" / "nightly.log").read_text("utf-8")
    assert "Ночная проверка начата" in log and "код выхода 0" in log
    assert not (cfg.output_dir / "nightly.lock").exists()
    assert hashlib.sha256(wb.read_bytes()).hexdigest() == digest
    assert any(line.startswith("Сводка: ") for line in res.lines)


def test_rule_errors_exit_1_and_findings_per_responsible(tmp_path: Path, make_workbook: Any,
                                                         good_rows: list[dict[str, Any]]) -> None:
    cfg = config(tmp_path, make_workbook(with_findings(good_rows)), publish={"auto": True})
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 1
    s = res.summary
    assert s.status == "errors" and s.check.errors == 1 and s.check.warnings == 2
    per = {p.responsible: (p.errors, p.warnings) for p in s.check.by_responsible}
    assert per == {HEAD_GENERAL: (1, 1), HEAD_SUPERVISION: (0, 1)}
    # auto publication on, but rule errors: never published
    assert s.publish.attempted is False and s.publish.reason == "rule_errors"
    assert not (cfg.output_dir / "published").exists()
    page = (res.run_dir / "summary.html").read_text("utf-8")  # type: ignore[operator]
    assert "голубиная почта" in page and HEAD_GENERAL in page


def test_deadline_passed_exits_1(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    placed = config(tmp_path, make_workbook(recent(copy.deepcopy(good_rows), dt.date(2026, 10, 1))),
                    publish={"auto": True})
    assert run_nightly(placed, today=dt.date(2026, 10, 2)).summary.publish.ok  # the first placement
    rows = recent(good_rows, dt.date(2026, 10, 1))
    rows[2].update(process="Новый процесс", changed_on=dt.date(2026, 11, 2))  # not placed since
    cfg = config(tmp_path, make_workbook(rows))
    # The nightly run of 02.11 sees the change: the journal dates it (issue 12 item 4), the typed date agrees.
    assert run_nightly(cfg, today=dt.date(2026, 11, 2)).exit_code == 0
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 1 and res.summary.status == "overdue"
    assert res.summary.diff.overdue and res.summary.diff.overdue_working_days >= 1
    assert any("ПРОСРОЧЕНО" in ln for ln in res.lines)
    index = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    assert "ПРОСРОЧЕНО" in index


def test_unreadable_workbook_still_reports(tmp_path: Path) -> None:
    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(b"PK\x03\x04 this is not a whole workbook")
    (tmp_path / "~$perechen.xlsx").write_bytes(bytes([9]) + "Ivanova".encode("cp1251").ljust(53, b" "))
    cfg = config(tmp_path, wb)
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 2 and res.summary.status == "failed"
    fe = res.summary.file_error
    assert fe.code and "Ivanova" in fe.message
    rep = json.loads((res.run_dir / "report.json").read_text("utf-8"))  # type: ignore[operator]
    assert rep["file_error"]["message"] == fe.message
    page = (res.run_dir / "summary.html").read_text("utf-8")  # type: ignore[operator]
    assert "Книгу не удалось прочитать" in page and "Ivanova" in page
    assert any(ln.startswith("Книгу не удалось прочитать") for ln in res.lines)
    h = history(cfg)
    assert h[-1]["status"] == "failed" and h[-1]["file_error"]
    index = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    assert "Книгу не удалось прочитать" in index


def test_failed_night_keeps_showing_the_last_known_state(tmp_path: Path, make_workbook: Any,
                                                         good_rows: list[dict[str, Any]]) -> None:
    wb = make_workbook(with_findings(good_rows))
    cfg = config(tmp_path, wb)
    run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 29, 1, 0))
    wb.write_bytes(b"")
    res = run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 30, 1, 0))
    assert res.exit_code == 2
    index = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    assert "Последний запуск не прочитал книгу" in index and "29.11.2026 01:00" in index
    assert HEAD_GENERAL in index  # findings per responsible from the last readable run
    assert [h["status"] for h in history(cfg)] == ["errors", "failed"]


def test_logs_rotate(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    cfg = config(tmp_path, make_workbook(recent(good_rows)), nightly={"log_max_kb": 16, "log_backups": 2})
    logs = cfg.output_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "nightly.log").write_text("x" * 20_000, encoding="utf-8")
    run_nightly(cfg, today=TODAY)
    assert (logs / "nightly.log.1").exists()
    assert "Ночная проверка начата" in (logs / "nightly.log").read_text("utf-8")
    assert not logging.getLogger("perechen").handlers  # the handler is removed after the run


def test_history_is_bounded_and_survives_a_torn_line(tmp_path: Path, make_workbook: Any,
                                                     good_rows: list[dict[str, Any]]) -> None:
    cfg = config(tmp_path, make_workbook(recent(good_rows)), nightly={"history_keep": 3})
    reports = cfg.output_dir / "reports"
    reports.mkdir(parents=True)
    lines = [json.dumps({"run": f"2026-11-0{i}_010000", "status": "ok", "errors": 0, "warnings": 0,
                         "started": f"2026-11-0{i}T01:00:00", "files": {}}) for i in range(1, 6)]
    (reports / "history.jsonl").write_text("\n".join(lines) + '\n{"run": "torn', encoding="utf-8")
    run_nightly(cfg, today=TODAY)
    h = history(cfg)
    assert len(h) == 3 and h[0]["run"] == "2026-11-04_010000" and h[-1]["status"] == "ok"


def test_stage_crash_is_logged_and_reported_not_raised(tmp_path: Path, make_workbook: Any,
                                                       good_rows: list[dict[str, Any]],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import perechen.stages as stages

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(stages, "diff_workbook", boom)
    cfg = config(tmp_path, make_workbook(recent(good_rows)))
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 2
    assert "внутренняя ошибка perechen (RuntimeError)" in res.summary.errors[0].message
    assert "Traceback" in (cfg.output_dir / "logs" / "nightly.log").read_text("utf-8")
    assert (cfg.output_dir / "reports" / "index.html").exists()


def test_cli_exit_codes_and_quiet(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    wb = make_workbook(with_findings(good_rows))
    cfgfile = tmp_path / "perechen.toml"
    cfgfile.write_text(f'workbook = "{wb}"\noutput = "{tmp_path / "output"}"\n', encoding="utf-8")
    r = subprocess.run([str(PERECHEN), "nightly", "--config", str(cfgfile), "--today", "2026-11-30", "-q"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 1, r
    assert r.stdout.splitlines()[0] == "Проверка: строк 8, ошибок 1, предупреждений 2."
    assert r.stdout.splitlines()[-1].startswith("Сводка: ")
    wb.write_bytes(b"not a workbook at all")
    r = subprocess.run([str(PERECHEN), "nightly", "--config", str(cfgfile), "--today", "2026-11-30"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r
    assert "Книгу не удалось прочитать" in r.stdout and "Traceback" not in r.stderr
    r = subprocess.run([str(PERECHEN), "nightly", "--config", str(tmp_path / "missing.toml")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "не найден" in r.stderr


def test_auto_publication_then_nothing_to_publish(tmp_path: Path, make_workbook: Any,
                                                  good_rows: list[dict[str, Any]],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import perechen.reader as reader

    reads: list[Path] = []
    load_bytes = reader.load_bytes
    monkeypatch.setattr(reader, "load_bytes", lambda path, *a, **k: reads.append(path) or load_bytes(path, *a, **k))
    cfg = config(tmp_path, make_workbook(recent(good_rows)), publish={"auto": True},
                 targets={"folder": {"type": "folder", "path": str(tmp_path / "site")}})
    res = run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 30, 1, 0))
    assert res.exit_code == 0, res.lines
    pub = res.summary.publish
    assert pub.attempted and pub.ok and pub.status == "published" and pub.version
    assert len(reads) == 1  # check, diff and publish share one read of the workbook
    assert (cfg.output_dir / "published" / "LATEST").read_text().strip() == pub.version
    assert (tmp_path / "site" / "index.html").is_file()
    index = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    assert f'href="{(tmp_path / "site" / "index.html").resolve().as_uri()}"' in index
    assert res.summary.diff.published_now
    assert history(cfg)[-1]["published"] is True and history(cfg)[-1]["pending_changes"] == 0
    # the next night: nothing changed, nothing published
    res = run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 30, 2, 0))
    assert res.exit_code == 0
    assert res.summary.diff.pending_changes == 0
    assert res.summary.publish.reason == "no_changes" and not res.summary.publish.attempted
    assert len(list((cfg.output_dir / "published").glob("2026-*"))) == 1


def test_publication_is_never_attempted_when_auto_is_off_or_with_errors(
        tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    import perechen.publish as publish

    calls: list[Any] = []
    monkeypatch.setattr(publish, "publish_workbook", lambda *a, **k: calls.append(a))
    wb = make_workbook(recent(good_rows))
    run_nightly(config(tmp_path, wb), today=TODAY)  # auto off
    wb.write_bytes(make_workbook(with_findings(good_rows)).read_bytes())
    run_nightly(config(tmp_path, wb, publish={"auto": True}), today=TODAY)  # rule errors
    assert calls == []


def test_failed_publication_exits_2_and_keeps_the_baseline(tmp_path: Path, make_workbook: Any,
                                                           good_rows: list[dict[str, Any]]) -> None:
    from tests.servers._util import free_port

    dead = f"http://127.0.0.1:{free_port()}/dav/"
    cfg = config(tmp_path, make_workbook(recent(good_rows)), publish={"auto": True, "target": "dav"},
                 targets={"dav": {"type": "webdav", "url": dead, "retries": 0, "timeout": 2, "backoff": 0}})
    res = run_nightly(cfg, today=TODAY)
    assert res.exit_code == 2 and res.summary.status == "failed"
    pub = res.summary.publish
    assert pub.attempted and pub.ok is False and pub.text.startswith("НЕ выполнена")
    assert not (cfg.output_dir / "published" / "LATEST").exists()
    assert res.summary.diff.pending_changes == 8 and not res.summary.diff.published_now
    assert any(ln.startswith("Публикация: НЕ выполнена") for ln in res.lines)
    assert history(cfg)[-1]["published"] is False
    assert "не удалась" in (cfg.output_dir / "reports" / "index.html").read_text("utf-8")


def test_workbook_being_saved_is_read_after_the_save(tmp_path: Path, make_workbook: Any,
                                                     good_rows: list[dict[str, Any]]) -> None:
    import os
    import threading

    full = make_workbook(recent(good_rows)).read_bytes()
    wb = tmp_path / "book" / "perechen.xlsx"
    wb.parent.mkdir()
    wb.write_bytes(full[: len(full) // 2])  # Excel is in the middle of writing it
    (wb.parent / "~$perechen.xlsx").write_bytes(bytes([7]) + "Петрова".encode("cp1251").ljust(53, b" "))

    def finish_saving() -> None:
        tmp = wb.with_name("~perechen.tmp")
        tmp.write_bytes(full)
        os.replace(tmp, wb)

    timer = threading.Timer(0.6, finish_saving)
    timer.start()
    try:
        res = run_nightly(config(tmp_path, wb), today=TODAY)
    finally:
        timer.join()
    assert res.exit_code == 0, res.lines
    assert res.summary.check.rows == 8 and res.summary.lock_owner == "Петрова"
    assert "Книга была открыта пользователем Петрова; проверена сохранённая версия." in res.lines
    page = (res.run_dir / "summary.html").read_text("utf-8")  # type: ignore[operator]
    assert "Петрова" in page
