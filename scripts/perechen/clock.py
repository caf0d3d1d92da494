"""The п. 5.4 clock from the journal: the day each change was made, its stage, what waits for an act.

Issue 12 items 3, 4, 8. The journal (:mod:`perechen.journal`) knows the day the tool first saw each change
included; in ``"act"`` mode the day of the act that approved it. This module turns that into what the
commands need:

* :func:`open_journal` — the journal of ``output/``, rebuilt when damaged, made to agree with the draft folders
  and with ``output/published/`` (a run killed between committing a version and recording its placement);
* :func:`observed_days` — code → the day its change was made, the input of ``perechen diff``'s change-date
  function (no observation yet: ``None``, the typed «Дата изменения» counts);
* :func:`observe` — one nightly observation: the comparison's changes plus the rows under review (stage
  «observed»);
* :func:`act_waiting` — ``"act"`` mode: the included changes that the last approved draft does not hold;
* :func:`pending_stages` — each pending change's stage (observed, included, approved, placed) with its
  deadline and working days left (the dashboard);
* :func:`act_citation` — what the page, the .xlsx and meta.csv say about the approving act (п. 5.1).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from .canonical import INCLUDED, REVIEW_STATUSES, canonicalizer
from .diff import CASE_PHRASES, NOT_COMPARED, DiffReport, is_empty
from .journal import ROW_FIELD, ActRecord, Journal, ObservedChange, ObserveResult, changes_from_diff, journal_path
from .journal_rebuild import RebuildReport, approvals_dir, open_or_rebuild
from .models import Register
from .rules import Rules
from .text import ru_date

if TYPE_CHECKING:  # the approval module (the act's .docx and the review workbook engines, ~50 ms to import) is
    # imported only where a draft is read: a region run reading an agency's journal never needs it
    from .approval import Draft

STAGES = ("observed", "included", "approved", "placed")
STAGE_TITLES = {
    "observed": "замечено (строка на проверке)",
    "included": "включено уполномоченным лицом",
    "approved": "утверждено приказом",
    "placed": "размещено на официальном сайте",
}
STAGE_RANK = {s: i for i, s in enumerate(STAGES)}


def open_journal(output_dir: Path, rules: Rules) -> tuple[Journal, RebuildReport | None]:
    """The journal, rebuilt when damaged or missing beside versions, in agreement with the folders of output/."""
    from .approval import sync_drafts

    journal, rebuilt = open_or_rebuild(output_dir, rules)
    try:
        sync_drafts(output_dir, journal)
        sync_placements(output_dir, journal)
    except BaseException:
        journal.close()
        raise
    return journal, rebuilt


def has_journal(output_dir: Path) -> bool:
    """Whether ``output/`` has a journal, or the versions or drafts it would be rebuilt from (nothing observed)."""
    if journal_path(output_dir).exists():
        return True
    if store.list_versions(output_dir, with_register=False, on_error=lambda p, e: None):
        return True
    ad = approvals_dir(output_dir)
    return ad.is_dir() and any(ad.iterdir())


def observed_in(journal: Journal, year: int) -> bool:
    """Whether the journal saw anything in ``year``: a nightly observation or a placement on the site."""
    return (any(o.observed_at.year == year for o in journal.observations())
            or any(p.placed_at.year == year for p in journal.placements()))


def last_moment(journal: Journal) -> dt.datetime | None:
    """The latest moment a change waiting to be placed was seen, or seen included: no placement can precede it."""
    moments = [m for c in journal.changes(state="open") if c.included for m in (c.first_observed_at, c.included_at)
               if m is not None]
    return max(moments, default=None)


def sync_placements(output_dir: Path, journal: Journal) -> None:
    """Record the published versions the journal does not know (a run killed after the version was committed).

    Only versions newer than the journal's last placement are recorded; the act is read from the version's
    manifest (``approval.act_id``), the codes placed from its comparison with the version before it.
    """
    known = {p.version for p in journal.placements()}
    last = max((p.placed_at for p in journal.placements()), default=None)
    versions = store.list_versions(output_dir, with_register=False, on_error=lambda p, e: None)
    latest = store.latest_name(output_dir)
    for v in versions:
        if v.name in known or v.published_at is None or (last is not None and v.published_at <= last):
            continue
        if latest is None or v.name > latest:
            continue  # committed but never made LATEST: not placed
        raw = v.manifest.get("approval")
        appr: dict[str, Any] = raw if isinstance(raw, dict) else {}
        act_id = appr.get("act_id") if isinstance(appr.get("act_id"), int) else None
        codes = appr.get("codes") if isinstance(appr.get("codes"), list) else None
        journal.record_placement(v.name, placed_at=v.published_at, fingerprint=v.fingerprint or "",
                                 row_count=int(v.manifest.get("row_count") or 0), target=v.manifest.get("target"),
                                 act_id=act_id, require_act=bool(appr.get("require_act")),
                                 source="sync", codes=[str(c) for c in codes] if codes is not None else None)


def last_approved(output_dir: Path, journal: Journal) -> tuple[ActRecord, Draft] | None:
    """The last recorded act and its frozen draft (``"act"`` mode publishes exactly these rows)."""
    from .approval import load_draft

    act = journal.last_act()
    if act is None:
        return None
    return act, load_draft(output_dir, act.draft_id)


# ------------------------------------------------------------------------------------------------------------
# The day a change was made


def observed_days(journal: Journal, codes: Iterable[str], *, today: dt.date, mode: str) -> dict[str, dt.date] | None:
    """Code → the day its change counts as made (п. 5.4), for ``perechen diff``'s change-date function.

    ``"inclusion"`` mode: ``None`` when the journal has no observation yet: then the typed «Дата изменения» is
    all there is. A code the journal has no open change for was not seen changed before: it is seen today.

    ``"act"`` mode (give :func:`perechen.diff.compare` ``term_from_act=True``): only the changes an act approved,
    each on its act's date. A change no act approved yet is not made in the Перечень yet: its clock has not
    started — it waits for the act, with no deadline, never «overdue» (not «made today», a deadline that would
    move with each day it waits); how long it has waited is :func:`act_waiting`'s ``since``.
    """
    if mode == "act":
        return journal.made_days(by_act=True)
    if not journal.has_observations():
        return None
    known = journal.made_days(by_act=False)
    days = {str(code): today for code in codes}
    days.update(known)
    return days


def review_changes(register: Register, rules: Rules, report: DiffReport) -> list[ObservedChange]:
    """Rows under review («черновик», «на проверке») that differ from the published row: stage «observed»."""
    base = report.baseline.rows_by_code if report.baseline is not None else {}
    changed = {c.code for c in report.changes}
    out: list[ObservedChange] = []
    for c in canonicalizer(rules).register_rows(register):
        code = c.get("code")
        if not code or c.get("status") not in REVIEW_STATUSES or str(code) in changed:
            continue
        old = base.get(str(code))
        if old is None:  # a new touchpoint under review: one change of the whole row (journal.ROW_FIELD)
            new = {f: v for f, v in c.items() if f not in ("status", "code") and not is_empty(v)}
            out.append(ObservedChange(code=str(code), case="added", field=ROW_FIELD, old=None, new=new,
                                      included=False))
            continue
        # Only published content is a change (issue 11 A4): not the status, the date, the note, the persons.
        fields = {f: v for f, v in c.items() if f in old and f not in NOT_COMPARED and v != old.get(f)}
        for f, v in sorted(fields.items()):
            out.append(ObservedChange(code=str(code), case="edited", field=f, old=old.get(f), new=v,
                                      included=False))
    return out


def observe(journal: Journal, report: DiffReport, register: Register, rules: Rules, *, observed_at: dt.datetime,
            source: str = "nightly") -> ObserveResult:
    """One observation: the comparison's changes (included) and the rows under review (observed)."""
    changes = changes_from_diff(report) + review_changes(register, rules, report)
    return journal.observe(changes, fingerprint=report.fingerprint, observed_at=observed_at, source=source,
                           workbook=str(register.path), workbook_sha256=register.sha256,
                           row_count=register.n_rows)


# ------------------------------------------------------------------------------------------------------------
# "act" mode: what still waits for an act


@dataclass(frozen=True)
class Waiting:
    """Included changes the last approved draft does not hold (``"act"`` mode)."""

    codes: tuple[str, ...]
    since: dt.date | None
    act: ActRecord | None

    @property
    def count(self) -> int:
        return len(self.codes)

    def text(self) -> str:
        if not self.codes:
            return ("Все включённые изменения утверждены приказом." if self.act is not None else
                    "Включённых изменений, ждущих приказа, нет.")
        since = f" (самое раннее — с {ru_date(self.since)})" if self.since else ""
        return (f"Ждут утверждения приказом: {self.count} включённых изменений{since} — "
                f"{', '.join(self.codes[:20])}{' …' if self.count > 20 else ''}. На официальном сайте они "
                "появятся после приказа (perechen approve, затем perechen approve --record).")

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "since": self.since.isoformat() if self.since else None,
                "codes": list(self.codes)}


def act_waiting(report: DiffReport, approved: tuple[ActRecord, Draft] | None,
                seen: dict[str, dt.date] | None = None) -> Waiting:
    """The comparison's changes whose new values the last approved draft does not hold, and since when
    (``seen``: code → the day the journal first saw its change included, :meth:`Journal.made_days`)."""
    act, draft = approved if approved is not None else (None, None)
    frozen = {str(r.get("code")): r for r in draft.rows} if draft is not None else {}
    codes: list[str] = []
    days: list[dt.date] = []
    for ch in report.changes:
        if draft is not None:
            row = frozen.get(ch.code)
            if ch.kind == "excluded":
                held = row is None
            else:
                held = row is not None and all(row.get(f) == v.get("new") for f, v in ch.fields.items())
            if held:
                continue
        if ch.code not in codes:
            codes.append(ch.code)
        day = (seen or {}).get(ch.code) or ch.change_date or ch.typed_on
        if day is not None:
            days.append(day)
    return Waiting(codes=tuple(codes), since=min(days) if days else None, act=act)


# ------------------------------------------------------------------------------------------------------------
# Stages for the dashboard


@dataclass(frozen=True)
class StageRow:
    code: str
    cases: tuple[str, ...]
    stage: str
    made_on: dt.date | None
    deadline: dt.date | None
    working_days_left: int | None
    overdue: bool

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "cases": list(self.cases), "what": ", ".join(CASE_PHRASES.get(c, c)
                                                                                 for c in self.cases),
                "stage": self.stage, "stage_text": STAGE_TITLES[self.stage],
                "made_on": self.made_on.isoformat() if self.made_on else None,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "working_days_left": self.working_days_left, "overdue": self.overdue}


def pending_stages(journal: Journal, calendar: Any, *, today: dt.date, mode: str,
                   placed_since: dt.datetime | None = None) -> list[StageRow]:
    """Each pending change (by code) with its least advanced stage, the day made and the working days left.

    Changes placed at or after ``placed_since`` (this run) are listed as «placed». The first placement of the
    approved Перечень (п. 5.2) has no term and is not listed. In ``"act"`` mode a change without an act has
    not been made yet: no deadline.
    """
    acts = {a.id: a for a in journal.acts()}
    groups: dict[str, list[Any]] = {}
    for c in journal.changes(state="open", initial=False):
        groups.setdefault(c.code, []).append(c)
    if placed_since is not None:
        for c in journal.changes(state="placed", initial=False, closed_since=placed_since):
            groups.setdefault(c.code, []).append(c)
    out: list[StageRow] = []
    for code, items in groups.items():
        stage = min((c.stage for c in items), key=STAGE_RANK.__getitem__)
        made: dt.date | None = None
        for c in items:
            act = acts.get(c.act_id) if c.act_id is not None else None
            if mode == "act":
                day = act.signed_on if act is not None else (c.made_on if c.state == "placed" else None)
            else:
                day = c.made_on
            if day is not None and (made is None or day < made):
                made = day
        deadline, left, overdue = None, None, False
        if made is not None and calendar is not None and stage != "placed":
            with contextlib.suppress(Exception):  # a year the calendar does not cover: the diff says so
                st = calendar.status(made, today)
                deadline, left, overdue = st.deadline, st.working_days_left, st.overdue
        cases = tuple(dict.fromkeys(c.case for c in items))
        out.append(StageRow(code, cases, stage, made, deadline, left, overdue))
    out.sort(key=lambda r: (r.stage == "placed", r.deadline or dt.date.max, r.code))
    return out


# ------------------------------------------------------------------------------------------------------------
# The approving act on the page (п. 5.1)


def act_citation(journal: Journal, *, upto: ActRecord | None = None) -> str:
    """«Перечень утверждён приказом от 08.12.2026 № 31-о «…»; изменения внесены приказами от … № …».

    The last approving act («Об утверждении …») and the amending acts after it, up to ``upto`` (default: the
    last recorded act). Empty when no act is recorded: then nothing claims an approving document.
    """
    acts = [a for a in journal.acts()]
    drafts = {d.id: d for d in journal.drafts()}
    acts.sort(key=lambda a: drafts[a.draft_id].seq if a.draft_id in drafts else 0)
    if upto is not None:
        acts = acts[:next((i + 1 for i, a in enumerate(acts) if a.id == upto.id), len(acts))]
    if not acts:
        return ""
    start = max((i for i, a in enumerate(acts) if drafts.get(a.draft_id) is not None
                 and drafts[a.draft_id].kind == "approve"), default=0)
    first, later = acts[start], acts[start + 1:]
    text = f"Перечень утверждён приказом от {ru_date(first.signed_on)} № {first.number} «{first.title}»"
    if later:
        word = "приказом" if len(later) == 1 else "приказами"
        text += f"; изменения внесены {word} " + ", ".join(f"от {ru_date(a.signed_on)} № {a.number}" for a in later)
    return text + "."


def included_codes(register: Register, rules: Rules) -> list[str]:
    return [str(c.get("code")) for c in canonicalizer(rules).register_rows(register)
            if c.get("status") == INCLUDED and c.get("code")]
