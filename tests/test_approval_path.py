"""Issue 12, the whole path through the CLI over simulated weeks (``--today``), in both approval modes.

Edits of the workbook, nightly runs, a draft act, the signed act, placement on the site, a late case, a
forgotten «Дата изменения»; what the page, meta.csv and the published .xlsx cite; the compliance report.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from perechen import store
from perechen.cli import main
from perechen.journal import Journal, journal_path
from perechen.rules import Rules
from perechen.template import build_workbook
from tests.conftest import EXAMPLE, FILLED_INFO

OLD_DATE = dt.date(2027, 1, 15)


class Project:
    """A settings file, the master workbook (rewritten by each «edit») and output/."""

    def __init__(self, root: Path, rules: Rules, mode: str, *, auto: bool = True) -> None:
        self.root, self.rules, self.mode = root, rules, mode
        self.rows = [dict(r, changed_on=OLD_DATE) for r in EXAMPLE.rows()]
        self.settings(auto=auto)
        self.save()

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def site(self) -> Path:
        return self.out / "site"

    def settings(self, *, auto: bool) -> None:
        (self.root / "perechen.toml").write_text(
            f'workbook = "perechen.xlsx"\noutput = "out"\n\n[publish]\nauto = {str(auto).lower()}\n'
            f'target = "folder"\n\n[targets.folder]\ntype = "folder"\npath = "out/site"\n\n'
            f'[approval]\nmode = "{self.mode}"\n', encoding="utf-8")

    def save(self) -> None:
        (self.root / "perechen.xlsx").write_bytes(build_workbook(self.rules, copy.deepcopy(self.rows), FILLED_INFO))

    def edit(self, code: str, **values: Any) -> None:
        row = next(r for r in self.rows if r["code"] == code)
        row.update(values)
        self.save()

    def run(self, *args: str, day: dt.date | None, ok: tuple[int, ...] = (0,)) -> Result:
        when = ["--today", day.isoformat()] if day is not None else []
        res = CliRunner().invoke(main, [*args, "--config", str(self.root / "perechen.toml"), *when])
        assert res.exit_code in ok, (args, res.exit_code, res.output)
        assert "Traceback" not in res.output
        return res

    def nightly(self, day: dt.date, ok: tuple[int, ...] = (0,)) -> Result:
        return self.run("nightly", "--no-mail", day=day, ok=ok)

    def approve(self, day: dt.date) -> dict[str, Any]:
        res = self.run("approve", "--format", "json", day=day)
        data: dict[str, Any] = json.loads(res.stdout)
        return data

    def record(self, draft: str, number: str, signed: dt.date, day: dt.date, ok: tuple[int, ...] = (0,)) -> Result:
        return self.run("approve", "--record", draft, "--number", number, "--date", signed.strftime("%d.%m.%Y"),
                        day=day, ok=ok)

    def page(self) -> str:
        return (self.site / "index.html").read_text("utf-8")

    def meta(self) -> str:
        return (self.site / "meta.csv").read_text("utf-8-sig")

    def xlsx_facts(self) -> dict[str, str]:
        path = next(self.site.glob("*.xlsx"))
        wb = openpyxl.load_workbook(path, read_only=True)
        return {str(r[0]): str(r[1] or "") for r in wb["Сведения"].iter_rows(values_only=True) if r[0]}

    def published_row(self, code: str) -> dict[str, Any]:
        latest = store.latest(self.out)
        assert latest is not None
        return latest.rows_by_code[code]

    def report(self, year: int, day: dt.date, ok: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
        res = self.run("report", "--year", str(year), "--format", "json", day=day, ok=ok)
        data: dict[str, Any] = json.loads(res.stdout)
        return data


def _by_code(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in report["changes"]}


def test_inclusion_mode_weeks_of_edits_act_late_case_and_forgotten_date(tmp_path: Path, rules: Rules) -> None:
    p = Project(tmp_path, rules, "inclusion")
    # Week 1. No act yet: the first nightly places the register (п. 5.2) and claims no approving document, although
    # «Сведения» carries a free text about one.
    p.nightly(dt.date(2027, 2, 1))
    assert "Приказ Службы от 01.03.2024" not in p.page() and "утверждён приказом" not in p.page()
    assert "утверждён" not in p.meta() and p.xlsx_facts().get("Документ, утверждающий перечень", "") == ""
    draft = p.approve(dt.date(2027, 2, 1))
    # Already on the site: the first act approves the whole Перечень (its appendix), no change against the site.
    assert draft["rows"] == len(p.rows) and not any(draft["changes"].values()) and Path(draft["docx"]).is_file()
    p.record(draft["draft"], "31-о", dt.date(2027, 2, 2), dt.date(2027, 2, 2))
    # The change ТВ-03 is made and placed the same week (the act is cited from the next placement on).
    p.edit("ТВ-03", process="Регистрация самоходных машин (новая редакция)", changed_on=dt.date(2027, 2, 3))
    p.nightly(dt.date(2027, 2, 3))
    assert p.published_row("ТВ-03")["process"].endswith("(новая редакция)")
    cite = "Перечень утверждён приказом от 02.02.2027 № 31-о «Об утверждении перечня точек взаимодействия с клиентом»"
    assert cite in p.page() and cite in p.meta() and p.xlsx_facts()["Документ, утверждающий перечень"] == cite + "."
    # Week 2: ТВ-04's needs change but the clerk forgets «Дата изменения» (the old 15.01.2027 stays); automatic
    # placement is off for three weeks — the change is placed late.
    p.settings(auto=False)
    p.edit("ТВ-04", needs=["получение консультации"])
    res = p.nightly(dt.date(2027, 2, 8))
    diff = json.loads(p.run("diff", "--format", "json", "--no-report", day=dt.date(2027, 2, 9)).stdout)
    assert diff["earliest_change"] == "2027-02-08", "the forgotten date does not move the deadline"
    contradicts = [w for w in diff["warnings"] if w["type"] == "date-contradicts"]
    assert contradicts and "15.01.2027" in contradicts[0]["message"] and "08.02.2027" in contradicts[0]["message"]
    for day in (dt.date(2027, 2, 15), dt.date(2027, 2, 24)):
        res = p.nightly(day, ok=(0, 1))
    assert res.exit_code == 1 and "ПРОСРОЧЕНО" in res.output
    p.settings(auto=True)
    p.nightly(dt.date(2027, 3, 1))
    assert p.published_row("ТВ-04")["needs"] == ["получение консультации"]
    # The compliance report of the year: ТВ-03 on time, ТВ-04 late; the first placement has no term.
    rep = p.report(2027, dt.date(2027, 3, 2), ok=(1,))
    by = _by_code(rep)
    assert set(by) == {"ТВ-03", "ТВ-04"} and rep["on_time"] == 1 and rep["late"] == 1 and rep["pending"] == 0
    assert by["ТВ-03"]["made_on"] == "2027-02-03" and by["ТВ-03"]["placed_on"] == "2027-02-03"
    assert by["ТВ-03"]["on_time"] is True and by["ТВ-03"]["working_days"] == 0
    assert by["ТВ-04"]["made_on"] == "2027-02-08" and by["ТВ-04"]["placed_on"] == "2027-03-01"
    assert by["ТВ-04"]["on_time"] is False and by["ТВ-04"]["cases"] == ["needs_changed"]
    # history: the act beside the placements.
    hist = json.loads(p.run("history", "--format", "json", day=None).stdout)
    kinds = [(i["type"], i["at"][:10]) for i in hist["approvals"]]
    assert ("act", "2027-02-02") in kinds and kinds.count(("act", "2027-02-02")) == 1
    assert [k for k in kinds if k[0] == "placement"] == [("placement", "2027-02-01"), ("placement", "2027-02-03"),
                                                         ("placement", "2027-03-01")]
    text = p.run("history", day=None).output
    assert "приказ от 02.02.2027 № 31-о" in text and "размещена версия" in text
    # The dashboard shows no pending change any more; the last run placed ТВ-04.
    index = (p.out / "reports" / "index.html").read_text("utf-8")
    assert 'data-stage="placed"' in index and "ТВ-04" in index
    # A new row under review is observed (not yet made in the Перечень: no day, no deadline).
    p.rows.append(dict(p.rows[0], code="ТВ-09", name="Новая точка на проверке", status="на проверке"))
    p.save()
    p.nightly(dt.date(2027, 3, 3), ok=(0, 1))  # the row under review has its own findings
    index = (p.out / "reports" / "index.html").read_text("utf-8")
    assert 'data-stage="observed"' in index and "ещё не внесено" in index


def test_act_mode_places_only_approved_rows_and_changes_wait_for_a_new_act(tmp_path: Path, rules: Rules) -> None:
    p = Project(tmp_path, rules, "act")
    res = p.nightly(dt.date(2027, 2, 1))
    assert "приказ ещё не записан" in res.output and not (p.site / "index.html").exists()
    d1 = p.approve(dt.date(2027, 2, 1))
    # Refusals (exit 2, Russian): a date before the draft, a date in the future, an unknown draft.
    assert "раньше подготовки проекта" in p.record(d1["draft"], "1-о", dt.date(2027, 1, 29), dt.date(2027, 2, 2),
                                                    ok=(2,)).output
    assert "ещё не наступила" in p.record(d1["draft"], "1-о", dt.date(2027, 2, 5), dt.date(2027, 2, 2), ok=(2,)).output
    assert "не найден" in p.record("2000-01-01_000000", "1-о", dt.date(2027, 2, 2), dt.date(2027, 2, 2),
                                   ok=(2,)).output
    p.record(d1["draft"], "1-о", dt.date(2027, 2, 2), dt.date(2027, 2, 2))
    assert "уже записан" in p.record(d1["draft"], "9-о", dt.date(2027, 2, 2), dt.date(2027, 2, 2), ok=(2,)).output
    p.nightly(dt.date(2027, 2, 2))
    assert "Перечень утверждён приказом от 02.02.2027 № 1-о" in p.page()
    # A change made in the workbook is not placed without an act; diff, nightly and the dashboard say it waits.
    old_process = p.published_row("ТВ-03")["process"]
    p.edit("ТВ-03", process="Новый процесс ТВ-03", changed_on=dt.date(2027, 2, 3))
    res = p.nightly(dt.date(2027, 2, 3))
    assert p.published_row("ТВ-03")["process"] == old_process
    assert "ждут приказа 1 включённое изменение (с 03.02.2027): ТВ-03" in res.output
    diff = json.loads(p.run("diff", "--format", "json", "--no-report", day=dt.date(2027, 2, 4)).stdout)
    assert diff["waiting_for_act"] == {"count": 1, "since": "2027-02-03", "codes": ["ТВ-03"]}
    index = (p.out / "reports" / "index.html").read_text("utf-8")
    assert "Ждут утверждения приказом" in index and 'data-stage="included"' in index
    d2 = p.approve(dt.date(2027, 2, 4))
    assert d2["changes"]["edited"] == ["ТВ-03"] and d2["changes"]["added"] == []
    # A change made after the draft: ТВ-05. The act of draft 2 approves ТВ-03 only.
    p.edit("ТВ-05", name="Новое наименование ТВ-05", changed_on=dt.date(2027, 2, 5))
    p.nightly(dt.date(2027, 2, 5))
    p.record(d2["draft"], "2-о", dt.date(2027, 2, 8), dt.date(2027, 2, 8))
    res = p.nightly(dt.date(2027, 2, 8))
    assert p.published_row("ТВ-03")["process"] == "Новый процесс ТВ-03"
    assert p.published_row("ТВ-05")["name"] != "Новое наименование ТВ-05", "not placed until a new act"
    assert "ждут приказа 1 включённое изменение (с 05.02.2027): ТВ-05" in res.output, res.output
    left = _last_nightly(p)["diff"]  # what is left to place after this run: ТВ-05, waiting for an act, no term
    assert [c["code"] for c in left["changes_list"]] == ["ТВ-05"] and left["waiting_for_act"] == 1
    assert left["deadline"] is None and left["overdue"] is False and "осталось" not in res.output
    assert ("Перечень утверждён приказом от 02.02.2027 № 1-о «Об утверждении перечня точек взаимодействия с "
            "клиентом»; изменения внесены приказом от 08.02.2027 № 2-о.") in p.page()
    # An act cannot be attached to other rows: a superseded draft, a draft whose frozen rows were altered.
    d3 = p.approve(dt.date(2027, 2, 9))
    p.edit("ТВ-06", name="Ещё одно наименование", changed_on=dt.date(2027, 2, 9))
    d4 = p.approve(dt.date(2027, 2, 9))
    assert "заменён более поздним проектом" in p.record(d3["draft"], "3-о", dt.date(2027, 2, 9), dt.date(2027, 2, 9),
                                                        ok=(2,)).output
    frozen = Path(d4["folder"]) / "draft.json"
    data = json.loads(frozen.read_text("utf-8"))
    data["rows"][0]["name"] = "Подменённая строка"
    frozen.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "повреждён" in p.record(d4["draft"], "3-о", dt.date(2027, 2, 9), dt.date(2027, 2, 9), ok=(2,)).output
    # The compliance report counts from the act's date: ТВ-03 made 08.02 (act 2-о), placed 08.02.
    rep = p.report(2027, dt.date(2027, 2, 10), ok=(0,))
    by = _by_code(rep)
    assert by["ТВ-03"]["made_on"] == "2027-02-08" and by["ТВ-03"]["act"] == "приказ от 08.02.2027 № 2-о"
    assert by["ТВ-03"]["on_time"] is True and "ТВ-05" not in by  # waiting for an act: not made yet
    with Journal.open(journal_path(p.out)) as j:
        placements = j.placements()
        assert [pl.act_id for pl in placements] == [1, 2]
    # Weeks later, still no act for ТВ-05 and ТВ-06: they are not made in the Перечень yet — waiting, not overdue.
    res = p.nightly(dt.date(2027, 3, 15))
    assert "ПРОСРОЧЕНО" not in res.output
    assert "ждут приказа 2 включённых изменения (с 05.02.2027): ТВ-05, ТВ-06" in res.output, res.output


def test_publish_in_act_mode_without_an_act_is_refused(tmp_path: Path, rules: Rules) -> None:
    Project(tmp_path, rules, "act", auto=False)
    res = CliRunner().invoke(main, ["publish", "--config", str(tmp_path / "perechen.toml")])
    assert res.exit_code == 1 and "приказ ещё не записан" in res.output


def test_approve_refuses_errors_in_rows_to_approve_not_in_drafts(tmp_path: Path, rules: Rules) -> None:
    p = Project(tmp_path, rules, "inclusion")
    p.rows.append(dict(p.rows[0], code="ТВ-99", status="черновик", basis="", changed_on=OLD_DATE))
    p.save()
    res = p.run("approve", day=dt.date(2027, 2, 1))  # a draft with errors and a name that duplicates ТВ-01
    assert "Подготовлен проект приказа" in res.output
    p.edit("ТВ-02", channel="голубиная почта")
    res = p.run("approve", day=dt.date(2027, 2, 1), ok=(1,))
    assert "Проект приказа не подготовлен" in res.output and "голубиная почта" in res.output
    js = json.loads(p.run("approve", "--format", "json", day=dt.date(2027, 2, 1), ok=(1,)).stdout)
    assert js["draft"] is None and js["errors"]


@pytest.mark.parametrize("check_code", ["duplicate-name", "duplicate-kind"])
def test_a_draft_duplicating_an_included_row_is_reported_on_the_draft_only(tmp_path: Path, rules: Rules,
                                                                          check_code: str) -> None:
    p = Project(tmp_path, rules, "inclusion")
    p.rows.append(dict(p.rows[0], code="ТВ-99", status="черновик"))
    p.save()
    res = p.run("check", "--format", "json", "--no-report", day=dt.date(2027, 2, 1), ok=(0, 1))
    found = [f for f in json.loads(res.stdout)["findings"] if f["code"] == check_code]
    assert found and {f["row"] for f in found} == {len(p.rows) + 1}, found


def _last_nightly(p: Project) -> dict[str, Any]:
    runs = sorted((p.out / "reports").glob("*/nightly.json"))
    data: dict[str, Any] = json.loads(runs[-1].read_text("utf-8"))
    return data


def _region(p: Project, day: dt.date) -> tuple[dict[str, Any], dict[str, Any], str]:
    """``perechen region`` over this one agency on ``day``: (its stdout entry, its region.json details, the text)."""
    toml = p.root / "region.toml"
    toml.write_text(f'[region]\nname = "Тест"\noutput = "region-out"\n[agencies.a]\nname = "Орган"\n'
                    f'config = "{(p.root / "perechen.toml").as_posix()}"\n', encoding="utf-8")
    args = ["region", "--config", str(toml), "--no-mail", "--today", day.isoformat()]
    res = CliRunner().invoke(main, [*args, "--format", "json"])
    assert res.exit_code in (0, 1) and "Traceback" not in res.output, res.output
    details = json.loads((p.root / "region-out" / "region.json").read_text("utf-8"))["details"]
    text = CliRunner().invoke(main, args).output
    return json.loads(res.stdout)["agencies"][0], details[0], text


def test_act_mode_no_term_before_the_act_then_ten_working_days_from_its_date(tmp_path: Path, rules: Rules) -> None:
    """[approval] mode = "act": a change seen but not yet approved by an act waits for the act (п. 5.1) — no
    deadline that would move with each day it waits, never overdue — in nightly.json, the nightly text, the
    dashboard, ``perechen diff`` and ``perechen region`` alike; once the act is recorded, the term is 10 working
    days from the act's date (п. 5.4) in all of them."""
    from perechen.workdays import WorkCalendar

    p = Project(tmp_path, rules, "act", auto=False)
    first = p.approve(dt.date(2027, 2, 1))
    p.record(first["draft"], "1-о", dt.date(2027, 2, 1), dt.date(2027, 2, 1))
    p.run("publish", day=dt.date(2027, 2, 1))  # the first placement of the approved Перечень (п. 5.2)
    p.edit("ТВ-03", process="Новый процесс ТВ-03", changed_on=dt.date(2027, 2, 3))
    waiting_text = "ни одно ещё не утверждено приказом — срок по п. 5.4 исчисляется со дня приказа"
    for day in (dt.date(2027, 2, 3), dt.date(2027, 2, 4), dt.date(2027, 3, 15)):  # weeks later: still no term
        res = p.nightly(day)  # exit 0: nothing is overdue before the act
        diff = _last_nightly(p)["diff"]
        assert diff["pending_changes"] == 1 and diff["waiting_for_act"] == 1, diff
        assert diff["deadline"] is None and diff["working_days_left"] is None and diff["earliest_change"] is None
        assert diff["overdue"] is False and _last_nightly(p)["overdue"] is False
        item = diff["changes_list"][0]
        assert item["code"] == "ТВ-03" and item["awaits_act"] and item["deadline"] is None
        assert item["changed_on"] is None
        assert waiting_text in res.output and "осталось" not in res.output and "ПРОСРОЧЕНО" not in res.output
        index = (p.out / "reports" / "index.html").read_text("utf-8")
        assert waiting_text in index and "ждёт приказа" in index
        js = json.loads(p.run("diff", "--format", "json", "--no-report", day=day).stdout)
        assert js["deadline"] is None and js["working_days_left"] is None and js["overdue"] is False
        assert js["waiting_for_act"]["codes"] == ["ТВ-03"]
        assert waiting_text in p.run("diff", "--no-report", day=day).output
        agency, details, text = _region(p, day)
        assert agency["pending"] == diff["pending_changes"] and agency["deadline"] is None and agency["overdue"] == 0
        assert details["waiting_for_act"] == diff["waiting_for_act"] and details["earliest_change"] is None
        assert waiting_text in text
    # The act approving ТВ-03 is signed on 16.03.2027: the term is 10 working days from that date, the same on
    # every later day, and it passes.
    act_day = dt.date(2027, 3, 16)
    second = p.approve(act_day)
    p.record(second["draft"], "2-о", act_day, act_day)
    cal = WorkCalendar.load(rules.directory)
    for day in (dt.date(2027, 3, 17), dt.date(2027, 3, 19), dt.date(2027, 4, 5)):
        st = cal.status(act_day, day)
        res = p.nightly(day, ok=(1,) if st.overdue else (0,))
        summary = _last_nightly(p)
        diff = summary["diff"]
        assert diff["deadline"] == st.deadline.isoformat() and diff["earliest_change"] == act_day.isoformat()
        assert diff["waiting_for_act"] == 0 and diff["changes_list"][0]["awaits_act"] is False
        assert diff["overdue"] is st.overdue and summary["overdue"] is st.overdue
        if not st.overdue:
            assert diff["working_days_left"] == st.working_days_left
        assert st.deadline.strftime("%d.%m.%Y") in res.output and waiting_text not in res.output
        js = json.loads(p.run("diff", "--format", "json", "--no-report", day=day).stdout)
        assert js["deadline"] == diff["deadline"] and js["overdue"] is st.overdue
        agency, details, _ = _region(p, day)
        assert agency["deadline"] == diff["deadline"] and details["waiting_for_act"] == 0
        assert details["earliest_change"] == act_day.isoformat()
        assert (agency["overdue"] > 0) is st.overdue
        if st.overdue:
            assert agency["overdue"] == diff["overdue_working_days"]
        else:
            assert details["working_days_left"] == diff["working_days_left"]
    assert cal.status(act_day, dt.date(2027, 4, 5)).overdue  # the last day above is past the term
