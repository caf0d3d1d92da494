"""Approval of the Перечень by an act (п. 5.1): frozen drafts in ``output/approvals/<id>/`` and recorded acts.

:func:`prepare_draft` freezes the rows that would be published — their canonical form and fingerprint
(:func:`perechen.canonical.canonical_register`) — with the changes against the last approved or published
version, by case of п. 5.3 (:func:`perechen.diff.compare`: the same comparison as ``perechen diff``), into a
draft folder:

* ``draft.json`` — the frozen data (``perechen-draft/1``: id, created_at, kind, baseline, fingerprint, info,
  fields, rows, changes by case);
* ``proekt-prikaza.docx`` — the draft act (:mod:`perechen.act_docx`);
* ``perechen.xlsx`` and ``izmeneniya.xlsx`` — the same Перечень and the changes, for review.

The folder is written as ``.tmp-<id>`` and renamed when complete, then the draft is recorded in the journal;
a process killed in between leaves a complete folder that :func:`sync_drafts` records on the next run.

:func:`record_act` records the signed act for exactly one frozen draft and refuses (``ApprovalError``,
exit code 2, a Russian message) an unknown draft, a draft superseded by a later one, a draft already
recorded, a draft whose frozen data no longer matches its fingerprint, and a date in the future or before
the draft. The act is written to the journal first, then to the folder as ``act.json`` (the copy that
:mod:`perechen.journal_rebuild` restores from); :func:`sync_drafts` writes a missing ``act.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import canonical, store, xlsx_plain
from .act_docx import ActContent, build_act
from .diff import CASES, DiffReport, compare
from .fsutil import atomic_write, free_name, fsync_dir, os_reason, write_synced
from .journal import (
    ACT_FILE,
    DRAFT_FILE,
    ActRecord,
    Journal,
    JournalError,
)
from .journal_rebuild import NoDeadlineCalendar, approvals_dir, read_draft_folders
from .models import Finding, PerechenError, Register, Severity
from .renderers.diff import render_xlsx
from .rules import Rules
from .text import parse_cli_date, ru_date

DRAFT_FORMAT = "perechen-draft/1"
ACT_DOCX = "proekt-prikaza.docx"
PERECHEN_XLSX = "perechen.xlsx"
CHANGES_XLSX = "izmeneniya.xlsx"
TMP_PREFIX = ".tmp-"
CASE_KEYS = tuple(CASES)
TITLE_SUFFIX_DEMO = " (демонстрационный приказ)"


class ApprovalError(PerechenError):
    """An approval that cannot be prepared or an act that cannot be recorded (exit code 2)."""


@dataclass
class Draft:
    """A frozen draft: what :func:`prepare_draft` wrote (or :func:`load_draft` read back)."""

    id: str
    folder: Path
    created_at: dt.datetime
    kind: str  # "approve" (first act) or "amend"
    baseline: str | None
    fingerprint: str
    info: dict[str, Any]
    fields: list[str]
    rows: list[dict[str, Any]]
    changes: dict[str, list[str]]
    files: dict[str, Path] = field(default_factory=dict)
    demo: bool = False

    @property
    def docx(self) -> Path:
        return self.folder / ACT_DOCX

    def to_json(self) -> dict[str, Any]:
        """The ``perechen approve --format json`` contract of issue 12."""
        return {"draft": self.id, "folder": str(self.folder), "docx": str(self.docx), "rows": len(self.rows),
                "fingerprint": self.fingerprint, "changes": {k: list(self.changes.get(k, [])) for k in CASE_KEYS}}

    def register_data(self) -> dict[str, Any]:
        """The frozen rows as :func:`perechen.canonical.canonical_register` gives them (for publish in act mode)."""
        return {"format": canonical.FORMAT, "fields": list(self.fields), "info": dict(self.info),
                "rows": list(self.rows), "row_count": len(self.rows), "fingerprint": self.fingerprint}


# ------------------------------------------------------------------------------------------------------------
# Reading drafts


def draft_dir(output_dir: Path, draft_id: str) -> Path:
    return approvals_dir(output_dir) / draft_id


def load_draft(output_dir: Path, draft_id: str) -> Draft:
    """Read a draft folder and check its rows against the frozen fingerprint."""
    folder = draft_dir(output_dir, draft_id)
    path = folder / DRAFT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows, info = data["rows"], data["info"]
        if not isinstance(rows, list) or not isinstance(info, dict):
            raise TypeError
        draft = Draft(id=str(data["id"]), folder=folder, created_at=dt.datetime.fromisoformat(data["created_at"]),
                      kind=str(data["kind"]), baseline=data.get("baseline"), fingerprint=str(data["fingerprint"]),
                      info=info, fields=list(data.get("fields") or []), rows=rows,
                      changes={k: list(v) for k, v in (data.get("changes") or {}).items()},
                      demo=bool(data.get("demo")))
    except FileNotFoundError:
        raise ApprovalError("draft_unknown", f"Проект приказа «{draft_id}» не найден: нет файла {path}.",
                            path) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ApprovalError("draft_damaged", f"Проект приказа «{draft_id}» повреждён: файл {path} не читается "
                                             f"({type(e).__name__}).", path) from None
    if canonical.fingerprint(draft.rows, draft.info) != draft.fingerprint:
        raise ApprovalError("draft_damaged", f"Проект приказа «{draft_id}» повреждён: строки в {path} не совпадают "
                                             "с замороженным отпечатком — файл изменён после подготовки проекта. "
                                             "Подготовьте новый проект (perechen approve).", path)
    draft.files = {n: folder / n for n in (DRAFT_FILE, ACT_DOCX, PERECHEN_XLSX, CHANGES_XLSX) if (folder / n).exists()}
    return draft


def sync_drafts(output_dir: Path, journal: Journal) -> None:
    """Make the journal and the draft folders agree after a killed run.

    A complete folder the journal does not know is recorded; an act the journal has whose folder lacks
    ``act.json`` gets it written. Unfinished ``.tmp-`` folders are removed.
    """
    root = approvals_dir(output_dir)
    if not root.is_dir():
        return
    for p in root.iterdir():
        if p.name.startswith(TMP_PREFIX) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
    for f in read_draft_folders(output_dir):
        if journal.draft(f.id) is None:
            journal.add_draft(f.id, created_at=f.created_at, kind=f.kind, baseline=f.baseline,
                              fingerprint=f.fingerprint, row_count=f.row_count, folder=str(f.folder),
                              changes=f.changes)
        act = journal.act_for_draft(f.id)
        if act is not None and f.act is None:
            _write_act_json(f.folder, act)


# ------------------------------------------------------------------------------------------------------------
# The baseline: the last approved or published version


def approval_baseline(output_dir: Path, journal: Journal) -> canonical.PublishedVersion | None:
    """What a new draft is compared with: the newer of the last recorded act's draft and the published LATEST."""
    published = store.latest(output_dir)
    act = journal.last_act()
    if act is None:
        return published
    draft = load_draft(output_dir, act.draft_id)
    approved = canonical.PublishedVersion(
        name=f"проект {draft.id} ({act.citation()})", path=draft.folder,
        manifest={"published_at": draft.created_at.isoformat()}, register=draft.register_data())
    if published is None or published.published_at is None or published.published_at < draft.created_at:
        return approved
    return published


def waiting_for_act(journal: Journal) -> tuple[int, dt.date | None]:
    """``"act"`` mode: how many included changes still wait for an act, and since when (the earliest made_on)."""
    waiting = [c for c in journal.pending() if c.included and c.act_id is None and not c.initial]
    days = [c.made_on for c in waiting if c.made_on is not None]
    return len({(c.code, c.case) for c in waiting}), (min(days) if days else None)


def blocking_findings(register: Register, rules: Rules, findings: Sequence[Finding]) -> list[Finding]:
    """The errors that refuse an approval (``perechen approve`` exit 1): errors in the rows that would be
    frozen («включено») and errors of the sheet as a whole (no row). Errors in drafts and rows under review
    never block (issue 11 A1): they are the responsible persons' work in progress."""
    frozen = {r.number for r, c in zip(register.rows, canonical.canonicalizer(rules).rows(register.rows), strict=True)
              if c.get("status") == canonical.INCLUDED}
    return [f for f in findings if f.severity == Severity.ERROR and (f.row is None or f.row in frozen)]


# ------------------------------------------------------------------------------------------------------------
# Preparing a draft


def prepare_draft(register: Register, rules: Rules, output_dir: Path, journal: Journal, *,
                  now: dt.datetime | None = None, demo: bool = False) -> Draft:
    """Freeze the publishable rows of ``register`` as a new draft with its act, .xlsx files and journal record.

    Raises ``ApprovalError("nothing_to_approve")`` when an act already approves exactly these rows.
    The caller refuses beforehand (exit 1) when the rows to approve have rule errors.
    """
    now = (now or dt.datetime.now()).replace(microsecond=0)
    sync_drafts(output_dir, journal)
    last = journal.last_act()
    baseline = approval_baseline(output_dir, journal)
    # A published row under review stays in its published form (issue 11 A2): the draft holds it as well.
    data = canonical.canonical_register(register, rules,
                                        canonical.with_current_lists(baseline, rules) if baseline is not None else None)
    report = compare(register, rules, baseline, today=now.date(), calendar=NoDeadlineCalendar())
    changes = _codes_by_case(report)
    kind = "amend" if last is not None else "approve"
    if last is not None:
        last_draft = journal.draft(last.draft_id)
        if last_draft is not None and last_draft.fingerprint == data["fingerprint"]:
            raise ApprovalError("nothing_to_approve", f"Перечень не изменился после {_act_text(last, 'приказа')}: "
                                                      "новый проект приказа не нужен.")
    draft = Draft(id=_new_id(output_dir, now), folder=Path(), created_at=now, kind=kind,
                  baseline=baseline.name if baseline is not None else None, fingerprint=data["fingerprint"],
                  info=data["info"], fields=data["fields"], rows=data["rows"], changes=changes, demo=demo)
    draft.folder = draft_dir(output_dir, draft.id)
    content = act_content(draft, rules, report, baseline, previous=last)
    files = {
        DRAFT_FILE: _draft_json(draft, rules),
        ACT_DOCX: build_act(content),
        PERECHEN_XLSX: rows_xlsx(rules, draft.rows, title="Перечень (проект)"),
        CHANGES_XLSX: render_xlsx(report, rules),
    }
    _write_folder(draft.folder, files)
    draft.files = {n: draft.folder / n for n in files}
    keys = [(code, case) for case, codes in changes.items() for code in codes]
    journal.add_draft(draft.id, created_at=now, kind=kind, baseline=draft.baseline, fingerprint=draft.fingerprint,
                      row_count=len(draft.rows), folder=str(draft.folder), changes=keys)
    return draft


def _codes_by_case(report: DiffReport) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in CASE_KEYS}
    for c in report.changes:
        if c.code not in out[c.kind]:
            out[c.kind].append(c.code)
    return out


def act_content(draft: Draft, rules: Rules, report: DiffReport, baseline: canonical.PublishedVersion | None, *,
                previous: ActRecord | None) -> ActContent:
    """What the act of ``draft`` says: the whole Перечень (first act) or the changes by case (amending act)."""
    info = draft.info
    by_case: dict[str, list[Mapping[str, Any]]] = {k: [] for k in CASE_KEYS}
    base_rows = baseline.rows_by_code if baseline is not None else {}
    for case, codes in draft.changes.items():
        for code in codes:
            row = base_rows.get(code) if case == "excluded" else report.current_rows.get(code)
            if row is not None:
                by_case[case].append(row)
    return ActContent(kind=draft.kind, agency=str(info.get("agency") or ""),
                      headers={c.field: c.header for c in rules.schema.columns}, rows=draft.rows, changes=by_case,
                      previous_act=f"приказом от {ru_date(previous.signed_on)} № {previous.number}"
                      if previous is not None else None,
                      site=str(info.get("site") or ""), keeper=str(info.get("keeper") or ""), demo=draft.demo)


def _draft_json(draft: Draft, rules: Rules) -> bytes:
    data = {"format": DRAFT_FORMAT, "id": draft.id, "created_at": draft.created_at.isoformat(), "kind": draft.kind,
            "baseline": draft.baseline, "schema_version": rules.schema.version, "demo": draft.demo,
            "fingerprint": draft.fingerprint, "row_count": len(draft.rows), "changes": draft.changes,
            "info": draft.info, "fields": draft.fields, "rows": draft.rows}
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _new_id(output_dir: Path, now: dt.datetime) -> str:
    root = approvals_dir(output_dir)
    free = free_name(root, now)
    if free is None:
        raise ApprovalError("write_failed", f"Не удалось подобрать имя папки проекта приказа в {root}.", root)
    return free.name


def _write_folder(final: Path, files: Mapping[str, bytes]) -> None:
    """Write the files into ``.tmp-<id>`` (fsync'd), then rename the folder to its final name."""
    tmp = final.with_name(TMP_PREFIX + final.name)
    try:
        tmp.mkdir(parents=True, exist_ok=False)
        for name, data in files.items():
            write_synced(tmp / name, data)
        fsync_dir(tmp)
        os.rename(tmp, final)
        fsync_dir(final.parent)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ApprovalError("write_failed", f"Не удалось записать проект приказа в {final.parent}: "
                                            f"{os_reason(e)}.", final) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_REVIEW_STYLES = [xlsx_plain.Style(bold=True, top=False), xlsx_plain.Style(), xlsx_plain.Style(date=True, wrap=False)]


def rows_xlsx(rules: Rules, rows: Sequence[Mapping[str, Any]], *, title: str) -> bytes:
    """The frozen rows as a plain .xlsx for review: every schema column, every text a string (never a formula).

    Written as SpreadsheetML directly (:mod:`perechen.xlsx_plain`), not cell by cell through openpyxl: a
    10,000-row Перечень takes about a second instead of half a minute. Prints on A4 landscape, fitted to the
    page width, the header row repeated (perechen.printing).
    """
    cols = rules.schema.columns
    sheet = xlsx_plain.Sheet("Перечень", [float(c.width or 12) for c in cols], [[(c.header, 1) for c in cols]],
                             freeze=(0, 1))
    for row in rows:
        cells: list[tuple[Any, int]] = []
        for col in cols:
            v = row.get(col.field)
            if col.type == "date" and isinstance(v, str):
                try:
                    cells.append((dt.date.fromisoformat(v), 3))
                    continue
                except ValueError:
                    pass
            text = "; ".join(str(x) for x in v) if isinstance(v, list) else ("" if v is None else str(v))
            cells.append((text, 2) if text else (None, 0))
        sheet.rows.append(cells)
    return xlsx_plain.write([sheet], _REVIEW_STYLES, title=title)


# ------------------------------------------------------------------------------------------------------------
# Recording the signed act


def parse_act_date(text: str) -> dt.date:
    """«08.12.2026» or «2026-12-08» (as --today reads it) → date; else an ApprovalError naming the forms."""
    day = parse_cli_date(text)
    if day is not None:
        return day
    raise ApprovalError("act_date_format", f"Дата приказа «{text}» не распознана: укажите её как ДД.ММ.ГГГГ "
                                           "или ГГГГ-ММ-ДД, например 08.12.2026.")


def record_act(output_dir: Path, journal: Journal, draft_id: str, *, number: str, signed_on: dt.date,
               title: str | None = None, today: dt.date | None = None,
               now: dt.datetime | None = None) -> ActRecord:
    """Record the signed act for exactly the frozen draft ``draft_id`` (see the module docstring)."""
    now = (now or dt.datetime.now()).replace(microsecond=0)
    today = today or now.date()
    sync_drafts(output_dir, journal)
    record = journal.draft(draft_id)
    if record is None:
        known = [d.id for d in journal.drafts()][-5:]
        hint = (" Известные проекты: " + ", ".join(known) + ".") if known else " Проектов ещё нет: подготовьте " \
                                                                              "его командой perechen approve."
        raise ApprovalError("draft_unknown", f"Проект приказа «{draft_id}» не найден.{hint}",
                            draft_dir(output_dir, draft_id))
    existing = journal.act_for_draft(draft_id)
    if existing is not None:
        raise ApprovalError("act_exists", f"К проекту «{draft_id}» уже записан {_act_text(existing)}; второй приказ "
                                          "к тому же проекту не записывается.")
    latest = journal.latest_draft()
    if latest is not None and latest.id != draft_id:
        raise ApprovalError("draft_superseded", f"Проект «{draft_id}» заменён более поздним проектом «{latest.id}» "
                                                f"от {ru_date(latest.created_at)}: приказ записывается только к "
                                                "последнему проекту, иначе он утвердил бы не те строки.")
    number = (number or "").strip()
    if not number:
        raise ApprovalError("act_number", "Не указан номер приказа (--number), например 31-о.")
    if signed_on > today:
        raise ApprovalError("act_date_future", f"Дата приказа {ru_date(signed_on)} ещё не наступила "
                                               f"(сегодня {ru_date(today)}): записывается подписанный приказ.")
    if signed_on < record.created_at.date():
        raise ApprovalError("act_date_early", f"Дата приказа {ru_date(signed_on)} раньше подготовки проекта "
                                              f"«{draft_id}» ({ru_date(record.created_at)}): приказ не может "
                                              "утвердить проект, которого ещё не было.")
    draft = load_draft(output_dir, draft_id)
    if draft.fingerprint != record.fingerprint:
        raise ApprovalError("draft_damaged", f"Проект «{draft_id}» в папке {draft.folder} не совпадает с записанным "
                                             "в журнале (другие строки): подготовьте новый проект.", draft.folder)
    default = "Об утверждении перечня точек взаимодействия с клиентом" if record.kind == "approve" else \
        "О внесении изменений в перечень точек взаимодействия с клиентом"
    try:
        act = journal.record_act(draft_id, number=number, signed_on=signed_on,
                                 title=(title or "").strip() or default, recorded_at=now)
    except JournalError as e:
        if e.code == "act_exists":
            raise ApprovalError("act_exists", f"К проекту «{draft_id}» уже записан приказ.") from None
        raise
    _write_act_json(draft.folder, act)
    return act


def _write_act_json(folder: Path, act: ActRecord) -> None:
    data = {"draft": act.draft_id, "number": act.number, "signed_on": act.signed_on.isoformat(), "title": act.title,
            "recorded_at": act.recorded_at.isoformat()}
    atomic_write(folder / ACT_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def _act_text(act: ActRecord, word: str = "приказ") -> str:
    return f"{word} от {ru_date(act.signed_on)} № {act.number}"


def history(journal: Journal) -> list[dict[str, Any]]:
    """Acts beside placements, oldest first (for ``perechen history``)."""
    items: list[dict[str, Any]] = []
    for a in journal.acts():
        items.append({"type": "act", "at": a.signed_on.isoformat(), "draft": a.draft_id, "number": a.number,
                      "title": a.title, "text": f"{_act_text(a)} «{a.title}»"})
    for p in journal.placements():
        items.append({"type": "placement", "at": p.placed_at.isoformat(), "version": p.version, "target": p.target,
                      "rows": p.row_count, "act_id": p.act_id,
                      "text": f"размещена версия {p.version} ({p.row_count} точек)"})
    items.sort(key=lambda x: str(x["at"]))
    return items
