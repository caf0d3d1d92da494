"""Recovery of the journal (:mod:`perechen.journal`) from what ``output/`` still holds.

A damaged journal is moved aside (``journal.sqlite.damaged-<time>``) and a new one is filled from the
version folders of ``output/published/`` and the draft folders of ``output/approvals/``; a missing journal
beside existing versions or drafts is rebuilt the same way. :class:`RebuildReport` says, in Russian, what
was restored and names what cannot be restored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import store
from .canonical import PublishedVersion
from .diff import compare
from .fsutil import os_reason
from .journal import (
    ACT_FILE,
    APPROVALS,
    CASE_KEYS,
    DRAFT_FILE,
    Journal,
    JournalError,
    ObservedChange,
    _dump,
    _iso_dt,
    changes_from_diff,
    journal_path,
)
from .models import Register, Row
from .rules import Rules
from .workdays import DeadlineStatus


@dataclass
class RebuildReport:
    """What :func:`rebuild` restored and, in Russian, what it could not."""

    journal: Path
    damaged_copy: Path | None
    placements: int = 0
    changes: int = 0
    drafts: int = 0
    acts: int = 0
    lost: list[str] = field(default_factory=list)

    def message(self) -> str:
        head = (f"Журнал изменений {self.journal} был повреждён и сохранён как {self.damaged_copy.name}; "
                if self.damaged_copy is not None else f"Журнал изменений {self.journal} не найден; ")
        body = (f"восстановлено из опубликованных версий и папки проектов приказов: размещений — "
                f"{self.placements}, изменений — {self.changes}, проектов — {self.drafts}, приказов — {self.acts}.")
        lost = (" Не восстановить: " + "; ".join(self.lost) + ".") if self.lost else ""
        return head + body + lost


def approvals_dir(output_dir: Path) -> Path:
    return Path(output_dir) / APPROVALS


@dataclass(frozen=True)
class DraftFolder:
    """What a draft folder tells about itself (``draft.json`` and, once recorded, ``act.json``)."""

    id: str
    folder: Path
    created_at: dt.datetime
    kind: str
    baseline: str | None
    fingerprint: str
    row_count: int
    changes: tuple[tuple[str, str], ...]
    act: dict[str, Any] | None


def read_draft_folders(output_dir: Path) -> list[DraftFolder]:
    """Complete draft folders (with a readable draft.json), oldest first; unfinished ``.tmp-`` ones skipped."""
    root = approvals_dir(output_dir)
    if not root.is_dir():
        return []
    out: list[DraftFolder] = []
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name.startswith("."):
            continue
        try:
            data = json.loads((p / DRAFT_FILE).read_text(encoding="utf-8"))
            act = json.loads((p / ACT_FILE).read_text(encoding="utf-8")) if (p / ACT_FILE).is_file() else None
            changes = tuple((str(code), str(case)) for case, codes in (data.get("changes") or {}).items()
                            if case in CASE_KEYS for code in codes)
            created = dt.datetime.fromisoformat(data["created_at"])
            out.append(DraftFolder(id=str(data["id"]), folder=p, created_at=created,
                                   kind=str(data["kind"]), baseline=data.get("baseline"),
                                   fingerprint=str(data["fingerprint"]), row_count=int(data["row_count"]),
                                   changes=changes, act=act if isinstance(act, dict) else None))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    out.sort(key=lambda d: (d.created_at, d.id))
    return out


def rebuild(output_dir: Path, rules: Rules, *, now: dt.datetime | None = None) -> tuple[Journal, RebuildReport]:
    """Move a damaged (or absent) journal aside and restore what ``output/published`` and ``output/approvals`` hold.

    Restored: every placement (version folder: time, fingerprint, row count, target); the changes between
    consecutive versions, by case of п. 5.3 (through :func:`perechen.diff.compare`), each as placed by
    the later version with its typed «Дата изменения» as the day made; every draft folder and, where its
    ``act.json`` exists, the recorded act. Not restored (named in the report): the nightly observations,
    the days on which changes were first observed (the typed dates stand in for them), changes not yet
    placed (the next run observes them again) and which act approved which change.
    """
    now = now or dt.datetime.now()
    path = journal_path(output_dir)
    damaged_copy: Path | None = None
    if path.exists():
        damaged_copy = path.with_name(f"{path.name}.damaged-{now:%Y%m%d-%H%M%S}")
        try:
            os.replace(path, damaged_copy)
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    os.replace(side, damaged_copy.with_name(damaged_copy.name + suffix))
        except OSError as e:
            raise JournalError("journal_write", f"Не удалось переименовать повреждённый журнал {path}: "
                                                f"{os_reason(e)}.", path) from None
    journal = Journal.open(path)
    report = RebuildReport(journal=path, damaged_copy=damaged_copy)
    broken: list[str] = []
    versions = store.list_versions(output_dir, on_error=lambda p, e: broken.append(p.name))
    drafts = read_draft_folders(output_dir)
    with journal._write():
        prev: PublishedVersion | None = None
        for v in versions:
            placed_at = v.published_at or now
            pid = journal._insert_raw("placements", {
                "version": v.name, "placed_at": _iso_dt(placed_at), "fingerprint": v.fingerprint,
                "row_count": len(v.rows), "target": v.manifest.get("target"), "source": "rebuild"})
            report.placements += 1
            for c in _version_changes(prev, v, rules):
                journal._insert_raw("changes", {
                    "code": c.code, "case_key": c.case, "field": c.field, "old_value": _dump(c.old),
                    "new_value": _dump(c.new), "first_observed_at": _iso_dt(placed_at),
                    "typed_date": c.typed_date.isoformat() if c.typed_date else None, "included": 1,
                    "included_at": _iso_dt(placed_at),
                    "made_on": (c.typed_date or placed_at.date()).isoformat(),
                    "initial": int(prev is None), "placement_id": pid, "state": "placed",
                    "closed_at": _iso_dt(placed_at), "rebuilt": 1})
                report.changes += 1
            prev = v
        for seq, d in enumerate(drafts, start=1):
            journal._insert_raw("drafts", {
                "id": d.id, "seq": seq, "created_at": _iso_dt(d.created_at), "kind": d.kind, "baseline": d.baseline,
                "fingerprint": d.fingerprint, "row_count": d.row_count, "folder": str(d.folder)})
            for code, case in d.changes:
                journal._conn.execute("INSERT OR IGNORE INTO draft_changes (draft_id, code, case_key) VALUES (?, ?, ?)",
                                      (d.id, code, case))
            report.drafts += 1
            if d.act is not None:
                journal._insert_raw("acts", {
                    "draft_id": d.id, "number": d.act["number"], "signed_on": d.act["signed_on"],
                    "title": d.act["title"], "recorded_at": d.act.get("recorded_at") or _iso_dt(now)})
                report.acts += 1
    report.lost = [
        "время и отпечатки ночных проверок книги",
        "дни, когда изменения были впервые замечены (вместо них — «Дата изменения» из строк)",
        "изменения, ещё не размещённые на сайте (следующий запуск заметит их снова)",
        "какой приказ утвердил какое изменение",
    ]
    if broken:
        report.lost.append("повреждённые опубликованные версии: " + ", ".join(broken))
    return journal, report


def open_or_rebuild(output_dir: Path, rules: Rules) -> tuple[Journal, RebuildReport | None]:
    """Open the journal; rebuild it when it is damaged, or missing while versions or drafts exist."""
    path = journal_path(output_dir)
    if not path.exists():
        has_history = bool(store.list_versions(output_dir, with_register=False, on_error=lambda p, e: None))
        ad = approvals_dir(output_dir)
        if has_history or (ad.is_dir() and any(ad.iterdir())):
            return rebuild(output_dir, rules)
        return Journal.open(path), None
    try:
        return Journal.open(path), None
    except JournalError as e:
        if e.code != "journal_damaged":
            raise
    return rebuild(output_dir, rules)


def _version_changes(prev: PublishedVersion | None, v: PublishedVersion, rules: Rules) -> list[ObservedChange]:
    """Changes from version ``prev`` to ``v`` by case of п. 5.3, through ``perechen diff``'s comparison."""
    rows = [Row(number=i, values=dict(r)) for i, r in enumerate(v.rows, start=2)]
    reg = Register(path=v.path, sheet="", header_row=1, columns={}, headers={}, rows=rows,
                   info=dict(v.register.get("info") or {}))
    placed = v.published_at.date() if v.published_at else dt.date.today()
    report = compare(reg, rules, prev, today=placed, calendar=NoDeadlineCalendar())
    return changes_from_diff(report)


class NoDeadlineCalendar:
    """A calendar that never fails: the rebuild needs the cases, not the deadline."""

    def status(self, change_day: dt.date, today: dt.date) -> Any:
        return DeadlineStatus(deadline=today, working_days_left=0, overdue=False, overdue_working_days=0)


