"""A cell's value as the checks see it: text normalised once per distinct text (mixed-script words noted),
dates from serial numbers or text, other values as text, column by column (the reader's hot loop)."""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any

from ..models import Finding, Table
from ..text import mixed_script_words, normalize, parse_date_text, ru_date
from .package import Package, Progress

EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#BUSY!", "#CONNECT!"}
_HAS_LATIN = re.compile(r"[A-Za-z]")
# Text made only of these needs nothing from normalize() but trimming (checked with is_normalized too).
_PLAIN_TEXT = re.compile(r"[^ \n\u0400-\u045f0-9.,;:!?()«»\"'№/%+=*#&@_\[\]-]")
_CellInfo = tuple[Any, bool, list[tuple[str, str]]]  # normalised value, changed, mixed-script words


class _CellValues:
    """The register reader's cell conversion (a mixin of register._SheetReader, which holds the state)."""

    pkg: Package
    progress: Progress | None
    findings: list[Finding]
    _norm_cache: dict[str, str]
    _cell_cache: dict[str, _CellInfo]
    _distinct: dict[str, float]  # field -> share of distinct values in the column's last piece

    if TYPE_CHECKING:
        def _budget(self) -> None: ...

        def _finding(self, code: str, sheet: str | None, cell: str | None, row: int | None, column: str | None,
                     value: Any = None, field_name: str | None = None, **fmt: Any) -> Finding: ...

    def _cell_text(self, v: str) -> _CellInfo:
        """Normalise a text cell once per distinct text (registers repeat values a lot)."""
        info = self._cell_cache.get(v)
        if info is None:
            if _PLAIN_TEXT.search(v) is None and "  " not in v and unicodedata.is_normalized("NFC", v):
                # Cyrillic, digits and ordinary punctuation only: normalize() would only trim it.
                nv = v.strip()
                info = (nv or None, nv != v, [])
            else:
                nv = normalize(v)
                mixed = mixed_script_words(nv) if not nv.isascii() and _HAS_LATIN.search(nv) else []
                info = (nv or None, nv != v, mixed)
            if len(self._cell_cache) < 500_000:
                self._cell_cache[v] = info
        return info

    def _convert_rows(self, sheet: str, rows: list[list[Any]], hdr_idx: int, last: int,
                      col_fields: list[tuple[int, str]], columns: dict[str, str], date_fields: set[str],
                      hidden: set[int]) -> Table:
        """Turn calamine's rows into the register's columns (:class:`Table`), column by column.

        Each distinct value of a column is converted once; per cell only list comprehensions and dict lookups run
        (this is the hot loop of a 100,000-row register).
        """
        idx = _filled(rows, hdr_idx + 1, last)
        data = list(map(rows.__getitem__, idx))
        numbers = [i + 1 for i in idx]
        originals: dict[int, dict[str, Any]] = {}
        columns_out: list[list[Any]] = []
        fields = [f for _, f in col_fields]
        js = [j for j, _ in col_fields]
        if js and data and len(set(map(len, data))) == 1 and max(js) < len(data[0]):
            every = list(zip(*data, strict=True))  # rows of one width: all columns at once (half the cost of picking)
            cols: list[tuple[Any, ...]] = [every[j] for j in js]
            del every
        elif js and data:
            try:
                picked = list(map(operator.itemgetter(*js), data)) if len(js) > 1 else [(r[js[0]],) for r in data]
            except IndexError:
                picked = [tuple(r[j] if j < len(r) else None for j in js) for r in data]
            cols = list(zip(*picked, strict=True))
            del picked
        else:
            cols = [() for _ in js]
        for n_col, (f, col) in enumerate(zip(fields, cols, strict=True)):
            self._budget()
            if self.progress:
                self.progress("Чтение строк", n_col, len(fields))
            if f not in date_fields and self._distinct.get(f, 0.0) > 0.5 and _plain_column(col):
                # Mostly distinct values (codes, names), all normalised texts: no set of them (the previous piece
                # of this column was mostly distinct; a whole read or a first piece always takes the set).
                columns_out.append(_as_is(col))
                continue
            if f in date_fields:
                uniq: Any = set(col)
                ones: list[Any] = []
            else:
                # The distinct values and, in the same pass, each cell as the first cell equal to it (one str object
                # per text: the checks look cells up by value over and over, and a look-up of the very key object is
                # settled by identity, without comparing the texts; the register keeps one copy of a repeated text).
                first: dict[Any, Any] = {}
                ones = list(map(first.setdefault, col, col))
                uniq = first.keys()
            if col:
                self._distinct[f] = len(uniq) / len(col)
            if f in date_fields:
                if any(v.__class__ is bool for v in uniq):  # True == 1 == 1.0: one key for three values
                    columns_out.append([None if v is None or v == "" else self._to_date(v) for v in col])
                else:
                    conv = {v: None if v is None or v == "" else self._to_date(v) for v in uniq}
                    columns_out.append(list(map(conv.__getitem__, col)))
                continue
            texts = [v for v in uniq if v.__class__ is str]
            only_text = len(texts) == len(uniq)
            plain = _plain_texts(texts)
            if only_text and plain:  # every value a normalised text: the column as it is, one object per text
                columns_out.append(list(map(_EMPTY_AS_NONE.get, ones, ones)) if "" in uniq else ones)
                continue
            nv_map: dict[str, Any] = {}
            changed: set[str] = set()
            mixed: dict[str, list[tuple[str, str]]] = {}
            if plain:
                nv_map = dict(zip(texts, texts, strict=True))
                if "" in nv_map:
                    nv_map[""] = None
            else:
                for v in texts:
                    nv, ch, mx = self._cell_text(v)
                    nv_map[v] = nv
                    if ch:
                        changed.add(v)
                    if mx:
                        mixed[v] = mx
            letter = columns[f]
            if only_text:
                vals = list(map(nv_map.__getitem__, ones))  # the keys themselves: found by identity
                if changed or mixed:
                    notable = changed | mixed.keys()
                    for k in [k for k, v in enumerate(col) if v in notable]:
                        v = col[k]
                        if v in changed:
                            originals.setdefault(k, {})[f] = v
                        self._mixed_findings(sheet, letter, f, numbers[k], vals[k], mixed.get(v))
            else:
                vals = [nv_map[v] if v.__class__ is str else _other_value(v) for v in col]
                for k, v in enumerate(col):
                    if v.__class__ is str:
                        if v in changed:
                            originals.setdefault(k, {})[f] = v
                        if v in mixed:
                            self._mixed_findings(sheet, letter, f, numbers[k], vals[k], mixed[v])
                    elif (v is not None and not isinstance(v, (int, str))) or isinstance(v, bool):
                        originals.setdefault(k, {})[f] = v
            columns_out.append(vals)
        return Table(fields, numbers, dict(zip(fields, columns_out, strict=True)), originals,
                     hidden.intersection(numbers) if hidden else set())

    def _mixed_findings(self, sheet: str, letter: str, f: str, rn: int, value: Any,
                        words: list[tuple[str, str]] | None) -> None:
        for word, latin in words or ():
            self.findings.append(self._finding("mixed-script", sheet, f"{letter}{rn}", rn, letter, value=value,
                                               field_name=f, detail=word, expected=", ".join(latin)))

    def _norm(self, v: str) -> str:
        n = self._norm_cache.get(v)
        if n is None:
            n = normalize(v)
            if len(self._norm_cache) < 500_000:
                self._norm_cache[v] = n
        return n

    def _to_date(self, v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, dt.date):
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if 1 <= v < 2_958_466:
                base = dt.date(1904, 1, 1) if self.pkg.date1904 else dt.date(1899, 12, 30)
                return base + dt.timedelta(days=int(v))
            return str(v)
        if isinstance(v, str):
            s = self._norm(v)
            return parse_date_text(s) or (s or None)
        return v


_EMPTY_AS_NONE: dict[Any, None] = {"": None}


def _filled(rows: list[list[Any]], start: int, stop: int) -> list[int]:
    """Indexes in [start, stop) of the rows that are not :func:`_blank`. A row's first truthy cell is found in C;
    only rows where it is a blank text, or that have none (all cells "", None, 0 or False), are looked at cell by
    cell."""
    part = rows[start:stop]
    firsts = list(map(next, map(filter, repeat(None), part), repeat("")))
    suspect = {v for v in set(firsts) if isinstance(v, str) and not v.strip()}  # a truthy number fills the row
    if not suspect:
        return list(range(start, stop))
    out: list[int] = []
    at = 0
    for k in compress(range(len(firsts)), map(suspect.__contains__, firsts)):
        out.extend(range(start + at, start + k))
        if not _blank(part[k]):
            out.append(start + k)
        at = k + 1
    out.extend(range(start + at, stop))
    return out


def _blank(row: list[Any]) -> bool:
    for v in row:
        if v is None or v == "":
            continue
        if isinstance(v, str) and not v.strip():
            continue
        return False
    return True


_PLAIN_JOINED = re.compile(r"[^\x00 \n\u0400-\u045f0-9.,;:!?()«»\"'№/%+=*#&@_\[\]-]")


def _plain_column(col: tuple[Any, ...]) -> bool:
    """Every cell a text, every text normalised (:func:`_plain_texts` over the cells themselves, not their set)."""
    return set(map(type, col)) <= {str} and _plain_texts(list(col))


def _as_is(col: tuple[Any, ...]) -> list[Any]:
    """A column of normalised texts as the register keeps it: an empty cell ("") as None."""
    return list(map(_EMPTY_AS_NONE.get, col, col)) if "" in col else list(col)


_SPACE_OR_BREAK = repeat(" \n")  # endless: every map() below takes what it needs


def _plain_texts(texts: list[str]) -> bool:
    """True when every text is already normalised (plain Cyrillic text, no spaces to trim), in one pass."""
    if not texts:
        return True
    joined = "\x00".join(texts)
    # Other whitespace (tab, no-break space …) is outside the plain characters; the ends of each text are looked at
    # in C, text by text: a text with a space or a line break at an end is the one strip() changes (one substring
    # search over the joined texts per end costs several times more; startswith/endswith with a tuple, twice this).
    # A text of plain characters only is in NFC (no plain character is a combining mark, none composes with the one
    # before it, none is changed by NFC: tests/test_reader_values.py proves it over the whole class), so NFC is not
    # tested again here.
    return (_PLAIN_JOINED.search(joined) is None and "  " not in joined
            and not any(map(operator.ne, map(str.strip, texts, _SPACE_OR_BREAK), texts)))


def _other_value(v: Any) -> Any:
    """A non-text cell in a text column, as text (None for an empty cell)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "да" if v else "нет"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else str(v)
    if isinstance(v, dt.date):
        return ru_date(v)
    if isinstance(v, str):  # a str subclass
        return normalize(str(v)) or None
    return str(v)
