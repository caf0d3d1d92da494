"""`perechen diff` and `perechen history` as a clerk runs them: options, exit codes, report files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen import canonical, store
from perechen.cli import main
from perechen.reader import read_register
from perechen.rules import Rules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with perechen.toml (output under it, the repository's rules)."""
    cfg = tmp_path / "perechen.toml"
    cfg.write_text(f'output = "output"\nrules = "{(ROOT / "rules").as_posix()}"\n', encoding="utf-8")
    return tmp_path


PROCESS = "Процесс"


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _publish(project: Path, rules: Rules, wb: Path, when: dt.datetime, **manifest: Any) -> canonical.PublishedVersion:
    data = canonical.canonical_register(read_register(wb, rules), rules)
    return store.commit_version(project / "output", data, {"page.html": b"<p>x</p>"}, manifest, now=when)


def test_json_contract_and_report_files(project: Path, rules: Rules, make_workbook: Any,
                                        good_rows: list[dict[str, Any]]) -> None:
    v = _publish(project, rules, make_workbook(good_rows), dt.datetime(2026, 2, 20, 9, 0), target="folder")
    new = [dict(r) for r in good_rows]
    new[1].update(kind="СЭД", changed_on=dt.date(2026, 2, 25))
    wb = make_workbook(new)
    rep = project / "rep"
    res = _invoke("diff", str(wb), "--config", str(project / "perechen.toml"), "--format", "json",
                  "--today", "2026-03-02", "--report-dir", str(rep))
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert list(out) == ["baseline", "changes", "pending_review", "warnings", "publication_required",
                        "earliest_change", "deadline", "working_days_left", "overdue"]
    assert out["baseline"] == v.name
    assert out["changes"] == [
        {"code": "ТВ-02", "kind": "kind_changed", "clause": "5.3.2",
         "fields": {"kind": {"old": "электронная почта Службы",
                             "new": "система электронного документооборота (СЭД)"}}},
    ]  # the new «Дата изменения» is no change of its own (issue 11 item 4; it was listed as «edited» before)
    assert out["publication_required"] is True
    assert out["earliest_change"] == "2026-02-25" and out["deadline"] == "2026-03-12"
    assert out["working_days_left"] == 7 and out["overdue"] is False
    assert sorted(p.name for p in rep.iterdir()) == ["diff.html", "diff.json", "diff.xlsx"]
    assert json.loads((rep / "diff.json").read_text(encoding="utf-8")) == out


def test_text_output_and_default_report_dir(project: Path, rules: Rules, make_workbook: Any,
                                            good_rows: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    _publish(project, rules, make_workbook(good_rows), dt.datetime(2026, 2, 20, 9, 0), user="clerk")
    new = [dict(r) for r in good_rows if r["code"] != "ТВ-05"]
    wb = make_workbook(new)
    monkeypatch.chdir(project)
    res = _invoke("diff", str(wb), "--today", "2026-03-02")
    assert res.exit_code == 0, res.output
    assert "Сравнение с опубликованной версией 2026-02-20_090000" in res.stdout
    assert "пользователь clerk" in res.stdout
    assert "Исключение точки взаимодействия (п. 5.3.4): 1" in res.stdout
    assert "удалена из книги" in res.stdout
    assert "Осталось 10 рабочих дней" in res.stdout
    dirs = list((project / "output" / "reports").iterdir())
    assert len(dirs) == 1 and (dirs[0] / "diff.html").is_file()


def test_no_report_writes_nothing(project: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    res = _invoke("diff", str(make_workbook(good_rows)), "--config", str(project / "perechen.toml"),
                  "--no-report", "--today", "2024-03-01")
    assert res.exit_code == 0, res.output
    assert "Опубликованной версии нет" in res.stdout
    assert not (project / "output").exists()


def test_fail_if_overdue(project: Path, rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    cfg = str(project / "perechen.toml")
    first = _invoke("diff", str(make_workbook(good_rows)), "--config", cfg, "--no-report", "--today", "2024-03-13",
                    "--fail-if-overdue")  # no baseline: the first placement (п. 5.2) has no term (issue 11 item 3)
    assert first.exit_code == 0 and "ПРОСРОЧЕНО" not in first.stdout and "(п. 5.2)" in first.stdout
    old = [dict(r) for r in good_rows]
    old[2]["process"] = "Прежний процесс"
    _publish(project, rules, make_workbook(old), dt.datetime(2024, 2, 20, 9, 0))
    wb = str(make_workbook(good_rows))  # ТВ-03 changed on 26.02.2024: deadline 12.03.2024
    late = _invoke("diff", wb, "--config", cfg, "--no-report", "--today", "2024-03-13", "--fail-if-overdue")
    assert late.exit_code == 1 and "ПРОСРОЧЕНО на 1 рабочий день" in late.stdout
    on_time = _invoke("diff", wb, "--config", cfg, "--no-report", "--today", "2024-03-12", "--fail-if-overdue")
    assert on_time.exit_code == 0 and "Сегодня последний день срока" in on_time.stdout
    without_flag = _invoke("diff", wb, "--config", cfg, "--no-report", "--today", "2024-03-13")
    assert without_flag.exit_code == 0


def test_cannot_run_is_exit_2(project: Path, rules: Rules, make_workbook: Any,
                              good_rows: list[dict[str, Any]]) -> None:
    cfg = str(project / "perechen.toml")
    old = [dict(r) for r in good_rows]
    old[2]["process"] = "Прежний процесс"
    _publish(project, rules, make_workbook(old), dt.datetime(2024, 2, 20, 9, 0))
    wb = str(make_workbook(good_rows))
    res = _invoke("diff", wb, "--config", cfg, "--no-report", "--today", "2031-01-15", "--format", "json")
    assert res.exit_code == 2
    assert json.loads(res.stdout)["file_error"]["code"] == "calendar"
    assert "Производственный календарь на 2028 год не известен" in res.stderr  # first year it lacks
    res = _invoke("diff", wb, "--config", cfg, "--no-report", "--against", str(project / "nope"))
    assert res.exit_code == 2 and "не найдена" in res.stderr
    res = _invoke("diff", str(project / "missing.xlsx"), "--config", cfg, "--no-report")
    assert res.exit_code == 2
    (project / "output" / "published").mkdir(parents=True, exist_ok=True)
    (project / "output" / "published" / "LATEST").write_text("garbage\n", encoding="utf-8")
    res = _invoke("diff", wb, "--config", cfg, "--no-report", "--today", "2026-03-02")
    assert res.exit_code == 2 and "повреждён" in res.stderr


def test_against_old_xlsx(project: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    old = make_workbook(good_rows)
    new = [dict(r) for r in good_rows]
    new[2]["needs"] = ["консультация"]
    res = _invoke("diff", str(make_workbook(new)), "--config", str(project / "perechen.toml"), "--no-report",
                  "--against", str(old), "--format", "json", "--today", "2026-03-02")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["baseline"] == old.name
    assert [(c["code"], c["kind"]) for c in out["changes"]] == [("ТВ-03", "needs_changed")]


def test_report_escapes_markup_and_keeps_formulas_as_text(project: Path, make_workbook: Any,
                                                          good_rows: list[dict[str, Any]]) -> None:
    import openpyxl

    new = [dict(r) for r in good_rows]
    new[0].update(name='<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">',
                  process='=HYPERLINK("http://example.invalid","x")', changed_on=dt.date(2026, 2, 25))
    rep = project / "rep"
    res = _invoke("diff", str(make_workbook(new)), "--config", str(project / "perechen.toml"),
                  "--against", str(make_workbook(good_rows)), "--report-dir", str(rep), "--today", "2026-03-02")
    assert res.exit_code == 0, res.output
    html = (rep / "diff.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert 'lang="ru"' in html and "<caption>" in html and 'scope="col"' in html
    assert "http" not in html.replace("http://example.invalid", "")  # no external resources
    ws = openpyxl.load_workbook(rep / "diff.xlsx")["Изменения"]
    header = [c.value for c in ws[1]]
    note_new = header.index(f"{PROCESS}: стало") + 1
    cell = ws.cell(row=2, column=note_new)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://example.invalid","x")'
    assert cell.fill.fgColor.rgb.endswith("DCF2DF")  # changed cell highlighted
    name_old = ws.cell(row=2, column=header.index("Наименование точки взаимодействия: было") + 1)
    assert name_old.value == "Система электронного документооборота Службы"
    unchanged = ws.cell(row=2, column=header.index("Вид точки: стало") + 1)
    assert unchanged.value == "система электронного документооборота (СЭД)" and unchanged.fill.fill_type is None


def test_master_workbook_unchanged_by_diff(project: Path, master_copy: Path) -> None:
    res = _invoke("diff", str(master_copy), "--config", str(project / "perechen.toml"), "--today", "2026-03-02",
                  "--report-dir", str(project / "rep"))
    assert res.exit_code == 0, res.output
    # Nothing published yet: the first placement of the approved list (п. 5.2) has no term (issue 11 item 3; this
    # test expected «ПРОСРОЧЕНО» here before).
    assert "ПРОСРОЧЕНО" not in res.stdout and "(п. 5.2)" in res.stdout


def test_history(project: Path, rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    cfg = str(project / "perechen.toml")
    res = _invoke("history", "--config", cfg)
    assert res.exit_code == 0 and "Опубликованных версий нет" in res.stdout
    wb = make_workbook(good_rows)
    a = _publish(project, rules, wb, dt.datetime(2026, 2, 20, 9, 0), user="ivanova", target="wordpress")
    b = _publish(project, rules, wb, dt.datetime(2026, 3, 2, 15, 30), user="petrov", target="folder")
    res = _invoke("history", "--config", cfg)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    row_a = next(x for x in lines if a.name in x and not x.startswith("*"))
    row_b = next(x for x in lines if x.startswith("*"))
    assert "ivanova" in row_a and "wordpress" in row_a and " 8 " in row_a
    assert b.name in row_b and "petrov" in row_b and b.fingerprint[:16] in row_b
    res = _invoke("history", "--config", cfg, "--format", "json")
    out = json.loads(res.stdout)
    assert out["latest"] == b.name
    assert [v["version"] for v in out["versions"]] == [a.name, b.name]
    assert [v["latest"] for v in out["versions"]] == [False, True]
    assert out["versions"][0]["rows"] == 8 and out["versions"][0]["user"] == "ivanova"


@pytest.mark.browser
def test_diff_page_is_accessible_and_inert(project: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    from tests.browser import check_page, require_browser

    require_browser()
    new = [dict(r) for r in good_rows]
    new[0].update(name='<img src=x onerror="window.__pwned=1">', changed_on=dt.date(2026, 2, 25))
    new[1].update(kind="СЭД", needs=["консультация"], changed_on=dt.date(2026, 2, 25))
    new = [r for r in new if r["code"] != "ТВ-08"]
    rep = project / "rep"
    res = _invoke("diff", str(make_workbook(new)), "--config", str(project / "perechen.toml"),
                  "--against", str(make_workbook(good_rows)), "--report-dir", str(rep), "--today", "2026-03-20")
    assert res.exit_code == 0, res.output
    page = check_page(rep / "diff.html", zoom=2.0)
    assert page.serious == [], page.serious
    assert page.js_flag is None and page.dialogs == [] and page.external_requests == []
    assert page.lang == "ru"
    assert not page.horizontal_scroll_at_200


def test_history_lists_damaged_versions_apart(project: Path, rules: Rules, make_workbook: Any,
                                              good_rows: list[dict[str, Any]]) -> None:
    wb = make_workbook(good_rows)
    a = _publish(project, rules, wb, dt.datetime(2026, 2, 20, 9, 0))
    b = _publish(project, rules, wb, dt.datetime(2026, 3, 2, 15, 30))
    (a.path / "manifest.json").write_text("{", encoding="utf-8")
    res = _invoke("history", "--config", str(project / "perechen.toml"))
    assert res.exit_code == 0, res.output
    assert f"Повреждена: {a.name}" in res.stdout and b.name in res.stdout
    out = json.loads(_invoke("history", "--config", str(project / "perechen.toml"), "--format", "json").stdout)
    assert [v["version"] for v in out["versions"]] == [b.name]
    assert [d["version"] for d in out["damaged"]] == [a.name]
