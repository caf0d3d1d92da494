"""A large register sheet is guarded and parsed piece by piece (reader/chunks.py): the rows, values, cells and
findings are exactly those of reading the sheet whole, hostile sheets are refused as before, and anything the
pieces cannot take is read whole."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perechen.models import FileError, PerechenError, Register
from perechen.reader import chunks, read_register
from perechen.rules import Rules
from tests.corpus import make_corpus as mc

SHEET1 = "xl/worksheets/sheet1.xml"


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int | None]]:
    """Pieces forced on every sheet (one piece per ~300 bytes of rows); records how many pieces each read used."""
    used: list[int | None] = []
    real = chunks.Pieces.read

    def recording(self: chunks.Pieces, *a: Any, **k: Any) -> Any:
        got = real(self, *a, **k)
        used.append(len(self.p.pieces) if got is not None else None)
        return got

    monkeypatch.setattr(chunks, "MIN_BYTES", 1)
    monkeypatch.setattr(chunks, "PIECE_BYTES", 300)
    monkeypatch.setattr(chunks.Pieces, "read", recording)
    yield used


def _whole(monkeypatch: pytest.MonkeyPatch, path: Path, rules: Rules) -> Any:
    with monkeypatch.context() as m:
        m.setattr(chunks, "MIN_BYTES", 10**12)
        return _outcome(path, rules)


def _outcome(path: Path, rules: Rules) -> Any:
    try:
        reg = read_register(path, rules)
    except PerechenError as e:
        return ("error", e.code, e.message)
    return _facts(reg)


def _facts(reg: Register) -> Any:
    return ([(r.number, r.values, r.original, r.hidden) for r in reg.rows],
            [(f.code, f.sheet, f.cell, f.message, f.row, f.field, str(f.value)) for f in reg.findings],
            reg.columns, reg.headers, reg.info, sorted(reg.problem_cells), sorted(reg.formula_cells))


@pytest.mark.parametrize("case", mc.CASES, ids=[c.name for c in mc.CASES])
def test_every_corpus_workbook_reads_the_same_in_pieces(case: mc.Case, spy: list[int | None], rules: Rules,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = mc.corpus_dir()[case.name]
    if path is None:
        pytest.skip(f"needs {case.needs}")
    import tempfile

    whole = _whole(monkeypatch, path, rules)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    assert _outcome(path, rules) == whole
    assert list(temp.iterdir()) == []  # the pieces' folder is gone, whatever the outcome


def _register(tmp_path: Path, n: int, mutate: Any = None) -> Path:
    """The bundled register's rows repeated to n rows under new codes (a sheet of plain markup)."""
    from perechen.template import build_workbook

    base = mc.rows()
    out = []
    for i in range(n):
        r = dict(base[i % len(base)])
        r["code"] = f"ТВ-{i + 1:05d}"
        out.append(r)
    data = build_workbook(mc.rules(), out, mc._example().INFO)
    if mutate is not None:
        data = mc.edit_part(data, SHEET1, mutate)
    p = tmp_path / "r.xlsx"
    p.write_bytes(data)
    return p


def test_a_register_is_read_in_pieces_and_gives_what_the_whole_sheet_gives(tmp_path: Path, spy: list[int | None],
                                                                          rules: Rules,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from perechen.reader import register as reg_mod

    path = _register(tmp_path, 400)
    whole = _whole(monkeypatch, path, rules)
    spy.clear()
    used_early: list[bool] = []
    real_matches = reg_mod._EarlyRows.matches

    def matches(self: Any, *a: Any) -> bool:
        used_early.append(real_matches(self, *a))
        return used_early[-1]

    monkeypatch.setattr(reg_mod._EarlyRows, "matches", matches)
    got = _outcome(path, rules)
    assert spy and spy[0] is not None and spy[0] > 20  # really read in pieces
    assert used_early == [True]  # and the rows were converted while calamine parsed the later pieces
    assert got == whole
    assert len(got[0]) == 400


def test_a_value_beyond_the_limits_in_a_later_piece_is_refused_before_calamine_parses_it(
        tmp_path: Path, spy: list[int | None], rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    def far(xml: bytes) -> bytes:
        end = xml.rfind(b"</sheetData>")
        return xml[:end] + b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>' + xml[end:]

    path = _register(tmp_path, 200, far)
    with pytest.raises(FileError) as e:
        read_register(path, rules)
    assert e.value.code == "sheet_too_large" and "XFD1048576" in e.value.message
    assert spy == [None]  # the pieces gave up; the whole-sheet guard refused it


def test_rows_out_of_order_are_read_whole(tmp_path: Path, spy: list[int | None], rules: Rules,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = _register(tmp_path, 200)
    data = path.read_bytes()
    xml = dict(mc.members(data))[SHEET1]
    body_end = xml.rfind(b"</sheetData>")
    head, body, tail = xml[:xml.find(b"<row ")], xml[xml.find(b"<row "):body_end], xml[body_end:]
    rows = [b"<row " + r for r in body.split(b"<row ") if r]
    late = next(i for i, r in enumerate(rows) if r.startswith(b'<row r="150"'))
    rows.insert(2, rows.pop(late))  # row 150 written right after row 2
    path.write_bytes(mc.edit_part(data, SHEET1, lambda _: head + b"".join(rows) + tail))
    whole = _whole(monkeypatch, path, rules)
    spy.clear()
    assert _outcome(path, rules) == whole
    assert spy == [None]


def test_a_sheet_with_a_namespace_prefix_or_rows_without_r_is_read_whole(tmp_path: Path, spy: list[int | None],
                                                                          rules: Rules,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_r(xml: bytes) -> bytes:  # row 150 without its number: calamine counts positions
        return xml.replace(b'<row r="150"', b"<row", 1)

    path = _register(tmp_path, 200, no_r)
    whole = _whole(monkeypatch, path, rules)
    spy.clear()
    assert _outcome(path, rules) == whole
    assert spy in ([], [None])


def test_a_stored_piece_package_opens_in_calamine_with_the_original_strings_and_styles(tmp_path: Path,
                                                                                     rules: Rules) -> None:
    import python_calamine as pc

    from perechen.reader.files import identify

    path = _register(tmp_path, 50)
    data = path.read_bytes()
    pkg = identify(data, path, rules)
    parts = dict(mc.members(data))
    xml = parts[SHEET1]
    p = chunks.plan(xml, pkg, min_bytes=1, piece_bytes=1000)
    assert p is not None and len(p.pieces) > 3
    package = io.BytesIO()
    chunks.build_package(xml, p, pkg, parts.get("xl/sharedStrings.xml"), parts["xl/styles.xml"], package)
    with zipfile.ZipFile(package) as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    package.seek(0)
    wb = pc.CalamineWorkbook.from_filelike(package)
    assert wb.sheet_names == [f"p{i}" for i in range(len(p.pieces))]
    whole = pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    got = [r for i in range(len(p.pieces)) for r in wb.get_sheet_by_index(i).to_python(skip_empty_area=True)]

    def cells(rows: list[list[Any]]) -> list[list[Any]]:  # the valued rows, without trailing empty cells
        out = []
        for r in rows:
            while r and r[-1] == "":
                r = r[:-1]
            if r:
                out.append(r)
        return out

    assert cells(whole) == cells(got)


def test_no_room_for_the_pieces_file_reads_the_sheet_whole_and_leaves_nothing(tmp_path: Path, spy: list[int | None],
                                                                               rules: Rules,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    path = _register(tmp_path, 200)
    whole = _whole(monkeypatch, path, rules)
    spy.clear()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    real_open = Path.open

    def full_disk(self: Path, mode: str = "r", *a: Any, **k: Any) -> Any:
        if self.name == "pieces.xlsx":
            raise OSError(28, "No space left on device")
        return real_open(self, mode, *a, **k)

    monkeypatch.setattr(Path, "open", full_disk)
    assert _outcome(path, rules) == whole
    assert spy == []  # never read in pieces
    assert list((tmp_path / "temp").iterdir()) == []  # the temporary folder is gone


def test_the_switch_interval_is_short_while_the_pieces_are_read_and_restored_after(tmp_path: Path,
                                                                                   spy: list[int | None],
                                                                                   rules: Rules,
                                                                                   monkeypatch: pytest.MonkeyPatch
                                                                                   ) -> None:
    import sys

    path = _register(tmp_path, 200)
    seen: list[float] = []
    real = chunks._Grid.add

    def add(self: Any, *a: Any) -> None:
        seen.append(sys.getswitchinterval())
        real(self, *a)

    monkeypatch.setattr(chunks._Grid, "add", add)
    before = sys.getswitchinterval()
    read_register(path, rules)
    assert spy and spy[0] is not None and seen and max(seen) <= 0.0005
    assert sys.getswitchinterval() == before
    far = _register(tmp_path, 200, lambda xml: xml.replace(b'<row r="150"', b'<row r="150"><c r="XFD150" '
                                                           b't="inlineStr"><is><t>x</t></is></c></row><row r="151"', 1))
    with pytest.raises(FileError):
        read_register(far, rules)  # the pieces gave up and the whole guard refused it: restored all the same
    assert sys.getswitchinterval() == before
