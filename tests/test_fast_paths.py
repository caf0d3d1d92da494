"""The fast paths of issue 14 item 3 give the same answers as the plain code they replaced.

The extent guard's prefilter may only skip what the exact pattern would skip (a weaker guard would let calamine
allocate a grid that aborts the process); the cheaper row gates may send more sheets to the exact path, never
fewer; the cached canonical form of multi-valued cells and the str-based split are the same as before.
"""

from __future__ import annotations

import random
import re

import pytest

from perechen import canonical
from perechen.reader import extent
from perechen.rules import Rules
from perechen.text import split_multi


def _refs(rnd: random.Random, n: int) -> list[bytes]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdxyz"
    out = []
    for _ in range(n):
        col = "".join(rnd.choice(letters) for _ in range(rnd.randint(1, 4)))
        row = rnd.choice([rnd.randint(0, 400), rnd.randint(190_000, 210_000), rnd.randint(0, 10**9),
                          rnd.randint(999, 1_001)])
        zeros = "0" * rnd.choice([0, 0, 0, 1, 3])
        out.append(f'r="{col}{zeros}{row}"'.encode())
    return out


@pytest.mark.parametrize(("max_col", "max_row"), [(29, 200_030), (200, 200_030), (26, 1_000), (29, None),
                                                  (None, 200_030), (52, 9), (5, 100)])
def test_prefilter_never_skips_what_the_exact_pattern_finds(max_col: int | None, max_row: int | None) -> None:
    exact = extent._beyond_re(max_col, max_row)
    pre = extent._beyond_prefilter(max_col, max_row)
    for ref in _refs(random.Random(f"{max_col}:{max_row}"), 20_000):
        if exact.match(ref):
            assert pre is None or pre.match(ref), ref


def test_first_valued_beyond_finds_a_cell_behind_a_prefilter_candidate() -> None:
    # A candidate that is not beyond (AC1 with max_col 29, a 2-letter column) right before one that is.
    xml = (b'<worksheet><sheetData><row r="1"><c r="AC1"><v>1</v></c><c r="AD1"><v>2</v></c></row>'
           b'<row r="200031"><c r="A200031"><v>3</v></c></row></sheetData></worksheet>')
    assert extent._first_valued_beyond(xml, 29, 200_030) == "AD1"
    assert extent._first_valued_beyond(xml, 30, 200_030) == "A200031"
    assert extent._first_valued_beyond(xml, 30, 200_031) is None


def test_rowless_gates_catch_everything_the_old_gate_caught() -> None:
    old = re.compile(rb'<(?:c|row)(?:[>/]|\s+(?!r="))')
    pieces = [b"<c", b"<row", b" ", b"  ", b"\t", b"\n", b'r="A1"', b"s=\"1\"", b">", b"/>", b"<cols>", b"x"]
    rnd = random.Random(7)
    for _ in range(20_000):
        text = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 6)))
        if old.search(text):
            assert extent._RLESS_C.search(text) or extent._RLESS_ROW.search(text), text


def test_split_multi_is_the_regex_split() -> None:
    def reference(value: str) -> list[str]:
        return [p.strip() for p in re.split(r"[;\n]+", value) if p.strip()]

    rnd = random.Random(1)
    alphabet = [";", "\n", " ", "a", "б", "\t", "\r", "\u00a0", ";;", "\n\n", "x;"]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert split_multi(text) == reference(text), repr(text)


def test_cached_multi_values_are_the_canonical_ones() -> None:
    rules = Rules.load()
    can = canonical.Canonicalizer(rules)
    rnd = random.Random(3)
    cols = [c for c in rules.schema.columns if c.multi and c.ref_list]
    assert cols
    for c in cols:
        assert c.ref_list is not None
        values = list(rules.lists[c.ref_list].values)
        pool = [*values, *(v.upper() for v in values), f" {values[0]}  ", "другое что-то", "", "  ", "Ёлка",
                "ёлка", "\u00a0x", "a\u200bb"]
        for _ in range(3_000):
            parts = rnd.sample(pool, rnd.randint(0, 5))
            text = rnd.choice(["; ", ";", "\n", " ;\n"]).join(parts)
            assert can._multi(c.ref_list, text) == canonical._canonical_multi(rules, c.ref_list, text), text


def test_cached_sets_of_plain_values_are_the_canonical_ones() -> None:
    """A cell of plain list values in any order, with repeats, «; »-joined or given as parts (a stored version's
    list): the canonical list, the same for every order of the same values, a new list object every time."""
    rules = Rules.load()
    can = canonical.Canonicalizer(rules)
    rnd = random.Random(5)
    for c in [c for c in rules.schema.columns if c.multi and c.ref_list]:
        assert c.ref_list is not None
        values = list(rules.lists[c.ref_list].values)
        for _ in range(2_000):
            parts = [rnd.choice(values) for _ in range(rnd.randint(1, 6))]
            want = canonical._canonical_multi(rules, c.ref_list, "\n".join(parts))
            got = can._multi(c.ref_list, "; ".join(parts))
            assert got == want, parts
            got.append("x")  # the caller's own list: the cached set is not changed
            assert can.multi_parts(c.ref_list, tuple(parts)) == want, parts
            assert can._multi(c.ref_list, "; ".join(reversed(parts))) == want, parts
