"""The extent guard's and the raw scan's cheaper passes (issue 14 item 3) answer exactly as the plain searches they
replace, or more conservatively: a search started from a rare byte finds what ``bytes.find`` finds; the new gates say
«odd markup» wherever the old ones did (odd markup goes to the exact path, which models calamine cell by cell); the
scan finds the same formulas, errors, hidden rows, merges and autofilter."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from perechen.models import FileError
from perechen.reader import extent, scan
from perechen.rules import Rules

OLD_ODD_R = re.compile(rb"r(?:\s+=|=\s|=')")
OLD_RLESS_ROW = re.compile(rb'<row(?! r=")[\s>/]')


def _old_plain_markup(xml: bytes) -> bool:
    """plain_markup as it was before the rare-byte searches (commit bd32fee)."""
    body_at = xml.find(b"?>") + 2 if xml.startswith(b"<?") else 0
    return not (xml.find(b"<!", body_at) >= 0 or xml.find(b"<?", body_at) >= 0 or extent._ODD_PREFIXED.search(xml)
                or OLD_ODD_R.search(xml) or extent._RLESS_C.search(xml) or OLD_RLESS_ROW.search(xml))


BITS = [b"<", b"!", b"?", b"<!", b"<?", b"f", b"<f", b"<f>", b"e", b't="e"', b"h", b'hidden="1"', b'hidden="true"',
        b"g", b"<mergeCell", b' ref="A1:B2"/>', b"u", b"<autoFilter", b"/>", b"sheetData>", b"</sheetData>", b"x",
        b"r", b"=", b'="', b" ", b"\t", b"\n", b"'", b"r =", b"r= ", b"r='", b'r="A1"', b"<c", b"<row", b'<c r="',
        b'<row r="', b">", b":", b"x:c ", b":row>", b"w", b"ow", b"<c>", b"<row/>", b"<c t=\"e\">", b"<v>1</v>",
        b"</c>", b'<f t="shared" si="0"/>', b'<c r="C3">', b"<x:f>"]


def _texts(seed: int, n: int, parts: int = 12) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        text = b"".join(rnd.choice(BITS) for _ in range(rnd.randint(0, parts)))
        out.append(text)
    return out


@pytest.mark.parametrize("window", [1, 2, 7, scan._WINDOW])
def test_find_from_a_rare_byte_is_bytes_find(window: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "_WINDOW", window)
    rnd = random.Random(1)
    for text in _texts(1, 20_000, parts=40):
        for lit, rare in [(b"<!", b"!"), (b"<f", b"f"), (b'hidden="', b"h"), (b'hidden="', b'"'), (b't="e"', b"e"),
                          (b"<mergeCell", b"g"), (b"ee", b"e"), (b"<row", b"<")]:
            start = rnd.randint(0, len(text) + 2)
            end = rnd.choice([None, rnd.randint(0, len(text) + 2)])
            assert scan.find_lit(text, lit, rare, start, end) == text.find(lit, start, end), (text, lit, start, end)
            assert scan.rfind_lit(text, lit, rare) == text.rfind(lit), (text, lit)


def test_find_from_a_rare_byte_when_the_rare_byte_is_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rare byte everywhere: the literal is searched for window after window.
    monkeypatch.setattr(scan, "_WINDOW", 8)
    text = b"f" * 100 + b"<x" + b"f" * 50 + b"<f" + b"f" * 30
    assert scan.find_lit(text, b"<f", b"f") == text.find(b"<f") == 152
    assert scan.find_lit(text, b"<f", b"f", 153) == -1
    assert scan.rfind_lit(b"<f" + b"f" * 100, b"<f", b"f") == 0
    assert scan.rfind_lit(b"h" * 40, b"sheetData>", b"h") == -1
    m = scan.search_lit(extent._ODD_PREFIXED, b":" * 40 + b"x:c>", b":", b":")
    assert m is not None and m.start() == 41


@pytest.mark.parametrize("window", [1, 3, scan._WINDOW])
def test_searches_from_a_byte_and_through_a_prefilter_are_the_plain_searches(window: int,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "_WINDOW", window)
    for text in _texts(3, 20_000, parts=30):
        text = text.replace(b"x", b"r ")  # more «r » than the prefilter's hits are confirmed one by one
        m, want = scan.search_short(extent._ODD_PREFIXED, text, b":", 5), extent._ODD_PREFIXED.search(text)
        assert (m and m.span()) == (want and want.span()), text
        assert extent._odd_r(text) == bool(extent._ODD_R.search(text)), text


@pytest.mark.parametrize("size", [1, 2, 5, 17, extent._SLICE])
def test_searches_slice_by_slice_find_the_first_match_of_the_whole_search(size: int,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's long passes, searched slice by slice so that the main thread lets the GIL go between slices, find
    the very match the single search finds: matches across a slice's end, lookaheads cut by it, lookbehinds before
    it."""
    monkeypatch.setattr(extent, "_SLICE", size)
    rnd = random.Random(size)
    pats = [extent._RLESS_C, extent._RLESS_ROW, extent._ODD_R_PRE, extent._beyond_prefilter(29, 200_030),
            extent._beyond_prefilter(30, None)]
    for text in _texts(4, 8_000, parts=60):
        text += b'<c r="AB300000">' * rnd.randint(0, 1)
        for pat in pats:
            assert pat is not None
            pos = rnd.randint(0, len(text))
            m, want = extent._search_slices(pat, text, pos), pat.search(text, pos)
            assert (m and m.span()) == (want and want.span()), (text, pat, pos)
    for odd in (b'<row\tr="1">', b'<c>', b'<c r="A1" r =\t"XFD1">'):  # the whole guard, slice by slice
        piece = b'<row r="1" spans="1:3"><c r="A1" t="s"><v>1</v></c></row>' * 50
        assert extent.plain_markup(piece) and not extent.plain_markup(piece + odd + piece)


def test_odd_r_past_many_harmless_prefilter_hits() -> None:
    for lead in (b"r " * 40, b"Mr Smith, printer " * 40, b"<autoFilter ref=\"A1:B2\"/>" * 40):
        assert extent._odd_r(lead + b'<c r="A1" r =\t"XFD1">')
        assert extent._odd_r(lead + b"<c r='A1'>")
        assert not extent._odd_r(lead + b'<c r="A1" t="s">')


def test_new_gates_call_odd_whatever_the_old_gates_called_odd() -> None:
    for text in _texts(2, 40_000):
        if OLD_ODD_R.search(text):
            assert extent._ODD_R.search(text), text
        assert bool(OLD_RLESS_ROW.search(text)) == bool(extent._RLESS_ROW.search(text)), text
        if not _old_plain_markup(text):
            assert not extent.plain_markup(text), text
        # And the other way round only for the new r-gate's extra «r=x» (no attribute, only text can hold it).
        if extent.plain_markup(text) != _old_plain_markup(text):
            assert re.search(rb'r=[^"\s\']', text), text


@pytest.mark.parametrize("odd", [
    b'<row r="1"><c r="A1"><v>1</v></c><!-- --><c r="XFD1"><v>1</v></c></row>',
    b'<row r="1"><c r="A1"><v>1</v></c><?pi x?><c r="XFD1"><v>1</v></c></row>',
    b'<row r="1"><c r="A1" r =\t"XFD1"><v>1</v></c></row>',
    b'<row r="1"><c r="A1" r=\n"XFD1"><v>1</v></c></row>',
    b"<row r=\"1\"><c r=\"A1\" r='XFD1'><v>1</v></c></row>",
    b'<row r="1"><c s="1" r="XFD1"><v>1</v></c></row>',
    b'<row r="1"><c\tr="XFD1"><v>1</v></c></row>',
    b'<row><c><v>1</v></c></row>',
    b'<row\nr="1048576"><c><v>1</v></c></row>',
    b'<row r="1"><x:c r="XFD1"><x:v>1</x:v></x:c></row>',
])
def test_odd_markup_far_beyond_is_never_plain_and_is_refused(odd: bytes, rules: Rules) -> None:
    body = b'<row r="1" spans="1:20"><c r="A1" t="s"><v>0</v></c></row>' * 2_000  # memchr-friendly padding
    for xml in (odd + body, body + odd):
        assert not extent.plain_markup(xml)
        sheet = b"<worksheet><sheetData>" + xml + b"</sheetData></worksheet>"
        if odd.startswith(b"<row><c>"):
            continue  # cells placed by position, within the limits: the exact path places them (test_fuzz_props)
        with pytest.raises(FileError) as e:
            extent.check_extent(sheet, "Перечень", Path("x.xlsx"), rules)
        assert e.value.code == "sheet_too_large"


def test_plain_pieces_pass_the_fast_gates() -> None:
    piece = b''.join(b'<row r="%d" spans="1:3"><c r="A%d" t="s"><v>1</v></c><c r="C%d" s="2"><v>45358</v></c></row>'
                     % (i, i, i) for i in range(1, 3000))
    assert extent.plain_markup(piece)
    assert extent.plain_markup(b'<?xml version="1.0"?>\n<worksheet><sheetData>' + piece + b"</sheetData></worksheet>")


@pytest.mark.parametrize(("max_col", "max_row"), [(29, 200_030), (200, 200_030), (26, 1_000), (29, None),
                                                  (52, 9), (30, 1_999), (30, 2_000), (30, 10), (30, 300_000)])
def test_prefilter_is_the_plain_one(max_col: int, max_row: int | None) -> None:
    """The prefilter's merged alternatives prefix-match exactly what the previous four alternatives matched."""
    s = str(max_row) if max_row is not None else ""
    alts = [b"[A-Za-z]"] + ([b"0", b"[" + s[0].encode() + rb"-9]\d{%d}" % (len(s) - 1), rb"[1-9]\d{%d}" % len(s)]
                            if max_row is not None else [])
    old = re.compile(b'r="[A-Za-z](?:' + b"|".join(alts) + b")")
    new = extent._beyond_prefilter(max_col, max_row)
    assert new is not None
    rnd = random.Random(f"{max_col}{max_row}")
    for _ in range(20_000):
        ref = b'r="' + rnd.choice([b"A", b"z", b"AB", b"a0"]) + str(rnd.choice(
            [rnd.randint(0, 99), rnd.randint(0, 10**8), rnd.randint(0, 4 * (max_row or 9))])).encode() + b'"'
        ref = ref[:rnd.randint(3, len(ref))] if rnd.random() < 0.2 else ref
        assert bool(old.match(ref)) == bool(new.match(ref)), ref


def _plain_scan(xml: bytes, monkeypatch: pytest.MonkeyPatch) -> scan.RawScan:
    with monkeypatch.context() as m:
        m.setattr(scan, "find_lit", lambda x, lit, rare, start=0, end=None: x.find(lit, start, end))
        m.setattr(scan, "rfind_lit", lambda x, lit, rare: x.rfind(lit))
        m.setattr(scan, "search_lit", lambda pat, x, lit, rare, pos=0: pat.search(x, pos))
        return scan.scan_sheet_xml(xml)


def test_scan_finds_what_the_plain_searches_find(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = [b'<c r="A1"><v>1</v></c>', b'<c r="B2" t="e"><v>#N/A</v></c>', b'<c r="C3"><f>1+1</f></c>',
             b'<c r="D4"><f>SUM(A1)</f><v>2</v></c>', b'<c r="E5" t="str"><f>"a"</f><v></v></c>', b"<row r=\"9\" "
             b'hidden="1">', b'<row r="10" hidden="true" ht="15" customHeight="1">', b"</row>", b"f", b"e", b"h",
             b"g", b"u", b"<", b'<c r="F6"><f t="shared" si="0"/></c>', b'<c r="G7" t="e"></c>',
             b"f" * 20, b"e" * 20, b"h" * 20]
    tails = [b"", b'<autoFilter ref="A1:T9"/>', b'<mergeCells><mergeCell ref="A1:B2"/><mergeCell ref="C3:D4"/>'
             b"</mergeCells>", b'<pageSetup r:id="rId1"/><headerFooter/>', b"g" * 20 + b"u" * 20]
    rnd = random.Random(5)
    for _ in range(3_000):
        body = b"".join(rnd.choice(cells) for _ in range(rnd.randint(0, 15)))
        tail = b"".join(rnd.choice(tails) for _ in range(rnd.randint(0, 3)))
        for xml in (b"<worksheet><sheetData>" + body + b"</sheetData>" + tail + b"</worksheet>", body, body + tail):
            got, want = scan.scan_sheet_xml(xml), _plain_scan(xml, monkeypatch)
            assert got == want, xml
