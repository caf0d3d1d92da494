"""The journal (output/journal.sqlite): observations, changes, drafts, acts, placements; crash-safety; recovery."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perechen import canonical, store
from perechen import journal as jr
from perechen.journal import Journal, JournalError, ObservedChange
from perechen.journal_rebuild import open_or_rebuild, rebuild
from perechen.rules import Rules

ROOT = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2026, 12, 1, 3, 0)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load(None)


def ch(code: str, case: str = "edited", fld: str = "name", new: object = "Новое", *, included: bool = True,
       typed: dt.date | None = None) -> ObservedChange:
    return ObservedChange(code=code, case=case, field=fld, old="Старое", new=new, included=included, typed_date=typed)


def test_observe_keeps_first_observation_and_closes_reverted(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        j.record_placement("2026-11-01_120000", placed_at=T0 - dt.timedelta(days=30), fingerprint="f0", row_count=3)
        r1 = j.observe([ch("ТВ-01"), ch("ТВ-02", "kind_changed", "kind", "СЭД")], fingerprint="f1", observed_at=T0)
        assert [c.code for c in r1.new_changes] == ["ТВ-01", "ТВ-02"]
        assert all(c.made_on == T0.date() and not c.initial for c in r1.new_changes)
        # Next night: ТВ-01 unchanged, ТВ-02 reverted by the clerk, ТВ-03 new.
        r2 = j.observe([ch("ТВ-01"), ch("ТВ-03", "added", "name", "Точка")], fingerprint="f2",
                       observed_at=T0 + dt.timedelta(days=1))
        assert [c.code for c in r2.new_changes] == ["ТВ-03"]
        assert [c.code for c in r2.reverted] == ["ТВ-02"]
        open_ = {c.code: c for c in j.pending()}
        assert set(open_) == {"ТВ-01", "ТВ-03"}
        assert open_["ТВ-01"].first_observed_at == T0  # the first observation stays
        assert open_["ТВ-03"].made_on == dt.date(2026, 12, 2)
        assert len(j.observations()) == 2


def test_change_under_review_is_observed_then_made_when_included(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        j.record_placement("v1", placed_at=T0 - dt.timedelta(days=5), fingerprint="f0", row_count=1)
        j.observe([ch("ТВ-01", included=False)], fingerprint="a", observed_at=T0)
        (c,) = j.pending()
        assert c.stage == "observed" and c.made_on is None
        res = j.observe([ch("ТВ-01", typed=dt.date(2026, 11, 20))], fingerprint="b",
                        observed_at=T0 + dt.timedelta(days=3))
        (c,) = j.pending()
        assert c.stage == "included" and c.made_on == dt.date(2026, 12, 4)
        # A typed «Дата изменения» that contradicts the observation: a warning naming both dates.
        assert len(res.warnings) == 1
        assert "20.11.2026" in res.warnings[0] and "04.12.2026" in res.warnings[0]


def test_first_run_uses_typed_date_and_marks_first_placement(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        res = j.observe([ch("ТВ-01", "added", typed=dt.date(2024, 2, 26)), ch("ТВ-02", "added")],
                        fingerprint="a", observed_at=T0)
        assert not res.warnings
        made = {c.code: c.made_on for c in res.new_changes}
        assert made == {"ТВ-01": dt.date(2024, 2, 26), "ТВ-02": T0.date()}
        assert all(c.initial for c in res.new_changes)  # no placement yet: the first placement (5.2)


def test_act_approves_only_its_draft_changes_and_placement_in_act_mode(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as j:
        j.record_placement("v1", placed_at=T0 - dt.timedelta(days=5), fingerprint="f0", row_count=2)
        j.observe([ch("ТВ-01"), ch("ТВ-02", "needs_changed", "needs", ["консультация"])], fingerprint="a",
                  observed_at=T0)
        j.add_draft("D1", created_at=T0 + dt.timedelta(hours=1), kind="amend", baseline="v1", fingerprint="a",
                    row_count=2, folder="approvals/D1", changes=[("ТВ-01", "edited")])
        # A change made after the draft is not approved by its act.
        j.observe([ch("ТВ-01"), ch("ТВ-02", "needs_changed", "needs", ["консультация"]), ch("ТВ-05", "added")],
                  fingerprint="b", observed_at=T0 + dt.timedelta(hours=2))
        act = j.record_act("D1", number="31-о", signed_on=dt.date(2026, 12, 2), title="О внесении изменений",
                           recorded_at=T0 + dt.timedelta(days=1))
        assert act.citation() == "приказ от 02.12.2026 № 31-о"
        stages = {c.code: c.stage for c in j.pending()}
        assert stages == {"ТВ-01": "approved", "ТВ-02": "included", "ТВ-05": "included"}
        with pytest.raises(JournalError) as e:
            j.record_act("D1", number="32-о", signed_on=dt.date(2026, 12, 2), title="x", recorded_at=T0)
        assert e.value.code == "act_exists"
        p = j.record_placement("v2", placed_at=T0 + dt.timedelta(days=2), fingerprint="c", row_count=2,
                               act_id=act.id, require_act=True)
        placed = {c.code for c in j.changes(state="placed")}
        assert placed == {"ТВ-01"}
        assert {c.code for c in j.pending()} == {"ТВ-02", "ТВ-05"}
        assert j.changes(state="placed")[0].placement_id == p.id
        # Recording the same version again changes nothing.
        j.record_placement("v2", placed_at=T0 + dt.timedelta(days=3), fingerprint="c", row_count=2)
        assert {c.code for c in j.pending()} == {"ТВ-02", "ТВ-05"}
        assert j.last_act() == act


def test_schema_version_foreign_keys_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == jr.SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO acts (draft_id, number, signed_on, title, recorded_at)"
                    " VALUES ('nope', '1', '2026-01-01', 't', '2026-01-01T00:00:00')")
    con.execute(f"PRAGMA user_version = {jr.SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(JournalError) as e:
        Journal.open(path)
    assert e.value.code == "journal_newer" and "обновите perechen" in e.value.message


@pytest.mark.parametrize("content", [b"this is not sqlite at all" * 100, b""])
def test_damaged_journal_is_a_clear_russian_message(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(content)
    if not content:  # an empty file is a valid empty SQLite database: make it a foreign one instead
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE other (x)")
        con.commit()
        con.close()
    with pytest.raises(JournalError) as e:
        Journal.open(path)
    assert e.value.code == "journal_damaged"
    assert str(path) in e.value.message and "повреждён" in e.value.message
    assert not any(w in e.value.message for w in ("file is not", "database", "Error"))


def test_second_writer_waits_then_gets_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setattr(jr, "BUSY_TIMEOUT_S", 0.2)
        with Journal.open(path) as j, pytest.raises(JournalError) as e:
            j.observe([ch("ТВ-01")], fingerprint="a", observed_at=T0)
        assert e.value.code == "journal_busy" and "другой запуск" in e.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Journal.open(path) as j:  # once the other writer is done, the write goes through
        j.observe([ch("ТВ-01")], fingerprint="a", observed_at=T0)
        assert len(j.pending()) == 1


# ------------------------------------------------------------------------------------------------------------
# Kill tests: a real child process killed inside a write


_CHILD = textwrap.dedent("""
    import datetime as dt, sys, time
    from perechen import journal as jr
    from perechen.journal import Journal, ObservedChange
    path, stop_at, nth, op = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    seen = {"n": 0}
    def hook(step):
        if step == stop_at:
            seen["n"] += 1
            if seen["n"] == nth:
                print("at", step, flush=True)
                time.sleep(600)
    jr._step_hook = hook
    j = Journal.open(path)
    t = dt.datetime(2026, 12, 10, 3, 0)
    if op == "observe":
        changes = [ObservedChange(f"K-{i}", "added", "name", None, f"n{i}", True, None) for i in range(10)]
        j.observe(changes, fingerprint="killed", observed_at=t)
    elif op == "place":
        j.record_placement("v-killed", placed_at=t, fingerprint="killed", row_count=10)
    print("finished", flush=True)
""")


def _run_and_kill(path: Path, stop_at: str, nth: int, op: str) -> None:
    """Start a child writing the journal; kill it (SIGKILL / TerminateProcess) when it reaches ``stop_at``."""
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), stop_at, str(nth), op],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"at {stop_at}"), (line, proc.stderr.read() if proc.stderr else "")
        proc.kill()
    finally:
        proc.wait(timeout=60)


@pytest.mark.parametrize(("stop_at", "nth"), [("observation-inserted", 1), ("change-recorded", 4),
                                              ("before-commit", 1)])
def test_killed_observation_leaves_journal_as_before(tmp_path: Path, stop_at: str, nth: int) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as j:
        j.record_placement("v1", placed_at=T0, fingerprint="f0", row_count=1)
        j.observe([ch("ТВ-01")], fingerprint="before", observed_at=T0)
    _run_and_kill(path, stop_at, nth, "observe")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with Journal.open(path) as j:
        assert [o.fingerprint for o in j.observations()] == ["before"]
        assert [c.code for c in j.pending()] == ["ТВ-01"]
        # The next run completes.
        j.observe([ch("ТВ-01"), ch("ТВ-02")], fingerprint="after", observed_at=T0 + dt.timedelta(days=1))
        assert {c.code for c in j.pending()} == {"ТВ-01", "ТВ-02"}


def test_killed_placement_leaves_changes_open(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as j:
        j.record_placement("v1", placed_at=T0, fingerprint="f0", row_count=1)
        j.observe([ch("ТВ-01")], fingerprint="x", observed_at=T0 + dt.timedelta(hours=1))
    _run_and_kill(path, "placement-inserted", 1, "place")
    with Journal.open(path) as j:
        assert [p.version for p in j.placements()] == ["v1"]
        assert [c.code for c in j.pending()] == ["ТВ-01"]
        j.record_placement("v-killed", placed_at=T0 + dt.timedelta(days=10), fingerprint="y", row_count=1)
        assert j.pending() == []


# ------------------------------------------------------------------------------------------------------------
# Recovery from output/published and output/approvals


def _commit(out: Path, rules: Rules, rows: list[dict], when: dt.datetime) -> canonical.PublishedVersion:
    info = {f.key: "" for f in rules.schema.info.fields}
    reg = {"format": canonical.FORMAT, "schema_version": rules.schema.version,
           "fields": [c.field for c in rules.schema.columns], "info": info, "rows": rows}
    return store.commit_version(out, reg, {"page.html": b"<p>x</p>"}, {"target": "folder"}, now=when)


def _row(rules: Rules, code: str, name: str, changed: str, **extra: object) -> dict:
    base = {c.field: ([] if c.multi else None) for c in rules.schema.columns}
    base.update(code=code, name=name, status="включено", changed_on=changed, kind="личный прием")
    base.update(extra)
    return canonical.canonical_row(base, rules)


def test_rebuild_restores_placements_changes_drafts_and_acts(tmp_path: Path, rules: Rules) -> None:
    out = tmp_path / "output"
    _commit(out, rules, [_row(rules, "ТВ-01", "Приём", "2026-02-01")], dt.datetime(2026, 2, 2, 10))
    _commit(out, rules, [_row(rules, "ТВ-01", "Приём граждан", "2026-03-02"), _row(rules, "ТВ-02", "Почта",
                                                                                      "2026-03-03")],
            dt.datetime(2026, 3, 5, 10))
    d = out / "approvals" / "2026-03-01_100000"
    d.mkdir(parents=True)
    (d / "draft.json").write_text(json.dumps({
        "id": d.name, "created_at": "2026-03-01T10:00:00", "kind": "approve", "baseline": None,
        "fingerprint": "abc", "row_count": 2, "changes": {"added": ["ТВ-02"], "edited": ["ТВ-01"]}},
        ensure_ascii=False), encoding="utf-8")
    (d / "act.json").write_text(json.dumps({"number": "7-о", "signed_on": "2026-03-03", "title": "Об утверждении"},
                                           ensure_ascii=False), encoding="utf-8")
    (out / "journal.sqlite").write_bytes(b"garbage" * 1000)

    j, report = open_or_rebuild(out, rules)
    with j:
        assert report is not None and report.damaged_copy is not None and report.damaged_copy.exists()
        assert (report.placements, report.drafts, report.acts) == (2, 1, 1)
        assert [p.source for p in j.placements()] == ["rebuild", "rebuild"]
        changes = j.changes()
        later = [c for c in changes if not c.initial]
        assert {(c.code, c.case) for c in later} == {("ТВ-01", "edited"), ("ТВ-02", "added")}
        edited = next(c for c in later if c.case == "edited" and c.field == "name")
        assert (edited.old, edited.new, edited.made_on) == ("Приём", "Приём граждан", dt.date(2026, 3, 2))
        assert all(c.state == "placed" and c.rebuilt for c in changes)
        assert j.acts()[0].number == "7-о"
    msg = report.message()
    assert "повреждён" in msg and "Не восстановить" in msg and "ночных проверок" in msg


def test_missing_journal_beside_versions_is_rebuilt_and_empty_output_is_not(tmp_path: Path, rules: Rules) -> None:
    j, report = open_or_rebuild(tmp_path / "empty", rules)
    j.close()
    assert report is None
    out = tmp_path / "output"
    _commit(out, rules, [_row(rules, "ТВ-01", "Приём", "2026-02-01")], dt.datetime(2026, 2, 2, 10))
    j, report = open_or_rebuild(out, rules)
    with j:
        assert report is not None and report.damaged_copy is None and "не найден" in report.message()
        assert len(j.placements()) == 1
    j, report = open_or_rebuild(out, rules)  # now it exists: opened as it is
    j.close()
    assert report is None


def test_rebuild_twice_keeps_both_damaged_copies(tmp_path: Path, rules: Rules) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "journal.sqlite").write_bytes(b"x" * 50)
    j, r1 = rebuild(out, rules, now=dt.datetime(2026, 1, 1, 1, 1, 1))
    j.close()
    (out / "journal.sqlite").write_bytes(b"y" * 50)
    j, r2 = rebuild(out, rules, now=dt.datetime(2026, 1, 1, 1, 1, 2))
    j.close()
    assert r1.damaged_copy != r2.damaged_copy and r1.damaged_copy.exists() and r2.damaged_copy.exists()
