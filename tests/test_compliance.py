"""The compliance report (п. 5.4) computed from the journal and the working-day calendar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from perechen.compliance import ComplianceError, compute, render_text, write_reports
from perechen.journal import Journal, ObservedChange
from perechen.workdays import WorkCalendar

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load(ROOT / "rules")


def at(day: str, hour: int = 3) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour))


def ch(code: str, case: str = "edited", *, included: bool = True, new: object = "новое") -> ObservedChange:
    return ObservedChange(code, case, "name", "старое", new, included)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    """A year of 2026: the first placement, a change placed in time, a late one, a pending one, noise."""
    j = Journal.open(tmp_path / "journal.sqlite")
    j.observe([ch("ТВ-01", "added"), ch("ТВ-02", "added")], fingerprint="0", observed_at=at("2026-01-12"))
    j.record_placement("v0", placed_at=at("2026-01-12", 12), fingerprint="0", row_count=2)
    # Monday 02.03.2026: ТВ-01 renamed (edited) and its kind changed; ТВ-03 added. Placed Friday 13.03.
    j.observe([ch("ТВ-01"), ch("ТВ-01", "kind_changed"), ch("ТВ-03", "added")], fingerprint="1",
              observed_at=at("2026-03-02"))
    j.record_placement("v1", placed_at=at("2026-03-13", 12), fingerprint="1", row_count=3)
    # 01.04.2026: ТВ-02 excluded; placed only on 20.04 (late). ТВ-09 edited then reverted before placement.
    j.observe([ch("ТВ-02", "excluded"), ch("ТВ-09")], fingerprint="2", observed_at=at("2026-04-01"))
    j.observe([ch("ТВ-02", "excluded")], fingerprint="3", observed_at=at("2026-04-02"))
    j.record_placement("v2", placed_at=at("2026-04-20", 12), fingerprint="3", row_count=2)
    # 04.05.2026: ТВ-04 needs changed, not placed yet; ТВ-05 under review (not made in the Перечень yet).
    j.observe([ch("ТВ-04", "needs_changed"), ch("ТВ-05", included=False)], fingerprint="4",
              observed_at=at("2026-05-04"))
    yield j
    j.close()


def test_every_change_of_the_year_with_working_days_and_verdict(journal: Journal, cal: WorkCalendar) -> None:
    rep = compute(journal, cal, 2026, today=dt.date(2026, 5, 6))
    d = rep.to_dict()
    assert set(d) == {"year", "changes", "on_time", "late", "pending"}
    assert d["year"] == 2026
    assert all(set(c) == {"code", "cases", "made_on", "act", "placed_on", "working_days", "on_time"}
               for c in d["changes"])
    by = {c["code"]: c for c in d["changes"]}
    assert set(by) == {"ТВ-01", "ТВ-03", "ТВ-02", "ТВ-04"}  # not the first placement, not reverted/under review
    # 02.03 → 13.03.2026: 9 March is a day off in 2026 (ст. 112: 8 March on a Sunday) — 8 working days.
    assert by["ТВ-01"] == {"code": "ТВ-01", "cases": ["kind_changed", "edited"], "made_on": "2026-03-02",
                           "act": None, "placed_on": "2026-03-13", "working_days": 8, "on_time": True}
    # 01.04 → 20.04.2026: 13 working days, the deadline was 15.04.
    assert by["ТВ-02"]["working_days"] == 13 and by["ТВ-02"]["on_time"] is False
    assert by["ТВ-04"] == {"code": "ТВ-04", "cases": ["needs_changed"], "made_on": "2026-05-04", "act": None,
                           "placed_on": None, "working_days": None, "on_time": None}
    assert (d["on_time"], d["late"], d["pending"]) == (2, 1, 1)
    assert rep.exit_code == 1
    assert json.loads(rep.to_json()) == d
    assert compute(journal, cal, 2025, today=dt.date(2026, 5, 6)).to_dict() == {
        "year": 2025, "changes": [], "on_time": 0, "late": 0, "pending": 0}


def test_pending_change_past_its_deadline_is_overdue(journal: Journal, cal: WorkCalendar) -> None:
    rep = compute(journal, cal, 2026, today=dt.date(2026, 6, 1))
    (pending,) = [c for c in rep.changes if c.placed_on is None]
    assert pending.overdue and pending.deadline == dt.date(2026, 5, 19)  # 11.05.2026 is a day off
    text = render_text(rep)
    assert "срок истёк 19.05.2026" in text and "просрочено: 1" in text


def test_act_mode_counts_from_the_act_and_names_it(tmp_path: Path, cal: WorkCalendar) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        j.record_placement("v0", placed_at=at("2026-01-12"), fingerprint="0", row_count=1)
        j.observe([ch("ТВ-01"), ch("ТВ-02", "added")], fingerprint="1", observed_at=at("2026-02-02"))
        j.add_draft("D1", created_at=at("2026-02-03"), kind="amend", baseline="v0", fingerprint="1", row_count=2,
                    folder="x", changes=[("ТВ-01", "edited")])
        act = j.record_act("D1", number="12-о", signed_on=dt.date(2026, 2, 10), title="О внесении изменений",
                           recorded_at=at("2026-02-10", 15))
        j.record_placement("v1", placed_at=at("2026-02-20"), fingerprint="1", row_count=2, act_id=act.id,
                           require_act=True)
        rep = compute(j, cal, 2026, today=dt.date(2026, 2, 25), mode="act")
        (c,) = rep.changes
        assert c.made_on == dt.date(2026, 2, 10) and c.act == "приказ от 10.02.2026 № 12-о"
        assert c.working_days == 8 and c.on_time is True  # 11.02 … 20.02.2026
        assert rep.waiting_for_act == 1  # ТВ-02: included, no act yet — its clock has not started
        assert "ожидает" in render_text(rep)
        # The same journal in "inclusion" mode: both changes count from the day they were seen included.
        inc = compute(j, cal, 2026, today=dt.date(2026, 2, 25))
        assert {c.code: c.made_on for c in inc.changes} == {"ТВ-01": dt.date(2026, 2, 2),
                                                           "ТВ-02": dt.date(2026, 2, 2)}


def test_unknown_calendar_year_is_a_russian_error(tmp_path: Path, cal: WorkCalendar) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        j.record_placement("v0", placed_at=at("2026-01-12"), fingerprint="0", row_count=1)
        j.observe([ObservedChange("ТВ-01", "edited", "name", "a", "b", True, dt.date(2031, 3, 3))],
                  fingerprint="1", observed_at=at("2026-02-02"))  # first observation: the typed date counts
        with pytest.raises(ComplianceError) as e:
            compute(j, cal, 2031, today=dt.date(2026, 2, 25))
        assert "2031" in e.value.message and "календарь" in e.value.message.lower()


def test_reports_written_html_escaped_xlsx_text(journal: Journal, cal: WorkCalendar, tmp_path: Path) -> None:
    journal.observe([ch("ТВ-04", "needs_changed"), ch("<b>X</b>", "added"), ch("=1+2", "added")], fingerprint="5",
                    observed_at=at("2026-05-05"))  # the whole comparison: ТВ-04 still waits
    rep = compute(journal, cal, 2026, today=dt.date(2026, 5, 6), agency="Служба <гостехнадзора>")
    files = write_reports(rep, tmp_path / "reports" / "run")
    assert sorted(p.name for p in files.values()) == ["compliance.html", "compliance.json", "compliance.xlsx"]
    html = files["html"].read_text(encoding="utf-8")
    assert "&lt;b&gt;X&lt;/b&gt;" in html and "<b>X</b>" not in html and "&lt;гостехнадзора&gt;" in html
    assert "в срок" in html and "с опозданием" in html and "2026" in html
    ws = openpyxl.load_workbook(files["xlsx"]).active
    codes = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=1).data_type for r in range(2, ws.max_row + 1)}
    assert codes["=1+2"] == "s"
    assert json.loads(files["json"].read_text(encoding="utf-8"))["pending"] == 3
