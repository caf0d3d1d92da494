"""What a check function gets (:class:`Context`: the register, the rules, today, per-run caches of
list matches and groups) and the helpers the check kinds share (parameters, messages, row groups)."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import weakref
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Any, NamedTuple, cast, overload

from ..models import Finding, Register, Row, RulesError
from ..rules import Check, ListItem, ListMatch, Rules
from ..text import ru_date, ru_datetime, split_multi

_DEFAULT_SKIP = ("исключено",)
_NO: Any = object()


class _Fields(dict[str, Any]):
    """Template fields; an unknown {name} stays in the text as written (tests look for leftovers)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class MultiMatch(NamedTuple):
    """A multi-valued cell matched against a list (immutable; a named tuple, since a register has tens of
    thousands of distinct multi-valued cells and a frozen dataclass costs ~4× as much to build)."""

    # The matched items in the cell's order, without repeats; of a plain cell (:func:`_plain_multi`: every part an
    # exact spelling), the list's exact spellings, its items being its parts looked up there when asked (:attr:`items`:
    # most cells are never asked, and a tuple per cell was a quarter of the cost of matching it).
    matched: tuple[ListItem, ...] | dict[str, ListItem]
    unknown: tuple[str, ...]  # parts not in the list
    inexact: bool  # some part matched only after normalisation / by alias
    corrected: str  # the cell rewritten with canonical spellings
    names: frozenset[str]  # the values of ``items``

    @property
    def items(self) -> tuple[ListItem, ...]:
        """The matched items, in the cell's order, without repeats."""
        m = self.matched
        if isinstance(m, tuple):
            return m
        return tuple(map(m.__getitem__, self.corrected.split("; ")))  # a plain cell: ``corrected`` is the cell


# A list's exact spellings (items by spelling), those a part of a split cell can be (each mapped to itself), and
# one frozenset object for each set of names the plain multi-valued cells have named.
_Exact = tuple[dict[str, ListItem], dict[str, str], dict[frozenset[str], frozenset[str]]]


@dataclass
class ListScan:
    """One list column matched row by row (aligned with ``register.rows``), computed once per run."""

    items: Sequence[ListItem | None]  # single-valued: the matched item (exact or loose); None if empty/unknown
    multis: Sequence[MultiMatch | None]  # multi-valued: the cell's match; None if empty
    unknown: list[int]  # row indexes with a value (or a part) not in the list
    inexact: list[int]  # row indexes with a value that matched only after normalisation / by alias
    # Each distinct value of the column: its item (single-valued; None if not in the list) or its MultiMatch.
    by_value: dict[Any, Any] = field(default_factory=dict)


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
    _cols: dict[str, list[Any]] = field(default_factory=dict)
    _exact: dict[str, _Exact] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # What depends only on the rules and a cell's text (list matches, split multi-valued cells, comparison
        # keys) is shared by every run with the same Rules object: a region's agencies of one profile repeat
        # most of each other's values. Each table is bounded (see :meth:`release`).
        shared = _shared(self.rules)
        self._match, self._multi, self._keys, self._exact = shared.match, shared.multi, shared.keys, shared.exact

    def release(self) -> None:
        """End of the run: a shared table grown past its bound is emptied (one large register's tens of thousands
        of distinct cells are not kept for the next run)."""
        _trim(self._match)
        _trim(self._multi)
        _trim({name: sets for name, (_, _, sets) in self._exact.items()})
        if len(self._keys) > _SHARED_MAX:
            self._keys.clear()

    @property
    def rows(self) -> Sequence[Row]:
        """The data rows, read-only: ``rows[i]`` builds row i alone while the register is still the reader's columns
        (the checks take values from :meth:`column` and a Row only for a row that has a finding)."""
        view = self.cache.get("rows")
        if view is None:
            view = self.cache["rows"] = _Rows(self.register)
        return view

    def column(self, field_name: str) -> list[Any]:
        """Every row's value of ``field_name`` (None where empty or absent), aligned with ``rows``, shared by every
        check (read-only): the reader's own column, or pulled once per run from the Row objects (a pass over
        100,000 Row objects costs more than most checks' work on the values)."""
        col = self._cols.get(field_name)
        if col is None:
            col = self.register.column(field_name)
            if col is not None:
                self._cols[field_name] = col
                return col
            fields = list(self.register.columns)
            if not self._cols and field_name in self.register.columns and len(fields) > 1:
                self._pull(fields)
                col = self._cols.get(field_name)
            if col is None:
                col = self._cols[field_name] = [r.values.get(field_name) for r in self.register.rows]
        return col

    def _pull(self, fields: list[str]) -> None:
        """Every column of the sheet at once: the checks use nearly all of them, and one visit to each row's
        values (then passes over compact tuples) costs about half as much as a visit per column."""
        try:
            cells = list(map(operator.itemgetter(*fields), [r.values for r in self.register.rows]))
        except KeyError:  # a row without some field: column by column
            return
        for j, f in enumerate(fields):
            self._cols[f] = list(map(operator.itemgetter(j), cells))

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

    def _exact_parts(self, list_name: str) -> _Exact:
        """The list's exact spellings, and those of them a part of a split cell can be (not empty, no «;», no
        line break, no surrounding spaces)."""
        got = self._exact.get(list_name)
        if got is None:
            exact = self.rules.exact_index(list_name)
            # Each such spelling mapped to itself: a cell's part is replaced by the list's own string object.
            whole = {v: v for v in exact if v and v == v.strip() and ";" not in v and "\n" not in v}
            got = self._exact[list_name] = (exact, whole, {})
        return got

    def multi(self, list_name: str, value: str) -> MultiMatch:
        """A multi-valued cell split on «;»/line breaks and matched part by part (cached)."""
        cache = self._multi.get(list_name)
        if cache is None:
            cache = self._multi[list_name] = {}
        mm = cache.get(value)
        if mm is None:
            mm = cache[value] = self._multi_match(list_name, value)
        return mm

    def _multi_match(self, list_name: str, value: str) -> MultiMatch:
        exact, whole, sets = self._exact_parts(list_name)
        plain = _plain_multi(value, exact, whole, sets)
        if plain is not None:
            return plain
        parts = split_multi(value)
        if whole.keys() >= set(parts):  # split_multi's parts are stripped, without «;» or line breaks
            uniq = list(dict.fromkeys(parts))
            return MultiMatch(tuple(map(exact.__getitem__, uniq)), (), False, "; ".join(uniq), frozenset(uniq))
        items: dict[str, ListItem] = {}
        unknown: list[str] = []
        inexact = False
        shown: list[str] = []
        for part in parts:
            m = self.match(list_name, part)
            if m is None:
                unknown.append(part)
                shown.append(part)
                continue
            inexact = inexact or not m.exact
            if m.item.value not in items:
                items[m.item.value] = m.item
                shown.append(m.item.value)
        return MultiMatch(tuple(items.values()), tuple(unknown), inexact, "; ".join(shown), frozenset(items))

    def scan(self, field_name: str) -> ListScan:
        """The list column ``field_name`` matched on every row (once per run): each distinct value is matched
        once, and the row-aligned lists are built from those matches."""
        sc = self._scans.get(field_name)
        if sc is not None:
            return sc
        col = self.rules.columns.get(field_name)
        n = len(self.rows)
        items: Sequence[ListItem | None] = [None] * n
        multis: Sequence[MultiMatch | None] = [None] * n
        unknown: list[int] = []
        inexact: list[int] = []
        by_value: dict[Any, Any] = {}
        if col is not None and col.ref_list and field_name in self.register.columns:
            lname = col.ref_list
            vals = self.column(field_name)
            # Keyed by the cell's value, as the row loop was: of equal values (1 and 1.0) the first is matched.
            distinct = list(self.distinct(field_name))
            if None in self.distinct(field_name):
                distinct.remove(None)
            bad: set[Any]
            loose: set[Any]
            if col.multi:
                exact, whole, sets = self._exact_parts(lname)
                cache = self._multi.setdefault(lname, {})
                # Each distinct cell's match from the shared table, the new ones matched (plain ones in C but for the
                # call), all with maps in C: a region workbook has a thousand distinct cells, most new to the table.
                texts = distinct if {*map(type, distinct)} <= _STR else [v if isinstance(v, str) else str(v)
                                                                          for v in distinct]
                found = list(map(cache.get, texts))
                new = positions(found, NONE)
                if new:
                    fresh = list(map(texts.__getitem__, new))
                    made = list(map(_plain_multi, fresh, repeat(exact), repeat(whole), repeat(sets)))
                    for k in positions(made, NONE):
                        made[k] = self._multi_match(lname, fresh[k])
                    cache.update(zip(fresh, cast("list[MultiMatch]", made), strict=True))
                got = list(map(cache.__getitem__, texts)) if new else cast("list[MultiMatch]", found)
                mm_of: dict[Any, MultiMatch] = dict(zip(distinct, got, strict=True))
                # values with an unknown or inexact part (never a plain cell)
                odd = list(compress(distinct, map(operator.or_, map(bool, map(_UNKNOWN, got)), map(_INEXACT, got))))
                by_value = mm_of
                multis = _ByRow(vals, mm_of)
                bad = {v for v in odd if mm_of[v].unknown}
                loose = {v for v in odd if mm_of[v].inexact}
            else:
                m_of = {v: self.match(lname, v if isinstance(v, str) else str(v)) for v in distinct}
                item_of = {v: m.item for v, m in m_of.items() if m is not None}
                items = _ByRow(vals, item_of)
                by_value = {v: m.item if m is not None else None for v, m in m_of.items()}
                bad = {v for v, m in m_of.items() if m is None}
                loose = {v for v, m in m_of.items() if m is not None and not m.exact}
            if bad or loose:  # the rows of either (few) in one pass, then told apart
                odd_rows = positions(vals, bad | loose)
                unknown = odd_rows if not loose else list(compress(odd_rows, map(bad.__contains__,
                                                                                 map(vals.__getitem__, odd_rows))))
                inexact = odd_rows if not bad else list(compress(odd_rows, map(loose.__contains__,
                                                                               map(vals.__getitem__, odd_rows))))
        sc = self._scans[field_name] = ListScan(items, multis, unknown, inexact, by_value)
        return sc

    def items(self, field_name: str) -> Sequence[ListItem | None]:
        """Matched list item of a single-valued list column, row by row."""
        return self.scan(field_name).items

    def where_item(self, field_name: str, pred: Callable[[ListItem], bool]) -> list[int]:
        """Indexes of the rows whose single-valued list cell matches an item for which ``pred`` holds, in sheet
        order (``pred`` runs once per distinct value)."""
        by_value = self.scan(field_name).by_value
        return positions(self.column(field_name), {v for v, it in by_value.items() if it is not None and pred(it)})

    def flags(self, field_name: str, pred: Callable[[ListItem], bool]) -> list[int]:
        """1 on each row whose single-valued list cell matches an item for which ``pred`` holds, else 0
        (``pred`` runs once per distinct value; rows are combined with ``map(operator.mul, …)``, in C)."""
        by_value = self.scan(field_name).by_value
        return marks(self.column(field_name), [v for v, it in by_value.items() if it is not None and pred(it)])

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

    def distinct(self, field_name: str) -> dict[Any, None]:
        """The column's distinct values (None among them where a cell is empty), in the order of their first row;
        once per run, shared by the checks that work once per distinct value."""
        key = "distinct:" + field_name
        got: dict[Any, None] | None = self.cache.get(key)
        if got is None:
            got = self.cache[key] = dict.fromkeys(self.column(field_name))
        return got

    def empty(self, field_name: str) -> list[int]:
        """Indexes, in order, of the rows whose ``field_name`` is empty (None); once per run, shared by the
        checks of empty cells (most columns have few or none)."""
        key = "empty:" + field_name
        got: list[int] | None = self.cache.get(key)
        if got is None:
            col = self.column(field_name)
            seen: dict[Any, None] | None = self.cache.get("distinct:" + field_name)
            # all(): every cell true (a text is never "", the reader makes that None), told without comparing each
            # cell with None (~4× as fast as the list's search, which stops at the first None).
            has_none = None in seen if seen is not None else not all(col) and None in col
            got = self.cache[key] = positions(col, NONE) if has_none else []
        return got

    def with_value(self, field_name: str, values: Collection[str]) -> list[int]:
        """Indexes, in order, of the rows whose single-valued list cell matches an item whose value is one of
        ``values`` (exactly or loosely); once per run for each field and set of values."""
        key = "with:" + field_name + "\x1f" + "\x1f".join(sorted(values))
        got: list[int] | None = self.cache.get(key)
        if got is None:
            wanted = set(values)
            got = self.cache[key] = self.where_item(field_name, lambda it: it.value in wanted)
        return got

    def written(self) -> list[int]:
        """Indexes, in order, of the rows of a written kind (lists.toml ``written = true``); once per run."""
        got: list[int] | None = self.cache.get("written")
        if got is None:
            got = self.cache["written"] = self.where_item("kind", lambda it: it.written) if "kind" in \
                self.register.columns else []
        return got

    def skipped(self, skip_statuses: Sequence[str] | None = None) -> frozenset[int]:
        """Indexes of rows whose status is one of ``skip_statuses`` (default «исключено»)."""
        skip = tuple(skip_statuses) if skip_statuses is not None else _DEFAULT_SKIP
        key = "skipped:" + "\x1f".join(skip)
        got: frozenset[int] | None = self.cache.get(key)
        if got is None:
            if not skip or "status" not in self.register.columns:
                got = frozenset()
            else:
                got = frozenset(self.with_value("status", skip))
            self.cache[key] = got
        return got

    def active(self, skip_statuses: Sequence[str] | None = None) -> list[int]:
        """Indexes of rows whose status is not one of ``skip_statuses`` (default «исключено»)."""
        skip = tuple(skip_statuses) if skip_statuses is not None else _DEFAULT_SKIP
        key = "active:" + "\x1f".join(skip)
        idx: list[int] | None = self.cache.get(key)
        if idx is None:
            idx = []
            start = 0
            for i in sorted(self.skipped(skip)):  # the runs between skipped rows, added in C
                idx.extend(range(start, i))
                start = i + 1
            idx.extend(range(start, len(self.rows)))
            self.cache[key] = idx
        return idx

    def channels(self) -> list[str | None]:
        """Each row's channel: the kind's channel when the kind is known (a «Канал» that disagrees is
        the kind-channel finding, not a reason for more), else «Канал» when it is a list value."""
        ch: list[str | None] | None = self.cache.get("channels")
        if ch is None:
            # The kind's channel row by row (in C), then «Канал» where the kind gives none.
            of_kind = {v: k.channel for v, k in self.scan("kind").by_value.items() if k is not None and k.channel}
            ch = list(map(of_kind.get, self.column("kind")))
            gaps = positions(ch, NONE)
            if gaps:
                chans = self.items("channel")
                for i in gaps:
                    c = chans[i]
                    ch[i] = c.value if c is not None else None
            self.cache["channels"] = ch
        return ch

    def key(self, s: str) -> str:
        """Comparison key of a text that repeats across rows (process, area, person), cached."""
        k = self._keys.get(s)
        if k is None:
            k = self._keys[s] = _key(s)
        return k


class _ByRow(Sequence[Any]):
    """Each row's entry of a per-value table, looked up from the row's cell when asked (``of.get(column[i])``): the
    checks ask for the rows with a finding, and a list of every row's would cost a pass over the column."""

    __slots__ = ("_col", "_get")

    def __init__(self, col: list[Any], of: dict[Any, Any]) -> None:
        self._col = col
        self._get = of.get

    def __len__(self) -> int:
        return len(self._col)

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return list(map(self._get, self._col[i]))
        return self._get(self._col[i])


class _Rows(Sequence[Row]):
    """The register's rows as a read-only sequence: an item is built alone (Register.row), iteration builds all."""

    def __init__(self, register: Register) -> None:
        self._register = register

    def __len__(self) -> int:
        return self._register.n_rows

    @overload
    def __getitem__(self, i: int) -> Row: ...

    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...

    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return self._register.rows[i]
        return self._register.row(i)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._register.rows)


# How many texts a shared table (per list, or of comparison keys) keeps between runs.
_SHARED_MAX = 20_000


class _Shared(NamedTuple):
    match: dict[str, dict[str, ListMatch | None]]
    multi: dict[str, dict[str, MultiMatch]]
    keys: dict[str, str]
    exact: dict[str, _Exact]


_SHARED: weakref.WeakKeyDictionary[Rules, _Shared] = weakref.WeakKeyDictionary()


def _shared(rules: Rules) -> _Shared:
    got = _SHARED.get(rules)
    if got is None:
        got = _SHARED[rules] = _Shared({}, {}, {}, {})
    return got


def _trim(tables: dict[str, dict[Any, Any]]) -> None:
    for table in tables.values():
        if len(table) > _SHARED_MAX:
            table.clear()


NONE = (None,)
ONE = (1,)
TRUE = (True,)


_new_tuple = tuple.__new__
_STR = {str}
_UNKNOWN = operator.itemgetter(1)  # MultiMatch.unknown
_INEXACT = operator.itemgetter(2)  # MultiMatch.inexact


def _plain_multi(value: str, exact: dict[str, ListItem], whole: dict[str, str],
                 sets: dict[frozenset[str], frozenset[str]]) -> MultiMatch | None:
    """The match of a plain multi-valued cell — «a; b; c», every part an exact spelling, none repeated — or
    None. Splitting such a cell on «; » gives the very parts split_multi gives (a list spelling has no «;», no
    line break and no surrounding spaces), and the corrected text is the cell itself. Registers hold tens of
    thousands of distinct such cells: this runs in C but for the call (no NamedTuple __new__ frame)."""
    parts = value.split("; ")
    try:
        names = frozenset(map(whole.__getitem__, parts))  # the list's strings: the cell's parts are not kept
    except KeyError:  # a part that is not an exact spelling
        return None
    if len(names) != len(parts):  # a part repeated
        return None
    names = sets.setdefault(names, names)  # one object for each set of names (cells repeat a few sets in any order)
    return _new_tuple(MultiMatch, (exact, (), False, value, names))


def positions(values: list[Any], wanted: Collection[Any]) -> list[int]:
    """Indexes, in order, of the items of ``values`` equal to one of ``wanted`` (``NONE``: the empty cells;
    ``ONE``: the rows flagged 1 by ``marks``), found in one pass in C."""
    if not wanted:
        return []
    if wanted is NONE:  # identity: the values themselves are not even looked at
        chosen: Iterable[Any] = map(operator.is_, values, repeat(None))
    else:
        chosen = map((wanted if isinstance(wanted, (set, frozenset, dict)) else set(wanted)).__contains__, values)
    return list(compress(range(len(values)), chosen))


def marks(values: list[Any], wanted: Collection[Any]) -> list[int]:
    """1 where the value is one of ``wanted`` (None may be wanted), else 0: rows are combined with
    ``map(operator.mul, …)`` and picked with ``positions(…, ONE)``, all in C."""
    flag = dict.fromkeys(wanted, 1)
    return list(map(flag.get, values, repeat(0)))


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
    col = ctx.column(field_name)
    key = ctx.key
    # A value's key once per distinct value (a number or a date: the key of its text), then each active row's
    # key, and the rows appended to their key's group, all in C; the groups come in the order of their first row.
    distinct = ctx.distinct(field_name)
    key_of = {v: key(v) for v in distinct if isinstance(v, str)}
    active = ctx.active(skip)
    vals: Iterable[Any] = col if len(active) == len(col) else map(col.__getitem__, active)
    row_keys: list[str | None]
    if len(key_of) + (None in distinct) == len(distinct):  # texts only
        row_keys = list(map(key_of.get, vals))  # None: an empty cell
    else:  # a number or a date among them: the key of its text, row by row (1 and 1.0 are different texts)
        row_keys = [key_of[v] if isinstance(v, str) else None if v is None else key(str(v)) for v in vals]
    out: dict[str | None, list[int]] = {k: [] for k in dict.fromkeys(row_keys)}
    deque(map(list.append, map(out.__getitem__, row_keys), active), maxlen=0)
    out.pop(None, None)
    groups = ctx.cache[ck] = list(out.values())
    return groups
