"""Stage 2: run the Порядок's checks (declared in rules/checks.toml) over a read register.

Each check ``kind`` is one small function registered with :func:`check_kind`; it receives a
:class:`Context` and the check's declaration, and yields findings. Which checks run, their severity,
clause, message and parameters come from rules/, never from here.

Speed: every check is one pass over the rows (plus a pass over groups). Anything computed from a
cell's text (a reference-list match, a split multi-valued cell, a parsed basis) is cached by the text,
since registers repeat the same few values on thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .models import AGENCY_RULE, Finding, Register, Row, RulesError
from .rules import Check, ListItem, ListMatch, Rules
from .text import ru_date, ru_datetime, split_multi

# Kinds whose findings replace the reader's «mixed-script» warning on the same cell: the list check
# already tells the clerk the right spelling.
_LIST_KINDS = frozenset({"list_value", "list_spelling"})
_DEFAULT_SKIP = ("исключено",)
_NO: Any = object()


class _Fields(dict[str, Any]):
    """Template fields; an unknown {name} stays in the text as written (tests look for leftovers)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class MultiMatch:
    """A multi-valued cell matched against a list."""

    items: tuple[ListItem, ...]  # matched items, in the cell's order, without repeats
    unknown: tuple[str, ...]  # parts not in the list
    inexact: bool  # some part matched only after normalisation / by alias
    corrected: str  # the cell rewritten with canonical spellings


@dataclass
class ListScan:
    """One list column matched row by row (aligned with ``register.rows``), computed once per run."""

    items: list[ListItem | None]  # single-valued: the matched item (exact or loose); None if empty/unknown
    multis: list[MultiMatch | None]  # multi-valued: the cell's match; None if empty
    unknown: list[int]  # row indexes with a value (or a part) not in the list
    inexact: list[int]  # row indexes with a value that matched only after normalisation / by alias


@dataclass
class Context:
    """What a check function gets: the register, the rules, today, and shared per-run caches.

    Per-column results (list matches, the rows that are not «исключено», each row's channel) are
    computed once and shared by every check; lists are aligned with ``register.rows``.
    """

    register: Register
    rules: Rules
    today: dt.date
    cache: dict[str, Any] = field(default_factory=dict)
    _match: dict[str, dict[str, ListMatch | None]] = field(default_factory=dict)
    _multi: dict[str, dict[str, MultiMatch]] = field(default_factory=dict)
    _scans: dict[str, ListScan] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)
    _base: dict[tuple[str, str | None], dict[str, Any]] = field(default_factory=dict)

    @property
    def rows(self) -> list[Row]:
        return self.register.rows

    def has(self, *fields: str) -> bool:
        """All these columns are on the sheet (a missing one is the reader's finding)."""
        cols = self.register.columns
        return all(f in cols for f in fields)

    # -- findings --------------------------------------------------------------------------------
    def finding(self, check: Check, row: Row | None, field_name: str | None, *, value: Any = None,
                cell: str | None = None, cite: Any = _NO, **fmt: Any) -> Finding:
        """A finding of ``check``; ``cite`` overrides the rule's clause for this finding (a rule of the
        agency whose particular case the order itself requires, e.g. «Удовлетворяемые потребности», 2.5)."""
        reg = self.register
        col = reg.columns.get(field_name) if field_name else None
        rn = row.number if row is not None else None
        if cell is None and col and rn:
            cell = f"{col}{rn}"
        shown = value
        if shown is None and row is not None and field_name:
            shown = row.raw(field_name)
        params = _Fields(self._base_params(check, field_name))
        params["value"] = _show(shown)
        clause = check.clause if cite is _NO else cite
        if cite is not _NO:
            params["clause"] = clause or ""
        if fmt:
            params.update(fmt)
        try:
            message = check.message.format_map(params)
        except (IndexError, ValueError, AttributeError):  # a malformed template: show it as written
            message = check.message
        return Finding(code=check.code, severity=check.severity, clause=clause, message=message.strip(),
                       sheet=reg.sheet, cell=cell, row=rn, column=col, field=field_name, value=shown,
                       title=check.title)

    def _base_params(self, check: Check, field_name: str | None) -> dict[str, Any]:
        k = (check.code, field_name)
        base = self._base.get(k)
        if base is None:
            column = self.rules.columns.get(field_name) if field_name else None
            header = self.register.headers.get(field_name or "") or (column.header if column else "")
            base = {"header": header, "clause": check.clause or "", "detail": "", "expected": "",
                    "help": column.help if column else "", "today": _fmt_date(self.today)}
            base.update({p: v for p, v in check.params.items() if isinstance(v, (str, int, float))})
            self._base[k] = base
        return base

    # -- reference lists ---------------------------------------------------------------------------
    def match(self, list_name: str, value: str) -> ListMatch | None:
        """rules.match, cached by the value's text."""
        cache = self._match.get(list_name)
        if cache is None:
            cache = self._match[list_name] = {}
        try:
            return cache[value]
        except KeyError:
            m = cache[value] = self.rules.match(list_name, value)
            return m

    def multi(self, list_name: str, value: str) -> MultiMatch:
        """A multi-valued cell split on «;»/line breaks and matched part by part (cached)."""
        cache = self._multi.get(list_name)
        if cache is None:
            cache = self._multi[list_name] = {}
        mm = cache.get(value)
        if mm is None:
            items: dict[str, ListItem] = {}
            unknown: list[str] = []
            inexact = False
            shown: list[str] = []
            for part in split_multi(value):
                m = self.match(list_name, part)
                if m is None:
                    unknown.append(part)
                    shown.append(part)
                    continue
                inexact = inexact or not m.exact
                if m.item.value not in items:
                    items[m.item.value] = m.item
                    shown.append(m.item.value)
            mm = cache[value] = MultiMatch(tuple(items.values()), tuple(unknown), inexact, "; ".join(shown))
        return mm

    def scan(self, field_name: str) -> ListScan:
        """The list column ``field_name`` matched on every row (once per run)."""
        sc = self._scans.get(field_name)
        if sc is not None:
            return sc
        col = self.rules.columns.get(field_name)
        n = len(self.rows)
        items: list[ListItem | None] = [None] * n
        multis: list[MultiMatch | None] = [None] * n
        unknown: list[int] = []
        inexact: list[int] = []
        if col is not None and col.ref_list and field_name in self.register.columns:
            lname = col.ref_list
            if col.multi:
                local_m: dict[str, MultiMatch] = {}
                for i, row in enumerate(self.rows):
                    v = row.values.get(field_name)
                    if v is None:
                        continue
                    mm = local_m.get(v)
                    if mm is None:
                        mm = local_m[v] = self.multi(lname, v if isinstance(v, str) else str(v))
                    multis[i] = mm
                    if mm.unknown:
                        unknown.append(i)
                    if mm.inexact:
                        inexact.append(i)
            else:
                local: dict[Any, ListMatch | None] = {}
                for i, row in enumerate(self.rows):
                    v = row.values.get(field_name)
                    if v is None:
                        continue
                    try:
                        m = local[v]
                    except KeyError:
                        m = local[v] = self.match(lname, v if isinstance(v, str) else str(v))
                    if m is None:
                        unknown.append(i)
                    else:
                        items[i] = m.item
                        if not m.exact:
                            inexact.append(i)
        sc = self._scans[field_name] = ListScan(items, multis, unknown, inexact)
        return sc

    def items(self, field_name: str) -> list[ListItem | None]:
        """Matched list item of a single-valued list column, row by row."""
        return self.scan(field_name).items

    def item(self, row: Row, field_name: str) -> ListItem | None:
        """The list item a single-valued list cell matches (exactly or loosely), or None."""
        v = row.values.get(field_name)
        col = self.rules.columns.get(field_name)
        if not isinstance(v, str) or col is None or not col.ref_list:
            return None
        m = self.match(col.ref_list, v)
        return m.item if m is not None else None

    # -- cells and rows ----------------------------------------------------------------------------
    def is_problem(self, row: Row, field_name: str) -> bool:
        """The reader already reported this cell (error value, formula without value, merged)."""
        pc = self.register.problem_cells
        if not pc:
            return False
        col = self.register.columns.get(field_name)
        return bool(col) and f"{col}{row.number}" in pc

    def is_blank(self, row: Row, field_name: str) -> bool:
        """Empty, and not because of a cell problem the reader already reported."""
        return row.values.get(field_name) is None and not self.is_problem(row, field_name)

    def active(self, skip_statuses: Sequence[str] | None = None) -> list[int]:
        """Indexes of rows whose status is not one of ``skip_statuses`` (default «исключено»)."""
        skip = tuple(skip_statuses) if skip_statuses is not None else _DEFAULT_SKIP
        key = "active:" + "\x1f".join(skip)
        idx = self.cache.get(key)
        if idx is None:
            if not skip or "status" not in self.register.columns:
                idx = list(range(len(self.rows)))
            else:
                skipset = set(skip)
                idx = [i for i, it in enumerate(self.items("status")) if it is None or it.value not in skipset]
            self.cache[key] = idx
        return idx

    def channels(self) -> list[str | None]:
        """Each row's channel: the kind's channel when the kind is known (a «Канал» that disagrees is
        the kind-channel finding, not a reason for more), else «Канал» when it is a list value."""
        ch = self.cache.get("channels")
        if ch is None:
            kinds = self.items("kind")
            ch = [k.channel if k is not None and k.channel else (c.value if c is not None else None)
                  for c, k in zip(self.items("channel"), kinds, strict=True)]
            self.cache["channels"] = ch
        return ch

    def key(self, s: str) -> str:
        """Comparison key of a text that repeats across rows (process, area, person), cached."""
        k = self._keys.get(s)
        if k is None:
            k = self._keys[s] = _key(s)
        return k


CheckFn = Callable[[Context, Check], Iterable[Finding]]
CHECK_KINDS: dict[str, CheckFn] = {}


def check_kind(name: str) -> Callable[[CheckFn], CheckFn]:
    def deco(fn: CheckFn) -> CheckFn:
        CHECK_KINDS[name] = fn
        return fn
    return deco


def run_checks(register: Register, rules: Rules, *, today: dt.date | None = None,
               params: Mapping[str, Mapping[str, Any]] | None = None) -> list[Finding]:
    """Run every declared check; return the reader's findings plus the checks' findings, sorted.

    ``params`` overrides check parameters by code, e.g. ``{"review-overdue": {"review_days": 5}}``.
    """
    ctx = Context(register=register, rules=rules, today=today or dt.date.today())
    # The checks allocate many small objects over a large live heap; a full collection in the middle
    # is pure cost (nothing here makes cycles), so collection waits until the end.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        out = _run(ctx, params)
    finally:
        if gc_was_on:
            gc.enable()
    list_cells = ctx.cache.get("list_cells", set())
    reader = [f for f in register.findings
              if not (f.code == "mixed-script" and f.cell in list_cells and f.sheet == register.sheet)]
    out = reader + out
    out.sort(key=lambda f: f.sort_key())
    return out


def _run(ctx: Context, params: Mapping[str, Mapping[str, Any]] | None) -> list[Finding]:
    rules = ctx.rules
    out: list[Finding] = []
    list_cells: set[str] = ctx.cache.setdefault("list_cells", set())
    for chk in rules.checks:
        if chk.kind == "reader":
            continue
        fn = CHECK_KINDS.get(chk.kind)
        if fn is None:
            raise RulesError("rules_broken", f"Ошибка в файле правил {rules.directory / 'checks.toml'}: "
                                             f"правило {chk.code}: неизвестный вид проверки «{chk.kind}».")
        if params and chk.code in params:
            chk = chk.model_copy(update={"params": {**chk.params, **params[chk.code]}})
        found = list(fn(ctx, chk))
        if chk.kind in _LIST_KINDS:
            list_cells.update(f.cell for f in found if f.cell)
        out.extend(found)
    return out


# ================================================================================================
# Helpers


@functools.lru_cache(maxsize=4096)
def _fmt_date(d: dt.date) -> str:
    return ru_date(d)


def _show(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return ru_datetime(v) if (v.hour or v.minute) else _fmt_date(v)  # cached: many rows share a date
    if isinstance(v, dt.date):
        return _fmt_date(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v


def _quote_all(values: Iterable[str]) -> str:
    return ", ".join(f"«{v}»" for v in values)


def _rows_list(numbers: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    if len(numbers) > limit:
        shown += f" и ещё {len(numbers) - limit}"
    return shown


def _others(numbers: Sequence[int], me: int, limit: int = 10) -> str:
    """The other rows of a group, for a message (linear however large the group)."""
    head = [n for n in numbers[: limit + 1] if n != me][:limit]
    rest = len(numbers) - 1 - len(head)
    return ", ".join(map(str, head)) + (f" и ещё {rest}" if rest > 0 else "")


def _key(s: str) -> str:
    """Comparison key for free text the reader already normalised: case, ё/е, line breaks, end dots."""
    k = s.casefold()
    if "ё" in k:
        k = k.replace("ё", "е")
    if "\n" in k or "  " in k:
        k = " ".join(k.split())
    if k and k[-1] in " .;,":
        k = k.strip(" .;,")
    return k


def _broken(check: Check, detail: str) -> RulesError:
    return RulesError("rules_broken", f"Ошибка в файле правил checks.toml: правило {check.code}: {detail}.")


def _str_list(check: Check, name: str, default: Sequence[str] = ()) -> list[str]:
    v = check.params.get(name, list(default))
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _broken(check, f"параметр «{name}» должен быть списком строк")
    return v


def _param(check: Check, name: str, default: Any = None) -> Any:
    if name in check.params:
        return check.params[name]
    if default is None:
        raise _broken(check, f"нет параметра «{name}»")
    return default


def _field_param(ctx: Context, check: Check, name: str = "field") -> str:
    f = _param(check, name)
    if not isinstance(f, str) or f not in ctx.rules.columns:
        raise _broken(check, f"параметр «{name}»: поля «{f}» нет в schema.toml")
    return f


def _skip(check: Check) -> list[str]:
    return _str_list(check, "skip_statuses", _DEFAULT_SKIP)


def _groups(ctx: Context, skip: Sequence[str], field_name: str) -> list[list[int]]:
    """Indexes of active rows grouped by the comparison key of a text field (empty ones left out), in
    sheet order; computed once per run for each field."""
    ck = f"groups:{field_name}:" + "\x1f".join(skip)
    cached: list[list[int]] | None = ctx.cache.get(ck)
    if cached is not None:
        return cached
    rows = ctx.rows
    out: dict[str, list[int]] = {}
    keys = ctx._keys
    for i in ctx.active(skip):
        v = rows[i].values.get(field_name)
        if v is None:
            continue
        k = keys.get(v)
        if k is None:
            k = ctx.key(v if isinstance(v, str) else str(v))
        g = out.get(k)
        if g is None:
            out[k] = [i]
        else:
            g.append(i)
    groups = ctx.cache[ck] = list(out.values())
    return groups


# ================================================================================================
# Errors


@check_kind("required")
def check_required(ctx: Context, check: Check) -> Iterator[Finding]:
    """Every required column (schema.toml `required = true`, or params.fields) filled.

    Cells the reader already reported (error value, formula without value, merged cells) are skipped.
    """
    fields = _str_list(check, "fields", [c.field for c in ctx.rules.schema.columns if c.required])
    fields = [f for f in fields if f in ctx.register.columns]
    if not fields:
        return
    pc = ctx.register.problem_cells
    cols = ctx.register.columns
    # Columns the order itself requires (params.order_clauses: field -> clause) cite that clause; the rest
    # are the agency's rule. {why} says which.
    order_clauses = check.params.get("order_clauses") or {}
    if not isinstance(order_clauses, dict):
        raise _broken(check, "параметр «order_clauses» должен быть таблицей «поле = пункт»")
    why_order = str(check.params.get("why_order", "п. {clause} Порядка"))
    why_agency = str(check.params.get("why_agency", AGENCY_RULE))
    why: dict[str, tuple[Any, str]] = {}
    for f in fields:
        c = order_clauses.get(f)
        why[f] = (str(c), why_order.replace("{clause}", str(c))) if c else (_NO, why_agency)
    get_all = operator.itemgetter(*fields)
    for row in ctx.rows:
        vals = row.values
        try:
            got = get_all(vals)
            if len(fields) == 1:
                got = (got,)
            if None not in got:
                continue
        except KeyError:
            pass
        for f in fields:
            if vals.get(f) is None:
                if pc and f"{cols[f]}{row.number}" in pc:
                    continue
                cite, reason = why[f]
                yield ctx.finding(check, row, f, cite=cite, why=reason)


@check_kind("required_if")
def check_required_if(ctx: Context, check: Check) -> Iterator[Finding]:
    """params.field filled when params.when_field holds one of params.when_values (list-aware)."""
    target = _field_param(ctx, check)
    when = _field_param(ctx, check, "when_field")
    values = set(_str_list(check, "when_values"))
    if not ctx.has(target, when):
        return
    col = ctx.rules.columns[when]
    rows = ctx.rows
    hits: Iterable[tuple[int, str | None]]
    if col.ref_list and col.multi:
        hit_of: dict[int, str | None] = {}

        def multi_hits() -> Iterator[tuple[int, str | None]]:
            for i, mm in enumerate(ctx.scan(when).multis):
                if mm is None:
                    continue
                h = hit_of.get(id(mm), _NO)
                if h is _NO:
                    h = hit_of[id(mm)] = next((it.value for it in mm.items if it.value in values), None)
                if h is not None:
                    yield i, h

        hits = multi_hits()
    elif col.ref_list:
        hits = ((i, it.value) for i, it in enumerate(ctx.items(when)) if it is not None and it.value in values)
    else:
        hits = ((i, rows[i].values.get(when)) for i in range(len(rows)) if rows[i].values.get(when) in values)
    for i, hit in hits:
        row = rows[i]
        if hit is not None and row.values.get(target) is None and not ctx.is_problem(row, target):
            yield ctx.finding(check, row, target, detail=hit)


@check_kind("list_value")
def check_list_value(ctx: Context, check: Check) -> Iterator[Finding]:
    """A list column's value (each part, for a multi-valued column) is in its reference list."""
    f = _field_param(ctx, check)
    col = ctx.rules.columns[f]
    if not col.ref_list or not ctx.has(f):
        return
    allowed = _quote_all(ctx.rules.lists[col.ref_list].values)
    sc = ctx.scan(f)
    for i in sc.unknown:
        row = ctx.rows[i]
        mm = sc.multis[i]
        detail = _quote_all(mm.unknown) if mm is not None else f"«{_show(row.raw(f))}»"
        yield ctx.finding(check, row, f, detail=detail, expected=allowed)


@check_kind("list_spelling")
def check_list_spelling(ctx: Context, check: Check) -> Iterator[Finding]:
    """A list value that matched only after normalisation or by an alias: show the right spelling."""
    fields = _str_list(check, "fields", [c.field for c in ctx.rules.schema.columns if c.ref_list])
    for f in fields:
        col = ctx.rules.columns.get(f)
        if col is None or not col.ref_list or not ctx.has(f):
            continue
        sc = ctx.scan(f)
        for i in sc.inexact:
            mm = sc.multis[i]
            if mm is not None and mm.unknown:  # «Правильно: …» would offer a value not in the list (list_value says so)
                continue
            it = sc.items[i]
            expected = mm.corrected if mm is not None else (it.value if it is not None else "")
            yield ctx.finding(check, ctx.rows[i], f, expected=expected)


@check_kind("kind_channel")
def check_kind_channel(ctx: Context, check: Check) -> Iterator[Finding]:
    """Вид точки belongs to the channel in «Канал» (4.1 digital, 4.2 offline, extra kinds per lists.toml)."""
    if not ctx.has("kind", "channel"):
        return
    where_order = str(check.params.get("where_order", "п. {clause} Порядка"))
    where_extra = str(check.params.get("where_extra", "справочник видов точек"))
    for i, (k, c) in enumerate(zip(ctx.items("kind"), ctx.items("channel"), strict=True)):
        if k is None or c is None or not k.channel or c.value == k.channel:
            continue
        in_order = bool(k.clause) and "." in (k.clause or "")
        where = where_order.format(clause=k.clause) if in_order else where_extra
        yield ctx.finding(check, ctx.rows[i], "kind", expected=k.channel, channel=c.value, where=where)


@check_kind("duplicate")
def check_duplicate(ctx: Context, check: Check) -> Iterator[Finding]:
    """Two active rows with the same ``within`` (process) and the same ``by`` (kind or name): both rows —
    except an included row whose only duplicate is a draft or a row under review (the finding is the draft's)."""
    by = _field_param(ctx, check, "by")
    within = _field_param(ctx, check, "within")
    if not ctx.has(by, within):
        return
    rows = ctx.rows
    by_col = ctx.rules.columns[by]
    by_items = ctx.items(by) if by_col.ref_list and not by_col.multi else None
    statuses = ctx.items("status") if ctx.has("status") else None
    for group in _groups(ctx, _skip(check), within):
        if len(group) < 2:
            continue
        seen: dict[str, list[int]] = {}
        for i in group:
            v = rows[i].values.get(by)
            if v is None:
                continue
            it = by_items[i] if by_items is not None else None
            k = "\x00" + it.value if it is not None else _key(v if isinstance(v, str) else str(v))
            g = seen.get(k)
            if g is None:
                seen[k] = [i]
            else:
                g.append(i)
        if len(seen) == len(group):
            continue
        for dup in seen.values():
            if len(dup) < 2:
                continue
            numbers = [rows[i].number for i in dup]
            # An included row duplicated only by a draft (or a row under review) is not at fault: the finding
            # sits on the draft row, so a draft never holds back an approval or a placement (issue 11 A1).
            included = [i for i in dup if statuses is not None and (st := statuses[i]) is not None
                        and st.value == "включено"]
            for i in dup:
                if len(included) == 1 and i in included:
                    continue
                row = rows[i]
                yield ctx.finding(check, row, by, other=_others(numbers, row.number),
                                  process=row.values.get(within) or "")


@check_kind("area_key")
def check_area_key(ctx: Context, check: Check) -> Iterator[Finding]:
    """Every area has a key touchpoint among its active rows; the finding sits on the area's first row."""
    if not ctx.has("area", "key"):
        return
    key_values = set(_str_list(check, "key_values", ["да"]))
    keys = ctx.items("key")
    # 3.2: written interaction is a key touchpoint, whatever «Ключевая» says (written-not-key tells the clerk).
    kinds = ctx.items("kind") if check.params.get("written_is_key") and ctx.has("kind") else None
    rows = ctx.rows
    for group in _groups(ctx, _skip(check), "area"):
        unknown = False
        for i in group:
            it = keys[i]
            if it is not None and it.value in key_values:
                break
            if kinds is not None and (k := kinds[i]) is not None and k.written:
                break
            if it is None and (rows[i].values.get("key") is not None or ctx.is_problem(rows[i], "key")):
                unknown = True  # a key cell we cannot read: its own finding says so
        else:
            if not unknown:
                yield ctx.finding(check, rows[group[0]], "area", count=len(group),
                                  detail=f"стр. {_rows_list([rows[i].number for i in group])}")


# Basis: dates as «26.02.2024» or «26 февраля 2024 г.», numbers as «№ 25-о». Bases vary from row to
# row (each has its own date and number), so these run once per distinct text: the common forms are
# found by patterns that start with a literal (fast in `re`), the general ones only when those fail.
_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря")
_DATE_TAIL = re.compile(r"\.(\d{1,2})\.(\d{4})(?!\d)")  # «.02.2024» after the day's digits
_DATE_NUM = re.compile(r"(?<!\d)(\d{1,2})\s?[./]\s?(\d{1,2})\s?[./]\s?(\d{4})(?!\d)")
_DATE_WORDS = re.compile(r"(?<!\d)(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})(?!\d)", re.IGNORECASE)
_NUMBER_SIGN = re.compile(r"№\s*\S")
_NUMBER_N = re.compile(r"(?<![A-Za-zА-Яа-яЁё])N[oо]?\.?\s*\d")


def _real_date(y: int, m: int, d: int) -> bool:
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def has_date(text: str) -> bool:
    """The text holds a real calendar date, as «26.02.2024» or «26 февраля 2024 г.» (a four-digit year, so
    that clause numbers like «п. 5.3.14» are not taken for dates)."""
    for m in _DATE_TAIL.finditer(text):
        p = m.start()
        q = p
        while q > 0 and p - q < 2 and text[q - 1].isdigit():
            q -= 1
        if q < p and (q == 0 or not text[q - 1].isdigit()) and \
                _real_date(int(m.group(2)), int(m.group(1)), int(text[q:p])):
            return True
    for m in _DATE_NUM.finditer(text):
        if _real_date(int(m.group(3)), int(m.group(2)), int(m.group(1))):
            return True
    for m in _DATE_WORDS.finditer(text):
        if _real_date(int(m.group(3)), _MONTHS.index(m.group(2).lower()) + 1, int(m.group(1))):
            return True
    return False


def has_number(text: str) -> bool:
    """The text holds a document number: «№ 25-о» (or «N 25»)."""
    if "№" in text and _NUMBER_SIGN.search(text) is not None:
        return True
    return "N" in text and _NUMBER_N.search(text) is not None


@functools.lru_cache(maxsize=64)
def _stems_re(stems: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(s.casefold().replace("ё", "е")) for s in sorted(stems, key=len, reverse=True))
    return re.compile(r"(?<![0-9a-zа-я])(?:" + (alts or r"(?!)") + ")")


def names_one_of(text: str, stems: Sequence[str]) -> bool:
    """Some word of the text starts with one of the stems (case- and ё-insensitive)."""
    return _stems_re(tuple(stems)).search(text.casefold().replace("ё", "е")) is not None


@check_kind("basis")
def check_basis(ctx: Context, check: Check) -> Iterator[Finding]:
    """For rows whose basis kind is params.basis_kind: the basis names it (words), has a date, a number."""
    if not ctx.has("basis", "basis_kind"):
        return
    kind = _param(check, "basis_kind")
    need = _str_list(check, "need", ["name", "date"])
    stems = [s.casefold().replace("ё", "е") for s in _str_list(check, "words", [])]
    missing_text = _param(check, "missing", {})
    if not isinstance(missing_text, dict):
        raise _broken(check, "параметр «missing» должен быть таблицей")
    joiner = str(check.params.get("joiner", "; "))
    unless = _str_list(check, "unless_words", [])
    verdicts: dict[str, str] = {}
    rows = ctx.rows
    for i, it in enumerate(ctx.items("basis_kind")):
        if it is None or it.value != kind:
            continue
        text = rows[i].values.get("basis")
        if text is None:
            continue
        text = text if isinstance(text, str) else str(text)
        verdict = verdicts.get(text)
        if verdict is None:
            missing: list[str] = []
            for what in (need if not (unless and names_one_of(text, unless)) else ()):
                ok = (names_one_of(text, stems) if what == "name" else has_date(text) if what == "date"
                      else has_number(text) if what == "number" else True)
                if not ok:
                    missing.append(str(missing_text.get(what, what)))
            verdict = verdicts[text] = joiner.join(missing)
        if verdict:
            yield ctx.finding(check, rows[i], "basis", detail=verdict)


@check_kind("basis_names_document")
def check_basis_names_document(ctx: Context, check: Check) -> Iterator[Finding]:
    """A basis of kind params.basis_kind (распорядительное действие, 2.4) that names a document (2.3)."""
    if not ctx.has("basis", "basis_kind"):
        return
    kind = _param(check, "basis_kind")
    stems = _str_list(check, "words", [])
    rx = _stems_re(tuple(s.casefold().replace("ё", "е") for s in stems))
    rows = ctx.rows
    named: dict[str, str] = {}
    for i, it in enumerate(ctx.items("basis_kind")):
        if it is None or it.value != kind:
            continue
        text = rows[i].values.get("basis")
        if text is None:
            continue
        text = text if isinstance(text, str) else str(text)
        word = named.get(text)
        if word is None:
            folded = text.casefold().replace("ё", "е")
            m = rx.search(folded)
            if m is None:
                word = ""
            else:
                end = m.end()
                while end < len(folded) and folded[end].isalpha():
                    end += 1
                word = text[m.start():end]
            named[text] = word
        if word:
            yield ctx.finding(check, rows[i], "basis", detail=f"«{word}»")


@check_kind("info_fields")
def check_info_fields(ctx: Context, check: Check) -> Iterator[Finding]:
    """The «Сведения» fields params.fields (keys of schema [info]) are filled: one finding naming every
    empty one (a missing sheet is the reader's info-sheet-missing)."""
    reg = ctx.register
    if reg.info_sheet is None:
        return
    labels = {f.key: f.label for f in ctx.rules.schema.info.fields}
    wanted = _str_list(check, "fields", list(labels))
    empty = [labels.get(k, k) for k in wanted if not (reg.info.get(k) or "").strip()]
    if not empty:
        return
    f = ctx.finding(check, None, None, value="", detail=_quote_all(empty), sheet=reg.info_sheet)
    f.sheet = reg.info_sheet
    yield f


@check_kind("code_unique")
def check_code_unique(ctx: Context, check: Check) -> Iterator[Finding]:
    """Код unique across the sheet (all rows, «исключено» included: a code is never reused)."""
    if not ctx.has("code"):
        return
    seen: dict[str, int] = {}
    dups: dict[str, list[Row]] = {}
    rows = ctx.rows
    for i, row in enumerate(rows):
        v = row.values.get("code")
        if v is None:
            continue
        k = (v if isinstance(v, str) else str(v)).casefold()
        j = seen.setdefault(k, i)
        if j != i:
            g = dups.get(k)
            if g is None:
                dups[k] = [rows[j], row]
            else:
                g.append(row)
    for group in dups.values():
        numbers = [r.number for r in group]
        for row in group:
            yield ctx.finding(check, row, "code", other=_others(numbers, row.number))


@check_kind("code_pattern")
def check_code_pattern(ctx: Context, check: Check) -> Iterator[Finding]:
    """Код matches limits.code_pattern of rules/schema.toml."""
    if not ctx.has("code"):
        return
    rx = re.compile(str(check.params.get("pattern") or ctx.rules.schema.limits.code_pattern))
    fullmatch = rx.fullmatch
    for row in ctx.rows:
        v = row.values.get("code")
        if v is not None and fullmatch(v if isinstance(v, str) else str(v)) is None:
            yield ctx.finding(check, row, "code")


def _date_fields(ctx: Context, check: Check) -> list[str]:
    fields = _str_list(check, "fields", [c.field for c in ctx.rules.schema.columns if c.type == "date"])
    return [f for f in fields if f in ctx.register.columns]


@check_kind("date_valid")
def check_date_valid(ctx: Context, check: Check) -> Iterator[Finding]:
    """A date column holds a real date (not text, not a number shown as an early-1900s date)."""
    earliest = check.params.get("earliest")
    if isinstance(earliest, dt.datetime):
        earliest = earliest.date()
    if not isinstance(earliest, dt.date):
        earliest = dt.date.min
    too_early = str(check.params.get("too_early", ""))
    date = dt.date
    for f in _date_fields(ctx, check):
        for row in ctx.rows:
            v = row.values.get(f)
            if v is None or (isinstance(v, date) and v >= earliest):
                continue
            detail = too_early.format(earliest=_fmt_date(earliest)) if isinstance(v, date) else ""
            yield ctx.finding(check, row, f, detail=detail)


@check_kind("date_future")
def check_date_future(ctx: Context, check: Check) -> Iterator[Finding]:
    """A date column is not after today."""
    today = ctx.today
    date = dt.date
    for f in _date_fields(ctx, check):
        for row in ctx.rows:
            v = row.values.get(f)
            if isinstance(v, date) and v > today:
                yield ctx.finding(check, row, f, value=_fmt_date(v))


# ================================================================================================
# Warnings


@check_kind("process_channels")
def check_process_channels(ctx: Context, check: Check) -> Iterator[Finding]:
    """A process whose active rows are all on channel params.only (none on params.missing)."""
    if not ctx.has("process"):
        return
    only = str(_param(check, "only"))
    channels = ctx.channels()
    rows = ctx.rows
    for group in _groups(ctx, _skip(check), "process"):
        first = channels[group[0]]
        if first != only or any(channels[i] != only for i in group):
            continue
        kinds = list(dict.fromkeys(rows[i].text("kind") for i in group if rows[i].values.get("kind")))
        yield ctx.finding(check, rows[group[0]], "process", detail=", ".join(kinds) or f"стр. {rows[group[0]].number}")


@check_kind("offline_accessibility")
def check_offline_accessibility(ctx: Context, check: Check) -> Iterator[Finding]:
    """An active offline touchpoint with «Доступность» empty."""
    f = _field_param(ctx, check)
    if not ctx.has(f):
        return
    channel = str(_param(check, "channel"))
    channels = ctx.channels()
    rows = ctx.rows
    for i in ctx.active(_skip(check)):
        if channels[i] == channel and rows[i].values.get(f) is None and not ctx.is_problem(rows[i], f):
            yield ctx.finding(check, rows[i], f)


@check_kind("written_features")
def check_written_features(ctx: Context, check: Check) -> Iterator[Finding]:
    """A written kind (lists.toml `written = true`) lacking any of the 3.2.1 functions; names the missing."""
    f = _field_param(ctx, check)
    col = ctx.rules.columns[f]
    if not col.ref_list or not ctx.has("kind"):
        return
    every = [it.value for it in ctx.rules.lists[col.ref_list].items if not it.part_of]
    conditions_only = str(check.params.get("conditions_only", ""))
    present = ctx.has(f)
    kinds = ctx.items("kind")
    multis = ctx.scan(f).multis if present else None
    rows = ctx.rows
    missing_of: dict[int, str] = {}
    for i in ctx.active(_skip(check)):
        k = kinds[i]
        if k is None or not k.written:
            continue
        mm = multis[i] if multis is not None else None
        if mm is None and present and ctx.is_problem(rows[i], f):
            continue
        key = id(mm)
        detail = missing_of.get(key)
        if detail is None:
            # A condition of a duty (part_of) never counts as the duty itself.
            have = {it.value for it in mm.items if not it.part_of} if mm is not None else set()
            absent = [x for x in every if x not in have]
            detail = _quote_all(absent)
            conds = [it.value for it in mm.items if it.part_of in absent] if mm is not None else []
            if conds and conditions_only:
                detail += conditions_only.replace("{conditions}", _quote_all(conds))
            missing_of[key] = detail
        if detail:
            row = rows[i]
            if present:
                yield ctx.finding(check, row, f, detail=detail, kind=k.value)
            else:
                yield ctx.finding(check, row, "kind", value="", detail=detail, kind=k.value, header=col.header)


@check_kind("written_key")
def check_written_key(ctx: Context, check: Check) -> Iterator[Finding]:
    """A written kind (3.2.1) not marked key: 3.2 names written interaction among the key touchpoints."""
    if not ctx.has("kind", "key"):
        return
    key_values = set(_str_list(check, "key_values", ["да"]))
    kinds = ctx.items("kind")
    keys = ctx.items("key")
    rows = ctx.rows
    for i in ctx.active(_skip(check)):
        k = kinds[i]
        if k is None or not k.written:
            continue
        it = keys[i]
        if it is not None and it.value not in key_values:  # an unreadable key cell has its own finding
            yield ctx.finding(check, rows[i], "key", kind=k.value)


@check_kind("review_overdue")
def check_review_overdue(ctx: Context, check: Check) -> Iterator[Finding]:
    """Rows still «черновик»/«на проверке» more than N working days after their Дата изменения.

    Working days come from rules/calendar.toml; when it does not cover a year involved, the period is
    counted in calendar days and the message says so.
    """
    if not ctx.has("status", "changed_on"):
        return
    statuses = set(_str_list(check, "statuses", ["на проверке"]))
    n = int(_param(check, "review_days", 10))
    unit = str(check.params.get("unit", "рабочих дней"))
    unit_calendar = str(check.params.get("unit_calendar", "календарных дней"))
    today = ctx.today
    cal: Any = None
    cal_loaded = False
    deadlines: dict[dt.date, tuple[dt.date, str]] = {}
    rows = ctx.rows
    for i, st in enumerate(ctx.items("status")):
        if st is None or st.value not in statuses:
            continue
        row = rows[i]
        changed = row.values.get("changed_on")
        if not isinstance(changed, dt.date):
            continue
        if isinstance(changed, dt.datetime):
            changed = changed.date()
        if changed >= today:
            continue
        got = deadlines.get(changed)
        if got is None:
            if not cal_loaded:
                cal_loaded = True
                cal = _load_calendar(ctx)
            got = deadlines[changed] = _review_deadline(cal, changed, today, n, unit, unit_calendar)
        deadline, unit_text = got
        if today > deadline:
            yield ctx.finding(check, row, "status", changed=_fmt_date(changed), deadline=_fmt_date(deadline),
                              unit=unit_text, review_days=n)


def _load_calendar(ctx: Context) -> Any:
    from .workdays import CalendarError, WorkCalendar

    try:
        return WorkCalendar.load(ctx.rules.directory)
    except CalendarError:  # missing or broken file: count calendar days and say so
        return None


def _review_deadline(cal: Any, changed: dt.date, today: dt.date, n: int, unit: str,
                     unit_calendar: str) -> tuple[dt.date, str]:
    if cal is not None:
        from .workdays import CalendarError

        try:
            return cal.add_working_days(changed, n), unit
        except CalendarError:
            pass
    known = set(cal.years) if cal is not None else set()
    missing = [y for y in range(changed.year, max(today.year, changed.year) + 1) if y not in known]
    year = missing[0] if missing else changed.year
    try:
        text = unit_calendar.format(year=year)
    except (KeyError, IndexError, ValueError):
        text = unit_calendar
    return changed + dt.timedelta(days=n), text


@check_kind("same_person")
def check_same_person(ctx: Context, check: Check) -> Iterator[Finding]:
    """params.field (Проверил) is the same person as params.other (Ответственный)."""
    f = _field_param(ctx, check)
    other = _field_param(ctx, check, "other")
    if not ctx.has(f, other):
        return
    key = ctx.key
    for row in ctx.rows:
        vals = row.values
        a = vals.get(f)
        if a is None:
            continue
        b = vals.get(other)
        if b is None:
            continue
        # _key only drops case, ё, repeated spaces and end punctuation: texts of very different
        # lengths cannot match, and most pairs are told apart without building keys.
        if a == b or (isinstance(a, str) and isinstance(b, str) and abs(len(a) - len(b)) <= 3
                      and key(a) == key(b)):
            yield ctx.finding(check, row, f)
