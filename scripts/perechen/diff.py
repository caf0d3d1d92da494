"""``perechen diff``: what changed since the last publication, which case of п. 5.3 it is, and the п. 5.4 deadline.

The rows that would be published now (status «включено») are compared with the baseline (the published
version named by LATEST, a version folder, or an old .xlsx) by Код, both in the canonical form of
:mod:`perechen.canonical`. Cases (one row can fall under several; each is listed):

* ``added`` (5.3.1): a code that the baseline does not have;
* ``kind_changed`` (5.3.2): Канал or Вид точки changed;
* ``needs_changed`` (5.3.3): Удовлетворяемые потребности or Иные потребности changed, compared as sets of
  canonical values (order, spacing, case and accepted spelling variants do not count);
* ``excluded`` (5.3.4): a published code now «исключено», or gone from the workbook (a warning too: rows
  are marked «исключено», not deleted);
* ``edited`` (no clause): any other published field changed.

Only published content is compared: the fields never published (Статус, Ответственный, Проверил, Примечание)
and «Дата изменения» alone make no change (:data:`perechen.canonical.UNPUBLISHED_FIELDS`).

Rows «черновик» / «на проверке» are listed apart (``pending_review``). A published row that went back to
review is no exclusion: it stays on the site in its last published form (:func:`perechen.canonical.
publication_rows`). A code whose name and kind both changed is reported with a warning that the code was
probably given to another touchpoint.

Deadline (п. 5.4): the 10th working day after the earliest day a change was made (:func:`change_day`). The
first publication (no baseline) is the placement of the approved Перечень (п. 5.2), which has no term: no
deadline. A change on «Сведения» is reported (``info_changes``) and needs a new placement but is no case of
п. 5.3 and has no date of its own: no deadline. Decision for a row deleted from the workbook, which has no date
any more: the date of the comparison run (``today``) is used — the earliest day the tool can prove the change
existed — and a warning says so. The same applies to a changed row whose Дата изменения is empty or not a date.

``[approval] mode = "act"`` (``term_from_act``): the agency approves the Перечень and its changes by an act (its
choice: п. 5.1 leaves the form of the approving document to the Служба), so a change is made in the Перечень — the
day п. 5.4 counts from — on the date of the act that approved it (the journal's act dates, ``observed``); a
change no act approved yet waits for the act — it has no day made, no deadline and is never overdue
(:data:`AWAITS_ACT`). The same rule for ``perechen diff``, the nightly run, the dashboard and ``perechen region``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .canonical import (
    DATE_FIELD,
    EXCLUDED,
    INCLUDED,
    REVIEW_STATUSES,
    UNPUBLISHED_FIELDS,
    PublishedVersion,
    canonical_info,
    canonicalizer,
    fingerprint,
    gc_paused,
    publication_rows,
    with_current_lists,
)
from .models import PerechenError, Register
from .rules import Rules
from .text import fold, ru_date, split_multi, value_key

CASES: dict[str, tuple[str | None, str]] = {
    "added": ("5.3.1", "Появление новой точки взаимодействия"),
    "kind_changed": ("5.3.2", "Изменение вида точки взаимодействия"),
    "needs_changed": ("5.3.3", "Изменение удовлетворяемых потребностей"),
    "excluded": ("5.3.4", "Исключение точки взаимодействия"),
    "edited": (None, "Редакционные изменения (публикуются, но не относятся к случаям п. 5.3)"),
}
CASE_ORDER = {k: i for i, k in enumerate(CASES)}
# The same cases as a phrase inside a sentence or a list (nightly summary, mail, dashboard).
CASE_PHRASES: dict[str, str] = {
    "added": "новая точка взаимодействия (п. 5.3.1)",
    "kind_changed": "изменение вида точки взаимодействия (п. 5.3.2)",
    "needs_changed": "изменение удовлетворяемых потребностей (п. 5.3.3)",
    "excluded": "исключение точки взаимодействия (п. 5.3.4)",
    "edited": "редакционное изменение",
}
KIND_FIELDS = ("channel", "kind")
NEEDS_FIELDS = ("needs", "other_needs")
NOT_COMPARED = ("code", DATE_FIELD, *UNPUBLISHED_FIELDS)
STALE_ONE_BY_ONE = 5  # more «stale date» warnings than this are given as one


class DiffError(PerechenError):
    """The comparison cannot run (calendar unknown for a date, broken baseline …)."""


@dataclass
class Change:
    """One case for one code; ``fields`` maps a field name to {"old": …, "new": …} (canonical values)."""

    code: str
    kind: str
    fields: dict[str, dict[str, Any]]
    name: str | None = None
    row: int | None = None  # row number in the current workbook (None for a deleted row)
    change_date: dt.date | None = None  # the date that counts for the deadline
    date_from_run: bool = False  # True when change_date is the run date (deleted row, missing date)
    gone: bool = False
    deadline: dt.date | None = None  # п. 5.4 for this change (None: first placement, or calendar unknown)
    working_days_left: int | None = None
    overdue: bool = False
    awaits_act: bool = False  # "act" mode: no act approved it yet — not made in the Перечень, no п. 5.4 term
    typed_on: dt.date | None = None  # the typed «Дата изменения» of a change waiting for the act (for the journal)

    @property
    def clause(self) -> str | None:
        return CASES[self.kind][0]

    @property
    def title(self) -> str:
        return CASES[self.kind][1]

    @property
    def phrase(self) -> str:
        """The case as a phrase in a list: «новая точка взаимодействия (п. 5.3.1)»."""
        return CASE_PHRASES[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "kind": self.kind, "clause": self.clause,
                "fields": {f: {"old": v["old"], "new": v["new"]} for f, v in self.fields.items()}}


# Every warning the comparison can give (``DiffWarning.type``, kebab-case like the finding codes) and what
# it means; ``perechen rules --all`` lists them.
WARNING_TYPES: dict[str, str] = {
    "no-code": "Точка без кода: её нельзя сопоставить с опубликованной версией",
    "duplicate-code": "Код повторяется у включённых точек: сравнивается одна строка",
    "unknown-status": "Статус не из справочника: строка не сравнивается",
    "no-date": "Дата изменения не заполнена или не дата: срок п. 5.4 считается от даты сравнения",
    "future-date": "Дата изменения позже даты сравнения",
    "date-contradicts": "Дата изменения расходится с днём, когда изменение замечено: срок п. 5.4 — от замеченного",
    "stale-date": "Дата изменения раньше последней публикации: вероятно, её забыли обновить",
    "code-reused": "Код теперь обозначает другую точку (изменились и наименование, и вид)",
    "published-under-review": "Опубликованная точка сейчас «черновик» или «на проверке»",
    "row-deleted": "Опубликованная точка удалена из книги, а не исключена",
    "info-changed": "Изменились сведения на листе «Сведения»",
    "schema-version": "Опубликованная версия записана по другой версии схемы",
    "order-only": "Отличаются только порядок строк или написание, которое не считается изменением",
    "provisional-calendar": "Производственный календарь предварительный: срок может сдвинуться",
}


@dataclass
class DiffWarning:
    type: str  # one of WARNING_TYPES
    message: str
    code: str | None = None
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "row": self.row, "message": self.message}


@dataclass
class DiffReport:
    workbook: str
    baseline: PublishedVersion | None
    changes: list[Change]
    pending_review: list[str]
    warnings: list[DiffWarning]
    today: dt.date
    earliest_change: dt.date | None = None
    deadline: dt.date | None = None
    working_days_left: int | None = None
    overdue: bool = False
    overdue_working_days: int = 0
    provisional_years: tuple[int, ...] = ()
    info_changes: dict[str, dict[str, str]] = field(default_factory=dict)
    current_rows: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    rows_total: int = 0
    rows_included: int = 0
    report_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    included_rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    info: dict[str, str] = field(default_factory=dict)
    act_waiting: dict[str, Any] | None = None  # "act" mode: {"count", "since", "codes"} (perechen.clock)
    term_from_act: bool = False  # "act" mode: the term counts from the act's date (:func:`compare`)
    _fingerprint: str | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the data that would be published now (same as the store's)."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.included_rows, self.info)
        return self._fingerprint

    @property
    def baseline_name(self) -> str | None:
        return self.baseline.name if self.baseline is not None else None

    @property
    def publication_required(self) -> bool:
        return bool(self.changes) or bool(self.info_changes)

    def by_case(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {k: [] for k in CASES}
        for c in self.changes:
            out[c.kind].append(c)
        return out

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.by_case().items()}

    @property
    def awaiting_act(self) -> list[str]:
        """``"act"`` mode: the codes whose change no act approved yet (no п. 5.4 term before the act)."""
        return list(dict.fromkeys(c.code for c in self.changes if c.awaits_act))

    @property
    def exit_code(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of issue 4."""
        return {
            "baseline": self.baseline_name,
            "changes": [c.to_dict() for c in self.changes],
            "pending_review": list(self.pending_review),
            "warnings": [w.to_dict() for w in self.warnings],
            "publication_required": self.publication_required,
            "earliest_change": _iso(self.earliest_change),
            "deadline": _iso(self.deadline),
            "working_days_left": self.working_days_left,
            "overdue": self.overdue,
            **({"waiting_for_act": self.act_waiting} if self.act_waiting is not None else {}),
        }

    @gc_paused()
    def to_json(self) -> str:
        # No collection while the report's containers are built: the heap holds the register read and both
        # versions' rows (millions of objects, no cycles), and the first collection after :func:`compare`
        # — a full one soon after — would walk all of them (~0.2–0.5 s) to free nothing. The same for the
        # report files (perechen.renderers.diff) and the terminal text (perechen.diff_text.render_text).
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


# ------------------------------------------------------------------------------------------------------------
# Comparison


def code_changes(old_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Codes added / changed / removed between two lists of canonical rows (a publication's record of itself).

    Coarser than :func:`compare`: a code is «changed» when its canonical row differs in any way, «removed»
    when it is no longer among the published rows (excluded or deleted: a published row under review stays
    published in its last form, see :func:`perechen.canonical.publication_rows`).
    """
    old = {str(r.get("code")): r for r in old_rows if r.get("code")}
    new = {str(r.get("code")): r for r in new_rows if r.get("code")}
    return {
        "added": [c for c in new if c not in old],
        "changed": [c for c in new if c in old and new[c] != old[c]],
        "removed": [c for c in old if c not in new],
    }


def _needs_key(rules: Rules, field_name: str, value: Any) -> frozenset[str]:
    """A set-valued key: canonical list values (needs) or loose keys of the parts (other_needs)."""
    if value is None:
        return frozenset()
    items: Iterable[Any] = value if isinstance(value, list) else split_multi(str(value))
    out: set[str] = set()
    col = rules.columns.get(field_name)
    for v in items:
        s = str(v)
        if col is not None and col.ref_list:
            m = rules.match(col.ref_list, s)
            if m is not None:
                out.add(m.item.value)
                continue
        k = value_key(s)
        if k:
            out.add(k)
    return frozenset(out)


def is_empty(v: Any) -> bool:
    """An empty canonical value: None, "" or an empty list."""
    return v is None or v == "" or v == []


def _same(rules: Rules, field_name: str, old: Any, new: Any) -> bool:
    if field_name in NEEDS_FIELDS:
        return _needs_key(rules, field_name, old) == _needs_key(rules, field_name, new)
    if is_empty(old) and is_empty(new):
        return True
    col = rules.columns.get(field_name)
    if col is not None and col.multi:
        return _needs_key(rules, field_name, old) == _needs_key(rules, field_name, new)
    return bool(old == new)


def _date_of(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class ChangeDay:
    """The day a change was made in the Перечень — the start of the п. 5.4 clock — and how it is known."""

    day: dt.date
    from_run: bool  # no date known: the comparison day is used
    warnings: tuple[DiffWarning, ...] = ()


def change_day(code: str, row: int | None, typed: Any, *, today: dt.date, header: str,
               observed: dt.date | None = None, by_act: bool = False) -> ChangeDay:
    """The day a change of ``code`` was made — the one place that decides where the п. 5.4 clock starts.

    ``observed`` is the day the tool itself saw the change (the journal, issue 12); when given it wins, and a
    typed «Дата изменения» (``typed``) that contradicts it is a warning naming both dates. Without an
    observation the typed date counts; a missing or unreadable one gives the comparison day (``today``), said
    in a warning. ``by_act``: ``observed`` is the date of the act that approved the change (``"act"`` mode).
    """
    typed_day = _date_of(typed)
    where = f"Строка {row}, код {code}" if row is not None else f"Код {code}"
    if observed is not None:
        if typed_day is not None and typed_day != observed and by_act:
            return ChangeDay(observed, False, (DiffWarning(
                "date-contradicts", f"{where}: «{header}» — {ru_date(typed_day)}, а изменение утверждено приказом "
                                    f"от {ru_date(observed)}; срок п. 5.4 считается от даты приказа.", code, row),))
        if typed_day is not None and typed_day != observed:
            return ChangeDay(observed, False, (DiffWarning(
                "date-contradicts", f"{where}: «{header}» — {ru_date(typed_day)}, а изменение замечено "
                                    f"{ru_date(observed)}; срок п. 5.4 считается от {ru_date(observed)}.",
                code, row),))
        return ChangeDay(observed, False)
    if typed_day is None:
        return ChangeDay(today, True, (DiffWarning(
            "no-date", f"{where}: «{header}» не заполнена или не дата — срок п. 5.4 считается от даты "
                       f"сравнения {ru_date(today)}.", code, row),))
    if typed_day > today:
        return ChangeDay(typed_day, False, (DiffWarning(
            "future-date", f"{where}: дата изменения {ru_date(typed_day)} позже даты сравнения "
                           f"{ru_date(today)}.", code, row),))
    return ChangeDay(typed_day, False)


def _fields_list(rules: Rules, baseline: PublishedVersion | None) -> list[str]:
    names = [c.field for c in rules.schema.columns]
    if baseline is not None:
        for f in baseline.register.get("fields") or []:
            if isinstance(f, str) and f not in names:
                names.append(f)
    return names


@gc_paused()  # hundreds of thousands of acyclic containers (see perechen.canonical.gc_paused)
def compare(register: Register, rules: Rules, baseline: PublishedVersion | None, *, today: dt.date,
            calendar: Any = None, observed: dict[str, dt.date] | None = None,
            term_from_act: bool = False) -> DiffReport:
    """Compare the workbook's publishable rows with ``baseline``; compute the deadline with ``calendar``.

    ``calendar`` is a :class:`perechen.workdays.WorkCalendar`; when None it is loaded from the rules
    folder (only if there are changes). A :class:`CalendarError` becomes a :class:`DiffError`.
    ``observed`` maps a code to the day its change was observed (see :func:`change_day`).
    ``term_from_act`` (``[approval] mode = "act"``): ``observed`` holds the dates of the acts that approved the
    changes (:func:`perechen.clock.observed_days`); a change whose code it does not hold waits for the act
    (``Change.awaits_act``): no day made, no deadline, never overdue.
    """
    if baseline is not None:
        # A version published under older lists (a short form that was canonical then) compares by the
        # current canonical values: a renamed list value is not a change of the touchpoint.
        baseline = with_current_lists(baseline, rules)
    warnings: list[DiffWarning] = []
    changes: list[Change] = []
    pending: list[str] = []
    schema_fields = [c.field for c in rules.schema.columns]
    fields = _fields_list(rules, baseline)
    header = {c.field: c.header for c in rules.schema.columns}

    # Current rows, canonical, grouped by code.
    canonical_rows = canonicalizer(rules).register_rows(register)
    # What would be on the site now: «включено» rows, plus published rows under review in their published form.
    included_rows = publication_rows(canonical_rows, baseline)
    # Each code's first (row number, row), in workbook order; a code on several rows also has all of them in dups.
    first: dict[str, tuple[int, dict[str, Any]]] = {}
    dups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, c in zip(register.numbers, canonical_rows, strict=True):
        status = c.get("status")
        code = c.get("code")
        if not code:
            if status == INCLUDED:
                warnings.append(DiffWarning("no-code", f"Строка {number}: включённая точка без кода — её нельзя "
                                                       "сопоставить с опубликованной версией.", None, number))
            elif status in REVIEW_STATUSES:
                warnings.append(DiffWarning("no-code", f"Строка {number}: точка «{status}» без кода.", None,
                                            number))
            continue
        code = str(code)
        entry = (number, c)
        earlier = first.setdefault(code, entry)
        if earlier is not entry:
            more = dups.get(code)
            if more is None:
                dups[code] = [earlier, entry]
            else:
                more.append(entry)

    base_rows = baseline.rows_by_code if baseline is not None else {}
    current: dict[str, tuple[int, dict[str, Any]]] = {}
    pending_set: set[str] = set()
    for code, entry in first.items():
        entries = dups.get(code)
        if entries is None:  # the usual case: the code's one row is compared
            current[code] = entry
            st = entry[1].get("status")
            if st == INCLUDED or st == EXCLUDED:
                continue
            entries = [entry]
            pick, inc = entry, entries
        else:
            inc = [e for e in entries if e[1].get("status") == INCLUDED]
            excl = [e for e in entries if e[1].get("status") == EXCLUDED]
            pick = inc[0] if inc else excl[0] if excl else entries[0]
        if len(inc) > 1:
            # Compare the row that is the published one (equal, else same name), else the first.
            prev = base_rows.get(code)
            if prev is not None:
                prev_name = fold(str(prev.get("name") or ""))
                pick = (next((e for e in inc if e[1] == prev), None)
                        or next((e for e in inc if fold(str(e[1].get("name") or "")) == prev_name), None)
                        or inc[0])
            rows_s = ", ".join(str(n) for n, _ in inc)
            warnings.append(DiffWarning("duplicate-code", f"Код {code} повторяется у включённых точек (строки "
                                                          f"{rows_s}); с опубликованной версией сравнивается строка "
                                                          f"{pick[0]}, остальные не учтены.", code, pick[0]))
        current[code] = pick
        for n, c in entries:
            st = c.get("status")
            if st in REVIEW_STATUSES:
                if code not in pending_set:
                    pending_set.add(code)
                    pending.append(code)
            elif st not in (INCLUDED, EXCLUDED, *REVIEW_STATUSES):
                shown = st if st else "пусто"
                warnings.append(DiffWarning("unknown-status", f"Строка {n}, код {code}: статус «{shown}» не из "
                                                              "справочника — строка не сравнивается.", code, n))

    base_published = baseline.published_at.date() if baseline is not None and baseline.published_at else None

    def change_date(c: dict[str, Any], code: str, rn: int) -> dict[str, Any]:
        """The keyword arguments of :class:`Change` that say when the change was made."""
        seen = (observed or {}).get(code)
        typed_header = header.get(DATE_FIELD, DATE_FIELD)
        if term_from_act and seen is None:  # no act approved it yet: the clock has not started
            typed = change_day(code, rn, c.get(DATE_FIELD), today=today, header=typed_header)
            return {"change_date": None, "date_from_run": False, "awaits_act": True,
                    "typed_on": None if typed.from_run else typed.day}
        cd = change_day(code, rn, c.get(DATE_FIELD), today=today, header=typed_header, observed=seen,
                        by_act=term_from_act)
        warnings.extend(cd.warnings)
        if seen is None and not cd.from_run and base_published is not None and cd.day < base_published:
            stale.append((code, rn, cd.day))
        return {"change_date": cd.day, "date_from_run": cd.from_run}

    stale: list[tuple[str, int, dt.date]] = []

    # Rows in the workbook.
    exact = True  # every included row equal to its published version (then no fingerprint is needed)
    for code, (rn, c) in current.items():
        status = c.get("status")
        old = base_rows.get(code)
        name = c.get("name")
        if status == INCLUDED:
            if old is None:
                when = change_date(c, code, rn)
                flds = {f: {"old": None, "new": c.get(f)} for f in schema_fields if not is_empty(c.get(f))}
                changes.append(Change(code, "added", flds, name, rn, **when))
                continue
            if old == c:  # the usual case: the row is exactly as published
                continue
            exact = False
            diff = {f: {"old": old.get(f), "new": c.get(f)} for f in fields
                    if f not in NOT_COMPARED and not _same(rules, f, old.get(f), c.get(f))}
            if not diff:
                continue
            when = change_date(c, code, rn)
            groups = {
                "kind_changed": {f: v for f, v in diff.items() if f in KIND_FIELDS},
                "needs_changed": {f: v for f, v in diff.items() if f in NEEDS_FIELDS},
                "edited": {f: v for f, v in diff.items() if f not in KIND_FIELDS and f not in NEEDS_FIELDS},
            }
            for kind, flds in groups.items():
                if flds:
                    changes.append(Change(code, kind, flds, name, rn, **when))
            if "name" in diff and "kind" in diff and fold(str(old.get("name") or "")) != fold(str(name or "")):
                warnings.append(DiffWarning(
                    "code-reused", f"Код {code} (строка {rn}) теперь обозначает другую точку: изменились и "
                                   f"наименование («{old.get('name')}» → «{name}»), и вид точки. Код не отдают "
                                   "другой точке: исключите старую точку и заведите новую под новым кодом.",
                    code, rn))
        elif status == EXCLUDED:
            if old is None:
                continue
            when = change_date(c, code, rn)
            changes.append(Change(code, "excluded", {"status": {"old": old.get("status"), "new": status}},
                                  old.get("name") or name, rn, **when))
        elif status in REVIEW_STATUSES and old is not None:
            warnings.append(DiffWarning(
                "published-under-review", f"Опубликованная точка {code} (строка {rn}) сейчас «{status}»: на "
                                          "официальном сайте остаётся её последняя опубликованная редакция, пока "
                                          "уполномоченное лицо не включит точку снова или она не будет "
                                          "исключена. Это не исключение (п. 5.3.4).", code, rn))

    if stale and base_published is not None:
        if len(stale) <= STALE_ONE_BY_ONE:
            for code, rn, d in stale:
                warnings.append(DiffWarning(
                    "stale-date", f"Строка {rn}, код {code}: дата изменения {ru_date(d)} раньше последней "
                                  f"публикации ({ru_date(base_published)}) — вероятно, её забыли обновить; срок "
                                  "п. 5.4 считается от указанной даты.", code, rn))
        else:
            shown = ", ".join(code for code, _, _ in stale[:STALE_ONE_BY_ONE])
            warnings.append(DiffWarning(
                "stale-date", f"У {len(stale)} изменённых точек дата изменения раньше последней публикации "
                              f"({ru_date(base_published)}): {shown} и другие — вероятно, её забыли обновить; "
                              "срок п. 5.4 считается от указанных дат.", None, stale[0][1]))

    # Published codes gone from the workbook.
    for code, old in base_rows.items():
        if code in current:
            continue
        act_day = (observed or {}).get(code) if term_from_act else None
        if act_day is not None:
            gone_when: dict[str, Any] = {"change_date": act_day, "date_from_run": False}
            term = f"Срок п. 5.4 считается от даты приказа {ru_date(act_day)}."
        elif term_from_act:
            gone_when, term = {"change_date": None, "date_from_run": False, "awaits_act": True}, AWAITS_ACT_TERM
        else:
            gone_when, term = {"change_date": today, "date_from_run": True}, (
                f"Срок п. 5.4 считается от даты сравнения {ru_date(today)}.")
        changes.append(Change(code, "excluded", {"status": {"old": old.get("status"), "new": None}},
                              old.get("name"), None, gone=True, **gone_when))
        warnings.append(DiffWarning(
            "row-deleted", f"Опубликованная точка {code} «{old.get('name')}» удалена из книги. Строки не удаляют: "
                           f"поставьте статус «исключено», чтобы книга хранила историю (п. 5.3.4). {term}", code))

    changes.sort(key=lambda ch: (ch.row is None, ch.row or 0, CASE_ORDER[ch.kind]))

    info_now = canonical_info(register.info, rules)
    info_changes: dict[str, dict[str, str]] = {}
    if baseline is not None:
        base_info = baseline.register.get("info") or {}
        labels = {f.key: f.label for f in rules.schema.info.fields}
        for key, label in labels.items():
            a, b = str(base_info.get(key) or ""), info_now.get(key, "")
            if a != b:
                info_changes[key] = {"old": a, "new": b}
                warnings.append(DiffWarning("info-changed", info_change_text(label, a, b), None))
        bv = baseline.register.get("schema_version")
        if bv and bv != rules.schema.version:
            warnings.append(DiffWarning("schema-version", f"Опубликованная версия записана по схеме {bv}, "
                                                          f"правила сейчас — {rules.schema.version}."))
        if not changes and not info_changes and baseline.fingerprint and not (
                exact and [r.get("code") for r in included_rows] == [r.get("code") for r in baseline.rows]):
            same_codes = (len(included_rows) == len(baseline.rows)
                          and {str(r.get("code")) for r in included_rows if r.get("code")} == set(base_rows))
            order_only = same_codes and baseline.fingerprint != fingerprint(included_rows, info_now)
        else:
            order_only = False
        if order_only:
            warnings.append(DiffWarning(
                "order-only", "Данные отличаются от опубликованных только порядком строк или написанием, которое "
                              "не считается изменением (порядок потребностей, пробелы, синонимы). Это не изменение "
                              "по п. 5.3; при следующей публикации страница обновится."))

    report = DiffReport(workbook=str(register.path), baseline=baseline, changes=changes, pending_review=pending,
                        warnings=warnings, today=today, info_changes=info_changes,
                        current_rows={code: c for code, (_, c) in current.items()},
                        rows_total=register.n_rows, rows_included=len(included_rows),
                        included_rows=included_rows, info=info_now, term_from_act=term_from_act)
    if changes and baseline is not None:  # the first placement (п. 5.2) has no term
        _deadline(report, rules, calendar)
    return report


def restricted(report: DiffReport, codes: Collection[str], rules: Rules, calendar: Any = None) -> DiffReport:
    """The comparison's changes of ``codes`` only, with their own п. 5.4 term — ``"act"`` mode, what is left to
    place after placing what an act approved (no change on «Сведения»: it was placed)."""
    rest = replace(report, changes=[c for c in report.changes if c.code in codes], info_changes={},
                   earliest_change=None, deadline=None, working_days_left=None, overdue=False,
                   overdue_working_days=0, provisional_years=(),
                   warnings=[w for w in report.warnings if w.type not in ("provisional-calendar", "info-changed")
                             and (w.code is None or w.code in codes)])
    if rest.changes and rest.baseline is not None:
        _deadline(rest, rules, calendar)
    return rest


def info_change_text(label: str, old: str, new: str) -> str:
    return f"Изменились сведения «{label}» (лист «Сведения»): «{old or 'не указано'}» → «{new or 'не указано'}»."


def info_labels(report: DiffReport, rules: Rules) -> list[str]:
    """The labels (as on «Сведения») of the changed fields, in the sheet's order."""
    labels = {f.key: f.label for f in rules.schema.info.fields}
    return [labels.get(k, k) for k in labels if k in report.info_changes] + [
        k for k in report.info_changes if k not in labels]


def _deadline(report: DiffReport, rules: Rules, calendar: Any) -> None:
    from .workdays import CalendarError, WorkCalendar

    dates = [c.change_date for c in report.changes if c.change_date is not None]
    if not dates:
        return
    earliest = min(dates)
    report.earliest_change = earliest
    try:
        cal = calendar if calendar is not None else WorkCalendar.load(rules.directory)
        st = cal.status(earliest, report.today)
        by_day = {earliest: st}  # one status per distinct day (a thousand changes share a few dozen days)
        for c in report.changes:
            if c.change_date is not None:
                cst = by_day.get(c.change_date)
                if cst is None:
                    cst = by_day[c.change_date] = cal.status(c.change_date, report.today)
                c.deadline, c.working_days_left, c.overdue = cst.deadline, cst.working_days_left, cst.overdue
    except CalendarError as e:
        raise DiffError("calendar", f"Не удалось рассчитать срок размещения (п. 5.4): {e}") from None
    report.deadline = st.deadline
    report.working_days_left = st.working_days_left
    report.overdue = st.overdue
    report.overdue_working_days = st.overdue_working_days if st.overdue else 0
    report.provisional_years = tuple(st.provisional_years)
    if report.provisional_years:
        years = ", ".join(str(y) for y in report.provisional_years)
        report.warnings.append(DiffWarning("provisional-calendar", f"Производственный календарь на {years} год "
                                                                   "предварительный (постановление о переносе "
                                                                   "выходных не проверено): срок может сдвинуться."))


#: ``"act"`` mode: a change no act approved yet has no п. 5.4 term (the words of ``perechen region``).
AWAITS_ACT = "срок по п. 5.4 исчисляется со дня приказа"
AWAITS_ACT_TERM = f"Приказом изменение ещё не утверждено: {AWAITS_ACT}."
