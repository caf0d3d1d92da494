"""The canonical form of the published data: what a published row is, whatever the workbook looked like.

Used by the store of published versions (:mod:`perechen.store`), by ``perechen diff`` and by ``perechen
publish`` — one definition, so a row compares, fingerprints and publishes the same way everywhere.

Status vocabulary: rows «включено» are published; «исключено» rows stay in the workbook as history
(п. 5.3.4); «черновик» / «на проверке» wait for the уполномоченное лицо.

Canonical form of a row:

* every field of the schema, ``None`` when empty;
* text normalised (:func:`perechen.text.normalize`);
* a value of a reference list written as the list's canonical value when it matches (exactly, after
  normalisation or by an alias), otherwise the normalised text as typed;
* a multi-valued field (``multi = true``) as a list of canonical values without repeats, in the order of
  the reference list (values not in the list follow, in alphabetical order);
* dates as ``YYYY-MM-DD`` (an unparseable date stays as its text).

:func:`canonical_register` is the published data set (``register.json`` of a version folder) and
:class:`PublishedVersion` one published version of it, however it was obtained (a version folder of the
store, a register.json, an old .xlsx).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from .models import Register, Row
from .rules import Rules
from .text import normalize, parse_date_text, split_multi, value_key

FORMAT = "perechen-register/1"
INCLUDED = "включено"
EXCLUDED = "исключено"
REVIEW_STATUSES = ("черновик", "на проверке")
# Fields that are never published (the agency's own bookkeeping): a change of them alone is no change of the
# Перечень to place on the site (п. 5.4). «Дата изменения» is published as a fact about a row, but changing
# only the date is not a change either: it says when a change was made, it is not one.
UNPUBLISHED_FIELDS = ("status", "responsible", "checked_by", "note")
DATE_FIELD = "changed_on"


# ------------------------------------------------------------------------------------------------------------
# Canonical rows


_CACHE_LIMIT = 200_000
_TEXT, _LIST, _MULTI, _DATE = 0, 1, 2, 3
_PLAIN_TYPES = {type(None), str, dt.date}
_STORED_TYPES = {type(None), str, list, int, float, bool}


class Canonicalizer:
    """Canonical rows for one Rules object: a per-field plan and a cache of reference-list values.

    Get it with :func:`canonicalizer` (one per Rules object); it is what makes 100,000 rows cheap.
    """

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.plan: list[tuple[str, int]] = []
        for c in rules.schema.columns:
            kind = _DATE if c.type == "date" else _MULTI if c.multi else _LIST if c.ref_list else _TEXT
            self.plan.append((c.field, kind))
        self.cache: dict[tuple[str, str], Any] = {}
        # One part of a multi-valued cell: (list, part as split) -> (canonical list value, its place in the list,
        # "", "") or (None, 0, value_key, normalised text). Registers combine a few dozen parts into tens of thousands
        # of distinct cells; each part is normalised and matched once.
        self._parts: dict[tuple[str, str], tuple[str | None, int, str, str]] = {}
        self._order: dict[str, dict[str, int]] = {}
        self._plain: dict[str, dict[str, int]] = {}
        # A multi-valued cell of plain values only (see _plain_values) written «a; b; c»: the set of its parts ->
        # the canonical list (the list's order, no repeats), which depends on nothing else. A register's tens of
        # thousands of distinct cells are orders and subsets of a few list values: each set is sorted once.
        self._sets: dict[str, dict[frozenset[str], tuple[str, ...]]] = {}

    def value(self, field_name: str, value: Any) -> Any:
        col = self.rules.columns.get(field_name)
        if type(value) is str and col is not None and col.ref_list:
            key = (field_name, value)
            hit = self.cache.get(key, _MISSING)
            if hit is _MISSING:
                hit = (self._multi(col.ref_list, value) if col.multi and col.type != "date"
                       else _canonical_value(self.rules, field_name, value))
                if len(self.cache) < _CACHE_LIMIT:
                    self.cache[key] = hit
            return list(hit) if type(hit) is list else hit
        return _canonical_value(self.rules, field_name, value)

    def row(self, values: dict[str, Any], *, normalized: bool = False) -> dict[str, Any]:
        """Canonical row; ``normalized=True`` when text values come from the reader (already normalised)."""
        out: dict[str, Any] = {}
        cache = self.cache
        for f, kind in self.plan:
            v = values.get(f)
            if v is None:
                out[f] = [] if kind == _MULTI else None
            elif type(v) is str and kind == _TEXT:
                out[f] = (v if normalized else normalize(v)) or None
            elif type(v) is dt.date and kind == _DATE:
                out[f] = v.isoformat()
            elif type(v) is str and (kind == _LIST or kind == _MULTI):
                hit = cache.get((f, v), _MISSING)
                if hit is _MISSING:
                    hit = self.value(f, v)
                out[f] = list(hit) if type(hit) is list else hit
            else:
                out[f] = _canonical_value(self.rules, f, v)
        return out

    def _plain_values(self, list_name: str) -> dict[str, int]:
        """The list's values as they are written (normal text without «;» that matches itself exactly) and their
        places in the list: a multi-valued cell of only these needs no normalising and no matching."""
        plain = self._plain.get(list_name)
        if plain is None:
            order = self._order[list_name] = {v: i for i, v in enumerate(self.rules.lists[list_name].values)}
            plain = self._plain[list_name] = {v: order[v] for v in order if normalize(v) == v and v and ";" not in v
                                              and (m := self.rules.match(list_name, v)) is not None
                                              and m.item.value == v}
        return plain

    def multi_parts(self, list_name: str, parts: tuple[str, ...]) -> list[str]:
        """A multi-valued cell given as its parts: ``_multi(list_name, "\\n".join(parts))``, faster."""
        hit = self._plain_set(list_name, parts)
        if hit is not None:
            return list(hit)
        plain = self._plain_values(list_name)
        if all(map(plain.__contains__, parts)):
            return sorted(dict.fromkeys(parts), key=plain.__getitem__)
        return self._multi(list_name, "\n".join(parts))

    def _plain_set(self, list_name: str, parts: Sequence[str]) -> tuple[str, ...] | None:
        """The canonical list of ``parts`` when every part is a plain value of the list without a line break (then
        they are exactly what :func:`perechen.text.split_multi` gives for the parts joined with «; » or «\\n»);
        None otherwise."""
        sets = self._sets.get(list_name)
        if sets is None:
            sets = self._sets[list_name] = {}
        key = frozenset(parts)
        hit = sets.get(key)
        if hit is None:
            plain = self._plain_values(list_name)
            if not all(map(plain.__contains__, key)) or any("\n" in p for p in key):
                return None
            hit = tuple(sorted(key, key=plain.__getitem__))
            if len(sets) < _CACHE_LIMIT:
                sets[key] = hit
        return hit

    def _multi(self, list_name: str, text: str) -> list[str]:
        """_canonical_multi with its parts cached (same result)."""
        same = self._plain_set(list_name, text.split("; "))
        if same is not None:
            return list(same)
        plain = self._plain_values(list_name)
        order = self._order[list_name]
        split = split_multi(text)
        if all(map(plain.__contains__, split)):
            return sorted(dict.fromkeys(split), key=plain.__getitem__)
        known: dict[str, int] = {}
        unknown: dict[str, str] = {}
        parts = self._parts
        for raw in split:
            hit = parts.get((list_name, raw))
            if hit is None:
                p = normalize(raw)
                m = self.rules.match(list_name, p) if p else None
                hit = ((m.item.value, order.get(m.item.value, 0), "", "") if m is not None
                       else (None, 0, value_key(p), p))
                if len(parts) < _CACHE_LIMIT:
                    parts[(list_name, raw)] = hit
            value, place, key, shown = hit
            if value is not None:
                known.setdefault(value, place)
            elif shown:
                unknown.setdefault(key, shown)
        out = sorted(known, key=known.__getitem__)
        out.extend(unknown[k] for k in sorted(unknown))
        return out

    def register_rows(self, register: Register) -> list[dict[str, Any]]:
        """:meth:`rows` of a read register, taken from the reader's columns when it still has them."""
        cols = [register.column(f) for f, _ in self.plan]
        present = [c for c in cols if c is not None]
        if not cols or len(present) < len(cols):  # the rows are Row objects now: from them
            return self.rows(register.rows)
        return self._from_columns(present) if register.n_rows else []

    def rows(self, rows: list[Row]) -> list[dict[str, Any]]:
        """Canonical rows of a read register (text values from the reader are already normalised).

        The same as ``row(r.values, normalized=True)`` for each row, column by column: each field's column is
        pulled once, each distinct value converted once, and the rows built from the columns. Every list value
        is a list object of its own row.
        """
        if not rows:
            return []
        return self._from_columns(_columns([r.values for r in rows], [f for f, _ in self.plan]))

    def _from_columns(self, cols: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """The canonical rows of the plan's fields given as columns: each column converted, then the rows built."""
        with gc_paused():
            fields = [f for f, _ in self.plan]
            columns = [self._column(f, kind, col) for (f, kind), col in zip(self.plan, cols, strict=True)]
            return list(map(dict, map(zip, repeat(fields), zip(*columns, strict=True))))  # dict(zip(fields, t)) each

    def _column(self, f: str, kind: int, col: Sequence[Any]) -> Sequence[Any]:
        """One field's canonical values (as :meth:`row` gives them, ``normalized=True``)."""
        # Only None, str and date values are converted per distinct value: other types (1, 1.0 and True are one
        # key of a dict; a list is no key) are rare and go cell by cell.
        if kind == _TEXT:  # text from the reader is normalised: only "" becomes None. No dict of distinct values:
            if not set(map(type, col)) <= _PLAIN_TYPES:  # hashing 100,000 long texts costs more than the scans
                return [self._cell(f, kind, v) for v in col]
            return [v or None for v in col] if "" in col else col
        try:
            distinct = dict.fromkeys(col)
        except TypeError:
            return [self._cell(f, kind, v) for v in col]
        if not set(map(type, distinct)) <= _PLAIN_TYPES:
            return [self._cell(f, kind, v) for v in col]
        for k in distinct:
            distinct[k] = self._cell(f, kind, k)
        out = list(map(distinct.__getitem__, col))
        if kind == _MULTI or (kind == _LIST and any(type(v) is list for v in distinct.values())):
            out = [list(v) if type(v) is list else v for v in out]
        return out

    def _cell(self, f: str, kind: int, v: Any) -> Any:
        if v is None:
            return [] if kind == _MULTI else None
        if type(v) is str and kind == _TEXT:
            return v or None
        if type(v) is dt.date and kind == _DATE:
            return v.isoformat()
        if type(v) is str and (kind == _LIST or kind == _MULTI):
            return self.value(f, v)
        return _canonical_value(self.rules, f, v)


def _columns(rows: list[dict[str, Any]], fields: list[str]) -> list[Sequence[Any]]:
    """Each field's values (``None`` when a row lacks it), in one pass over the rows when every row has every field."""
    if not fields:
        return []
    try:
        if len(fields) == 1:
            return [list(map(itemgetter(fields[0]), rows))]
        return list(zip(*map(itemgetter(*fields), rows), strict=True)) or [() for _ in fields]
    except KeyError:
        return [list(map(dict.get, rows, repeat(f))) for f in fields]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic garbage collection while a large set of rows is built.

    The rows are plain dicts and lists (no reference cycles), but each of the hundreds of thousands of new
    containers counts towards the collector's thresholds, and every full collection walks the whole heap
    (the register read is in it). Collection resumes, as it was, when the block ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_CANONICALIZERS: weakref.WeakKeyDictionary[Rules, Canonicalizer] = weakref.WeakKeyDictionary()


def canonicalizer(rules: Rules) -> Canonicalizer:
    c = _CANONICALIZERS.get(rules)
    if c is None:
        c = _CANONICALIZERS.setdefault(rules, Canonicalizer(rules))
    return c


def canonical_value(rules: Rules, field_name: str, value: Any) -> Any:
    """The canonical form of one field's value (see the module docstring)."""
    return canonicalizer(rules).value(field_name, value)


_MISSING = object()


def _canonical_value(rules: Rules, field_name: str, value: Any) -> Any:
    col = rules.columns.get(field_name)
    if value is None:
        return [] if (col is not None and col.multi) else None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        text = "да" if value else "нет"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else str(value)
    elif isinstance(value, list):
        text = "\n".join(str(v) for v in value if v is not None)
    else:
        text = str(value)
    if col is not None and col.type == "date":
        d = parse_date_text(normalize(text))
        if d is not None:
            return d.isoformat()
    if col is not None and col.multi:
        return _canonical_multi(rules, col.ref_list, text)
    text = normalize(text)
    if not text:
        return None
    if col is not None and col.ref_list:
        m = rules.match(col.ref_list, text)
        if m is not None:
            return m.item.value
    return text


def _canonical_multi(rules: Rules, list_name: str | None, text: str) -> list[str]:
    parts = [normalize(p) for p in split_multi(text)]
    known: dict[str, int] = {}
    unknown: dict[str, str] = {}
    order = {v: i for i, v in enumerate(rules.lists[list_name].values)} if list_name else {}
    for p in parts:
        if not p:
            continue
        m = rules.match(list_name, p) if list_name else None
        if m is not None:
            known.setdefault(m.item.value, order.get(m.item.value, 0))
        else:
            unknown.setdefault(value_key(p), p)
    out = sorted(known, key=lambda v: known[v])
    out.extend(unknown[k] for k in sorted(unknown))
    return out


def canonical_row(row: Row | dict[str, Any], rules: Rules) -> dict[str, Any]:
    """Every schema field of a row in canonical form."""
    values = row.values if isinstance(row, Row) else row
    return canonicalizer(rules).row(values)


def canonical_info(info: dict[str, str], rules: Rules) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in rules.schema.info.fields:
        v = info.get(f.key)
        out[f.key] = normalize(str(v)) if v not in (None, "") else ""
    return out


def fingerprint(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of rows + info (keys sorted, no spaces, UTF-8)."""
    blob = json.dumps({"info": info, "rows": rows}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def content_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The published content of a canonical row: every field but the unpublished ones and the date."""
    return {k: v for k, v in row.items() if k not in UNPUBLISHED_FIELDS and k != DATE_FIELD}


# The published fields of a row with these keys, in this order, picked as one tuple.
_PUBLISHED: dict[tuple[str, ...], Callable[[dict[str, Any]], Any]] = {}


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two canonical rows publish the same thing (notes, responsible, status, date aside)."""
    if a == b:  # the usual case, compared in C
        return True
    if a.keys() == b.keys():  # the published fields equal as they are (the next usual case), compared in C
        key = tuple(a)
        published = _PUBLISHED.get(key)
        if published is None:
            kept = [k for k in key if k not in UNPUBLISHED_FIELDS and k != DATE_FIELD]
            published = itemgetter(*kept) if kept else (lambda d: ())
            if len(_PUBLISHED) < 64:
                _PUBLISHED[key] = published
        if published(a) == published(b):
            return True
    keys = (set(a) | set(b)) - set(UNPUBLISHED_FIELDS) - {DATE_FIELD}
    return all(_empty_as_none(a.get(k)) == _empty_as_none(b.get(k)) for k in keys)


def _empty_as_none(v: Any) -> Any:
    return None if v in (None, "", []) else v


def publication_rows(rows: list[dict[str, Any]], baseline: PublishedVersion | None) -> list[dict[str, Any]]:
    """The rows that go on the site now, given the canonical rows of the workbook and the published baseline.

    The lifecycle of the order (пп. 2.1, 5.3, 5.4), in workbook order:

    * a «включено» row is published; when its published content is the baseline's (only the date, the note,
      the responsible person or «Проверил» changed), the baseline's row is kept as it is — that is no change
      of the Перечень and makes no new version;
    * a published row that went back to «на проверке» / «черновик» (or has a status outside the list) stays on
      the site in its last published form — the baseline's row — until it is included again or excluded;
    * «исключено» rows and rows never published are not on the site.

    Without a baseline it is simply the «включено» rows.
    """
    base = baseline.rows_by_code if baseline is not None else {}
    out: list[dict[str, Any]] = []
    kept: set[str] = set()
    included_codes = {str(r.get("code")) for r in rows if r.get("status") == INCLUDED and r.get("code")}
    excluded_codes = {str(r.get("code")) for r in rows if r.get("status") == EXCLUDED and r.get("code")}
    for r in rows:
        status = r.get("status")
        code = str(r.get("code") or "")
        old = base.get(code) if code else None
        if status == INCLUDED:
            if old is not None and code not in kept and (old == r or same_content(old, r)):
                kept.add(code)
                out.append(old)
            else:
                out.append(r)
        elif (status != EXCLUDED and old is not None and code not in kept and code not in included_codes
              and code not in excluded_codes):
            kept.add(code)
            out.append(old)
    return out


def canonical_register(register: Register, rules: Rules,
                       baseline: PublishedVersion | None = None) -> dict[str, Any]:
    """The canonical published data: the rows on the site (:func:`publication_rows`), «Сведения», schema version.

    Without ``baseline``, the «включено» rows in workbook order. Deterministic: the same data gives the same
    dict (and the same ``fingerprint``) whatever the file.
    """
    rows = publication_rows(canonicalizer(rules).register_rows(register), baseline)
    info = canonical_info(register.info, rules)
    return {
        "format": FORMAT,
        "schema_version": rules.schema.version,
        "fields": [c.field for c in rules.schema.columns],
        "info": info,
        "rows": rows,
        "row_count": len(rows),
        "fingerprint": fingerprint(rows, info),
    }


# ------------------------------------------------------------------------------------------------------------
# A published version


@dataclass
class PublishedVersion:
    """One folder of output/published/ (or a baseline read from an .xlsx, then ``path`` is the file)."""

    name: str
    path: Path
    manifest: dict[str, Any]
    register: dict[str, Any]
    is_latest: bool = False
    _by_code: dict[str, dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.register.get("rows", [])
        return rows

    @property
    def rows_by_code(self) -> dict[str, dict[str, Any]]:
        """Rows keyed by Код (the first row wins if a code repeats)."""
        if self._by_code is None:
            out: dict[str, dict[str, Any]] = {}
            for r in self.rows:
                code = r.get("code")
                if code:
                    out.setdefault(str(code), r)
            self._by_code = out
        return self._by_code

    @property
    def fingerprint(self) -> str:
        return str(self.register.get("fingerprint") or self.manifest.get("fingerprint") or "")

    @property
    def published_at(self) -> dt.datetime | None:
        raw = self.manifest.get("published_at")
        if isinstance(raw, str):
            try:
                return dt.datetime.fromisoformat(raw)
            except ValueError:
                return None
        return None


def with_current_lists(version: PublishedVersion, rules: Rules) -> PublishedVersion:
    """The version with its reference-list values in the current canonical spelling (rules/lists.toml may
    have made an old canonical value an alias, e.g. «консультация» → «получение консультации»).

    Each distinct value of a list field is matched once (a list as the tuple of its values); when none changes,
    which is the usual case, the version is returned as it is, without a pass over its rows.
    """
    canon = canonicalizer(rules)
    list_fields = [c.field for c in rules.schema.columns if c.ref_list]
    rows = version.rows
    with gc_paused():
        renames: list[tuple[str, dict[Any, Any], Sequence[Any]]] = []
        for f, col in zip(list_fields, _columns(rows, list_fields), strict=True):
            types = set(map(type, col))
            if not types <= _STORED_TYPES:  # anything else: row by row
                return _with_current_lists_by_row(version, rules)
            keys = [tuple(v) if type(v) is list else v for v in col] if list in types else col
            try:
                distinct = dict.fromkeys(keys)
            except TypeError:  # a list holding lists or dicts
                return _with_current_lists_by_row(version, rules)
            changed: dict[Any, Any] = {}
            col_def = rules.columns[f]
            multi = col_def.ref_list if col_def.multi and col_def.type != "date" else None
            for k in distinct:
                # The usual case first: plain list values, already in the list's order — no list is built.
                if type(k) is tuple and k and multi and (hit := canon._plain_set(multi, k)) is not None:
                    if hit != k:
                        changed[k] = list(hit)
                elif type(k) is tuple and k and all(isinstance(x, str) for x in k):
                    nv = canon.multi_parts(multi, k) if multi else canon.value(f, "\n".join(k))
                    if nv != list(k):
                        changed[k] = nv
                elif type(k) is str:
                    nv = canon.value(f, k)
                    if nv != k:
                        changed[k] = nv
            if changed:
                renames.append((f, changed, keys))
        if not renames:
            return version
        out = list(rows)
        for f, changed, keys in renames:
            for i, k in enumerate(keys):
                if k in changed:
                    nr = out[i]
                    if nr is rows[i]:
                        nr = out[i] = dict(nr)
                    nv = changed[k]
                    nr[f] = list(nv) if type(nv) is list else nv
    return replace(version, register={**version.register, "rows": out}, _by_code=None)


def _with_current_lists_by_row(version: PublishedVersion, rules: Rules) -> PublishedVersion:
    """:func:`with_current_lists` row by row (a version with values of unexpected types)."""
    canon = canonicalizer(rules)
    list_fields = [c.field for c in rules.schema.columns if c.ref_list]
    rows: list[dict[str, Any]] = []
    changed = False
    for r in version.rows:
        nr = r
        for f in list_fields:
            v = r.get(f)
            if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                nv = canon.value(f, "\n".join(v))
            elif isinstance(v, str):
                nv = canon.value(f, v)
            else:
                continue
            if nv != v:
                if nr is r:
                    nr = dict(r)
                nr[f] = nv
        changed = changed or nr is not r
        rows.append(nr)
    if not changed:
        return version
    return replace(version, register={**version.register, "rows": rows}, _by_code=None)
