"""What a check function gets (:class:`Context`: the register, the rules, today, per-run caches of
list matches and groups) and the helpers the check kinds share (parameters, messages, row groups)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Finding, Register, Row, RulesError
from ..rules import Check, ListItem, ListMatch, Rules
from ..text import ru_date, ru_datetime, split_multi

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
