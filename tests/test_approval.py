"""Approval (п. 5.1): frozen drafts in output/approvals/<id>/, the signed act recorded for exactly that draft."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from perechen import approval
from perechen.act_docx import TITLE_AMEND, TITLE_APPROVE
from perechen.approval import ApprovalError, load_draft, parse_act_date, prepare_draft, record_act
from perechen.journal import Journal, ObservedChange, journal_path
from perechen.reader import read_register
from perechen.rules import Rules

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 7, 10, 0)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "output"


@pytest.fixture
def journal(out: Path) -> Any:
    with Journal.open(journal_path(out)) as j:
        yield j


def draft_of(path: Path, rules: Rules, out: Path, journal: Journal, now: dt.datetime = NOW, **kw: Any) -> Any:
    return prepare_draft(read_register(path, rules), rules, out, journal, now=now, **kw)


def test_first_draft_freezes_the_publishable_rows_with_act_and_xlsx(make_workbook: Any, rules: Rules, out: Path,
                                                                   journal: Journal, good_rows: list[dict]) -> None:
    wb = make_workbook(good_rows)
    d = draft_of(wb, rules, out, journal)
    included = [r["code"] for r in good_rows if r["status"] == "включено"]
    assert d.kind == "approve" and [r["code"] for r in d.rows] == included
    assert sorted(p.name for p in d.folder.iterdir()) == ["draft.json", "izmeneniya.xlsx", "perechen.xlsx",
                                                         "proekt-prikaza.docx"]
    js = d.to_json()
    assert set(js) == {"draft", "folder", "docx", "rows", "fingerprint", "changes"}
    assert js["rows"] == len(included) and js["changes"]["added"] == included
    assert set(js["changes"]) == {"added", "kind_changed", "needs_changed", "excluded", "edited"}
    assert Path(js["docx"]).is_file()
    again = load_draft(out, d.id)
    assert again.fingerprint == d.fingerprint and again.rows == d.rows
    act = docx.Document(str(d.docx))
    assert TITLE_APPROVE in [p.text for p in act.paragraphs]
    assert [r.cells[1].text for r in act.tables[-1].rows[1:]] == included
    ws = openpyxl.load_workbook(d.folder / "perechen.xlsx").active
    assert [ws.cell(row=i, column=1).value for i in range(2, 2 + len(included))] == included
    rec = journal.draft(d.id)
    assert rec is not None and rec.fingerprint == d.fingerprint and ("ТВ-01", "added") in rec.changes


def test_record_act_refusals_then_success(make_workbook: Any, rules: Rules, out: Path, journal: Journal) -> None:
    d = draft_of(make_workbook(), rules, out, journal)
    today = dt.date(2026, 12, 9)

    def refused(draft_id: str, when: dt.date, number: str = "31-о") -> ApprovalError:
        with pytest.raises(ApprovalError) as e:
            record_act(out, journal, draft_id, number=number, signed_on=when, today=today, now=NOW)
        return e.value

    e = refused("2026-01-01_000000", today)
    assert e.code == "draft_unknown" and d.id in e.message  # names the drafts that exist
    e = refused(d.id, dt.date(2026, 12, 10))
    assert e.code == "act_date_future" and "10.12.2026" in e.message
    e = refused(d.id, dt.date(2026, 12, 6))
    assert e.code == "act_date_early" and "06.12.2026" in e.message and "07.12.2026" in e.message
    assert refused(d.id, today, number="  ").code == "act_number"
    act = record_act(out, journal, d.id, number="31-о", signed_on=dt.date(2026, 12, 8), today=today, now=NOW)
    assert act.citation() == "приказ от 08.12.2026 № 31-о" and act.title == TITLE_APPROVE
    saved = json.loads((d.folder / "act.json").read_text(encoding="utf-8"))
    assert saved["number"] == "31-о" and saved["signed_on"] == "2026-12-08"
    e = refused(d.id, today)
    assert e.code == "act_exists" and "08.12.2026" in e.message
    assert "Error" not in e.message and "Traceback" not in e.message


def test_superseded_draft_and_amending_act(make_workbook: Any, rules: Rules, out: Path, journal: Journal,
                                           good_rows: list[dict]) -> None:
    first = draft_of(make_workbook(good_rows), rules, out, journal)
    record_act(out, journal, first.id, number="31-о", signed_on=dt.date(2026, 12, 7), now=NOW)
    with pytest.raises(ApprovalError) as e:  # nothing changed since the act
        draft_of(make_workbook(good_rows), rules, out, journal, now=NOW + dt.timedelta(hours=1))
    assert e.value.code == "nothing_to_approve" and "№ 31-о" in e.value.message

    rows = [dict(r) for r in good_rows]
    included = [r for r in rows if r["status"] == "включено"]
    included[0]["name"] = "Новое наименование точки"
    included[1]["status"] = "исключено"
    a = draft_of(make_workbook(rows), rules, out, journal, now=NOW + dt.timedelta(days=1))
    assert a.kind == "amend"
    assert a.changes["edited"] == [included[0]["code"]] and a.changes["excluded"] == [included[1]["code"]]
    assert a.baseline is not None and "31-о" in a.baseline  # compared with the approved draft
    b = draft_of(make_workbook(rows), rules, out, journal, now=NOW + dt.timedelta(days=2))
    with pytest.raises(ApprovalError) as e:
        record_act(out, journal, a.id, number="40-о", signed_on=dt.date(2026, 12, 9), today=dt.date(2026, 12, 10))
    assert e.value.code == "draft_superseded" and b.id in e.value.message
    act = record_act(out, journal, b.id, number="40-о", signed_on=dt.date(2026, 12, 9),
                     today=dt.date(2026, 12, 10), title="  ")
    assert act.title == TITLE_AMEND
    text = "\n".join(p.text for p in docx.Document(str(b.docx)).paragraphs)
    assert TITLE_AMEND in text and "утверждённый приказом от 07.12.2026 № 31-о" in text
    assert "Исключить из перечня" in text and "Изложить в новой редакции уточнённые" in text
    cells = {c.text for t in docx.Document(str(b.docx)).tables for r in t.rows for c in r.cells}
    assert "Новое наименование точки" in cells
    ch = openpyxl.load_workbook(b.folder / "izmeneniya.xlsx")
    assert ch.sheetnames  # the changes, as perechen diff writes them


def test_act_cannot_be_attached_to_other_rows(make_workbook: Any, rules: Rules, out: Path, journal: Journal) -> None:
    d = draft_of(make_workbook(), rules, out, journal)
    path = d.folder / "draft.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["rows"][0]["name"] = "Подменённая строка"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ApprovalError) as e:
        record_act(out, journal, d.id, number="1", signed_on=NOW.date(), now=NOW)
    assert e.value.code == "draft_damaged" and "отпечатк" in e.value.message
    assert journal.acts() == []


def test_act_approves_the_journal_changes_of_its_draft_only(make_workbook: Any, rules: Rules, out: Path,
                                                            journal: Journal) -> None:
    journal.record_placement("v1", placed_at=NOW - dt.timedelta(days=3), fingerprint="f", row_count=1)
    journal.observe([ObservedChange("ТВ-01", "added", "name", None, "x")], fingerprint="a",
                    observed_at=NOW - dt.timedelta(hours=1))
    d = draft_of(make_workbook(), rules, out, journal)
    journal.observe([ObservedChange("ТВ-01", "added", "name", None, "x"),
                     ObservedChange("ТВ-02", "added", "name", None, "y")], fingerprint="b",
                    observed_at=NOW + dt.timedelta(hours=1))
    record_act(out, journal, d.id, number="5", signed_on=NOW.date(), now=NOW + dt.timedelta(hours=2))
    stages = {c.code: c.stage for c in journal.pending()}
    assert stages == {"ТВ-01": "approved", "ТВ-02": "included"}  # ТВ-02 changed after the draft: not approved
    assert approval.waiting_for_act(journal) == (1, (NOW + dt.timedelta(hours=1)).date())


def test_parse_act_date() -> None:
    assert parse_act_date("08.12.2026") == dt.date(2026, 12, 8)
    assert parse_act_date(" 8.1.2026 ") == dt.date(2026, 1, 8)
    assert parse_act_date("2026-12-08") == dt.date(2026, 12, 8)  # as --today reads it
    for bad in ("08/12/2026", "31.02.2026", "2026-02-31", "", "08.12.26"):
        with pytest.raises(ApprovalError) as e:
            parse_act_date(bad)
        assert e.value.code == "act_date_format" and "ДД.ММ.ГГГГ" in e.value.message


def test_formula_text_stays_text_in_review_xlsx(rules: Rules) -> None:
    data = approval.rows_xlsx(rules, [{"code": "ТВ-1", "name": "=HYPERLINK(\"http://x\",\"y\")",
                                       "changed_on": "2026-12-01", "needs": ["консультация"]}], title="t")
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["D2"].data_type == "s" and ws["D2"].value.startswith("=HYPERLINK")


_KILL_CHILD = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from perechen import journal as jr
    from perechen.approval import prepare_draft
    from perechen.journal import Journal, journal_path
    from perechen.reader import read_register
    from perechen.rules import Rules
    wb, out = Path(sys.argv[1]), Path(sys.argv[2])
    def hook(step):
        if step == "draft-inserted":
            print("at", step, flush=True)
            time.sleep(600)
    jr._step_hook = hook
    rules = Rules.load(None)
    j = Journal.open(journal_path(out))
    prepare_draft(read_register(wb, rules), rules, out, j, now=dt.datetime(2026, 12, 7, 10, 0))
""")


def test_approve_killed_while_recording_the_draft_completes_next_run(make_workbook: Any, rules: Rules,
                                                                    out: Path) -> None:
    wb = make_workbook()
    Journal.open(journal_path(out)).close()
    proc = subprocess.Popen([sys.executable, "-c", _KILL_CHILD, str(wb), str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("at draft-inserted"), (line, proc.stderr.read() if proc.stderr else "")
        proc.kill()
    finally:
        proc.wait(timeout=60)
    folders = [p.name for p in (out / "approvals").iterdir()]
    assert folders == ["2026-12-07_100000"]  # the folder was complete, the journal transaction was not
    with Journal.open(journal_path(out)) as j:
        assert j.drafts() == []
        act = record_act(out, j, "2026-12-07_100000", number="3-о", signed_on=dt.date(2026, 12, 7),
                         now=NOW + dt.timedelta(hours=1))  # the next run records the folder, then the act
        assert act.draft_id == "2026-12-07_100000" and j.draft(act.draft_id) is not None


def test_sync_rewrites_a_missing_act_json_and_drops_unfinished_folders(make_workbook: Any, rules: Rules, out: Path,
                                                                       journal: Journal) -> None:
    d = draft_of(make_workbook(), rules, out, journal)
    record_act(out, journal, d.id, number="9", signed_on=NOW.date(), now=NOW)
    (d.folder / "act.json").unlink()
    (out / "approvals" / ".tmp-2026-12-07_120000").mkdir()
    approval.sync_drafts(out, journal)
    assert json.loads((d.folder / "act.json").read_text(encoding="utf-8"))["number"] == "9"
    assert [p.name for p in (out / "approvals").iterdir()] == [d.id]


def test_only_errors_in_rows_to_approve_or_the_sheet_block(make_workbook: Any, rules: Rules,
                                                           good_rows: list[dict]) -> None:
    from perechen.checks import run_checks

    rows = [dict(r) for r in good_rows]
    draft_row = dict(rows[0], status="черновик", code="плохой код!", basis="приказ без даты и номера",
                     name="Новая точка, ещё не проверенная", process="Новый процесс",
                     checked_by=None)
    rows.append(draft_row)
    reg = read_register(make_workbook(rows), rules)
    findings = run_checks(reg, rules, today=NOW.date())
    assert any(f.severity.value == "error" for f in findings)  # the draft row has errors …
    assert approval.blocking_findings(reg, rules, findings) == []  # … that do not block approval
    included = next(r for r in rows if r["status"] == "включено")
    included["code"] = "плохой код!"
    reg = read_register(make_workbook(rows), rules)
    blockers = approval.blocking_findings(reg, rules, run_checks(reg, rules, today=NOW.date()))
    assert blockers and all(f.severity.value == "error" for f in blockers)
    assert {f.row for f in blockers} <= {None, *(r.number for r in reg.rows if r.values.get("status") == "включено")}
