"""Issue 11 items 1–5: what gets published and when, driven through the CLI as a clerk meets it.

Each test failed on main at 5728d3a (the behaviour it names in its docstring) and passes now.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from perechen.opendata import read_csv

ROOT = Path(__file__).resolve().parent.parent
DAY1 = dt.date(2026, 11, 2)  # the first placement
DAY2 = dt.date(2026, 11, 16)  # a later nightly run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """perechen.toml with automatic publication to a folder (output/site)."""
    (tmp_path / "perechen.toml").write_text(
        f'output = "output"\nrules = "{(ROOT / "rules").as_posix()}"\n\n[publish]\nauto = true\ntarget = "folder"\n'
        '\n[targets.folder]\ntype = "folder"\npath = "output/site"\n', encoding="utf-8")
    return tmp_path


def run(project: Path, *args: str) -> Any:
    return CliRunner().invoke(main, [*args, "--config", str(project / "perechen.toml")], catch_exceptions=False)


def nightly(project: Path, workbook: Path, day: dt.date) -> Any:
    toml = project / "perechen.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r'^workbook = .*\n', "", text, flags=re.M)
    toml.write_text(f'workbook = "{workbook.as_posix()}"\n' + text, encoding="utf-8")
    return run(project, "nightly", "--no-mail", "--today", day.isoformat())


def by_code(rows: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(r for r in rows if r["code"] == code)


def site_rows(project: Path) -> dict[str, dict[str, str]]:
    """The rows of the current data version on the site (the one the last publication placed)."""
    latest = (project / "output" / "published" / "LATEST").read_text(encoding="utf-8").strip()
    manifest = json.loads((project / "output" / "published" / latest / "manifest.json").read_text(encoding="utf-8"))
    name = manifest["opendata"]["data_file"]
    return {r["code"]: r for r in read_csv((project / "output" / "site" / name).read_bytes())}


def meta(project: Path) -> dict[str, str]:
    return {r["property"]: r["value"] for r in read_csv((project / "output" / "site" / "meta.csv").read_bytes())}


def last_summary(project: Path) -> dict[str, Any]:
    runs = sorted(p for p in (project / "output" / "reports").iterdir() if p.is_dir())
    return dict(json.loads((runs[-1] / "nightly.json").read_text(encoding="utf-8")))


def draft(code: str = "ТВ-09") -> dict[str, Any]:
    """A colleague's unfinished draft: the basis has neither a date nor a number, the channel is not in the list."""
    return {"code": code, "area": "Рассмотрение обращений и запросов", "process": "Приём обращений",
            "name": "Чат-бот Службы", "channel": "голубиная почта", "kind": "чат-бот", "clients": "внешние",
            "needs": ["получение консультации"], "key": "нет", "responsible": "Новый сотрудник",
            "basis_kind": "документ", "basis": "Приказ Службы", "status": "черновик", "checked_by": None,
            "changed_on": dt.date(2026, 11, 10)}


# ------------------------------------------------------------------------------------------------ item 1


def test_a_draft_with_errors_never_blocks_publication(project: Path, make_workbook: Any,
                                                      good_rows: list[dict[str, Any]]) -> None:
    """5728d3a: «Перечень с ошибками не публикуется» — one draft stopped publish and the nightly publication."""
    wb = make_workbook([*good_rows, draft()])
    check = run(project, "check", str(wb), "--no-report", "--format", "json")
    assert check.exit_code == 1, "the draft's errors are still reported, with check's usual exit code"
    errors = [f for f in json.loads(check.stdout)["findings"] if f["severity"] == "error"]
    assert errors and {f["row"] for f in errors} == {10}

    # dated DAY1, before the nightly run of DAY2 below (no placement is dated before what the journal saw)
    res = run(project, "publish", str(wb), "--format", "json", "--today", DAY1.isoformat())
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "published" and out["rows"] == 8 and out["errors"] == []
    assert any("не задерживают" in w for w in out["warnings"])
    assert "ТВ-09" not in site_rows(project)

    # The nightly auto-publication too: it places the approved rows, still exits 1 and reports the errors.
    rows = copy.deepcopy(good_rows)
    by_code(rows, "ТВ-03").update(process="Новый процесс", changed_on=dt.date(2026, 11, 12))
    res = nightly(project, make_workbook([*rows, draft()]), DAY2)
    assert res.exit_code == 1, res.output
    s = last_summary(project)
    assert s["check"]["errors"] == len(errors)
    assert s["publish"]["ok"] is True and s["publish"]["status"] == "published"
    assert site_rows(project)["ТВ-03"]["process"] == "Новый процесс"


def test_an_error_in_a_row_to_publish_still_blocks(project: Path, make_workbook: Any,
                                                   good_rows: list[dict[str, Any]]) -> None:
    rows = copy.deepcopy(good_rows)
    rows[0]["channel"] = "голубиная почта"
    res = run(project, "publish", str(make_workbook([*rows, draft()])), "--format", "json")
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["status"] == "refused" and out["reason_codes"] == ["rule_errors"]
    assert {f["row"] for f in out["errors"]} == {2}, "only the included row's error is the reason"
    assert not (project / "output" / "site").exists()


# ------------------------------------------------------------------------------------------------ item 2


def test_a_published_row_under_review_stays_on_the_site(project: Path, make_workbook: Any,
                                                        good_rows: list[dict[str, Any]]) -> None:
    """5728d3a: ТВ-02 back to «на проверке» vanished from the page and meta.csv said «исключены точки ТВ-02»."""
    assert nightly(project, make_workbook(good_rows), DAY1).exit_code == 0
    published_name = site_rows(project)["ТВ-02"]["name"]
    rows = copy.deepcopy(good_rows)
    by_code(rows, "ТВ-02").update(status="на проверке", name="Электронная почта (черновик правки)",
                                  checked_by=None, changed_on=dt.date(2026, 11, 12))
    by_code(rows, "ТВ-03").update(process="Новый процесс", changed_on=dt.date(2026, 11, 12))
    wb = make_workbook(rows)

    diff = run(project, "diff", str(wb), "--no-report", "--today", DAY2.isoformat(), "--format", "json")
    d = json.loads(diff.stdout)
    assert [(c["code"], c["kind"]) for c in d["changes"]] == [("ТВ-03", "edited")], "no exclusion of ТВ-02"
    assert d["pending_review"] == ["ТВ-02"]
    text = run(project, "diff", str(wb), "--no-report", "--today", DAY2.isoformat()).stdout
    assert "На проверке, на официальном сайте остаётся последняя опубликованная редакция: ТВ-02" in text
    assert "Исключение" not in text and "пропадёт" not in text

    res = nightly(project, wb, DAY2)
    assert res.exit_code == 0, res.output
    assert last_summary(project)["publish"]["status"] == "published"
    on_site = site_rows(project)
    assert on_site["ТВ-02"]["name"] == published_name, "the last published form stays"
    assert on_site["ТВ-03"]["process"] == "Новый процесс"
    m = meta(project)
    assert "исключ" not in m["provenance"] and m["provenance"] == "Изменены сведения о точках ТВ-03."
    page = (project / "output" / "site" / "index.html").read_text(encoding="utf-8")
    assert published_name in page and "черновик правки" not in page

    # Excluded by the responsible person: now it leaves the site, as an exclusion (п. 5.3.4).
    by_code(rows, "ТВ-02").update(status="исключено", checked_by="Консультант", changed_on=dt.date(2026, 11, 20))
    res = nightly(project, make_workbook(rows), dt.date(2026, 11, 23))
    assert "ТВ-02" not in site_rows(project)
    assert meta(project)["provenance"] == "Исключены точки ТВ-02."


# ------------------------------------------------------------------------------------------------ item 3


def test_the_first_placement_has_no_deadline(project: Path, master_copy: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """5728d3a: the demo's diff said «ПРОСРОЧЕНО на 680 рабочих дней» while its summary said «замечаний нет»."""
    diff = run(project, "diff", str(master_copy), "--no-report", "--today", "2026-12-07", "--format", "json",
               "--fail-if-overdue")
    assert diff.exit_code == 0
    d = json.loads(diff.stdout)
    assert d["deadline"] is None and d["overdue"] is False and d["publication_required"] is True
    monkeypatch.chdir(tmp_path)
    demo = CliRunner().invoke(main, ["nightly", "--demo", "--today", "2026-12-07"], catch_exceptions=False)
    assert demo.exit_code == 0, demo.output
    run_dir = next(p for p in (tmp_path / "output" / "reports").iterdir() if p.is_dir())
    for name in ("diff.html", "summary.html", "nightly.json"):
        assert "ПРОСРОЧЕНО" not in (run_dir / name).read_text(encoding="utf-8"), name
    html = (run_dir / "diff.html").read_text(encoding="utf-8")
    assert "(п. 5.2)" in html and "не позднее" not in html
    s = json.loads((run_dir / "nightly.json").read_text(encoding="utf-8"))
    assert s["diff"]["first_placement"] is True and s["diff"]["deadline"] is None and s["exit_code"] == 0


# ------------------------------------------------------------------------------------------------ item 4


@pytest.mark.parametrize("edit", [
    {"note": "уточнить у юриста"},
    {"responsible": "Другой сотрудник"},
    {"checked_by": "Другой консультант"},
    {"changed_on": dt.date(2026, 11, 12)},
    {"note": "и то, и другое", "changed_on": dt.date(2026, 11, 12)},
], ids=["note", "responsible", "checked_by", "date-only", "note-and-date"])
def test_never_published_fields_make_no_change(project: Path, make_workbook: Any, good_rows: list[dict[str, Any]],
                                               edit: dict[str, Any]) -> None:
    """5728d3a: changing only «Примечание» gave «Срок размещения … не позднее …» and listed the date as a change."""
    assert nightly(project, make_workbook(good_rows), DAY1).exit_code == 0
    version = (project / "output" / "published" / "LATEST").read_text(encoding="utf-8").strip()
    rows = copy.deepcopy(good_rows)
    by_code(rows, "ТВ-04").update(edit)
    wb = make_workbook(rows)
    d = json.loads(run(project, "diff", str(wb), "--no-report", "--today", DAY2.isoformat(), "--format",
                       "json").stdout)
    assert d["changes"] == [] and d["publication_required"] is False and d["deadline"] is None
    text = run(project, "diff", str(wb), "--no-report", "--today", DAY2.isoformat()).stdout
    assert "не позднее" not in text and "Дата изменения" not in text
    res = nightly(project, wb, DAY2)
    assert res.exit_code == 0 and last_summary(project)["publish"]["reason"] == "no_changes"
    pub = json.loads(run(project, "publish", str(wb), "--format", "json").stdout)
    assert pub["status"] == "unchanged" and pub["version"] is None
    assert (project / "output" / "published" / "LATEST").read_text(encoding="utf-8").strip() == version


# ------------------------------------------------------------------------------------------------ item 5


def test_a_change_on_svedeniya_is_reported_once_in_russian(project: Path, make_workbook: Any,
                                                           good_rows: list[dict[str, Any]],
                                                           good_info: dict[str, str]) -> None:
    """5728d3a: diff.html said «Изменились только сведения…» and «Изменений … нет»; the summary showed «— —» and
    «approving_document»; the console printed «самое раннее изменение )»."""
    assert nightly(project, make_workbook(good_rows, good_info), DAY1).exit_code == 0
    toml = project / "perechen.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("auto = true", "auto = false"), encoding="utf-8")
    info = dict(good_info, approving_document="Приказ Службы от 01.11.2026 № 40-о")
    wb = make_workbook(good_rows, info)
    rep = project / "rep"
    text = run(project, "diff", str(wb), "--today", DAY2.isoformat(), "--report-dir", str(rep)).stdout
    assert text.count("Документ, утверждающий перечень") == 2  # the section's line and the summary line
    assert "Изменения на листе «Сведения»: 1" in text and "→ «Приказ Службы от 01.11.2026 № 40-о»" in text
    html = (rep / "diff.html").read_text(encoding="utf-8")
    assert "Изменений по сравнению с опубликованной версией нет" not in html
    assert html.count("Изменения на листе «Сведения»") == 1
    for out in (text, html):
        assert "approving_document" not in out and "— —" not in out and "изменение )" not in out

    res = nightly(project, wb, DAY2)
    assert res.exit_code == 0
    console = res.output
    assert "approving_document" not in console and "изменение )" not in console and "— —" not in console
    assert "не случай п. 5.3" in console
    s = last_summary(project)
    (item,) = s["diff"]["changes_list"]
    assert item["kind"] == "info" and item["name"] == "«Документ, утверждающий перечень»"
    assert "approving_document" not in json.dumps(s, ensure_ascii=False)
    run_dir = sorted(p for p in (project / "output" / "reports").iterdir() if p.is_dir())[-1]
    page = (run_dir / "summary.html").read_text(encoding="utf-8")
    dashboard = (project / "output" / "reports" / "index.html").read_text(encoding="utf-8")
    for out in (page, dashboard):
        assert "approving_document" not in out and "самое раннее изменение —\n  ." not in out
        assert re.search(r"самое раннее изменение —\s*\.", out) is None and "— —" not in out
