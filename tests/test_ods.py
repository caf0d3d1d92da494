"""OpenDocument registers (.ods, issue 13 §3): check, diff, publish and nightly read an .ods exactly as the
.xlsx it was saved from, and the annotated copy of an .ods is an .ods with the same marks.

The .ods files are LibreOffice's own conversions of workbooks the tests build (the reader's hostile .ods
cases live in tests/corpus/make_corpus.py, read in a memory-limited child by tests/test_reader_limits.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.annotate import ods as annotate_ods
from perechen.cli import main
from perechen.models import Finding, Severity
from perechen.reader import read_register
from perechen.rules import Rules
from tests.corpus import make_corpus as mc

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def _check_json(path: Path, out: Path) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, ["check", str(path), "--format", "json", "--report-dir", str(out)])
    assert "Traceback" not in res.output
    return res.exit_code, json.loads(res.stdout)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A register with rule errors as .xlsx, and the same workbook saved as .ods by LibreOffice."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    d = tmp_path_factory.mktemp("ods-pair")
    rows = mc.rows()
    rows[1]["status"] = "непонятно"
    rows[2]["name"] = ""
    rows[3]["changed_on"] = "31.02.2024"
    rows[4]["channel"] = "цифровая; голубиная почта"
    rows[5]["note"] = "=HYPERLINK(\"http://evil\")"
    from perechen.template import build_workbook

    xlsx = d / "perechen.xlsx"
    xlsx.write_bytes(build_workbook(mc.rules(), rows, mc._example().INFO))
    ods = mc.soffice_convert(xlsx, "ods", d / "ods")
    return xlsx, ods


def test_check_ods_gives_the_same_findings_at_the_same_cells(pair: tuple[Path, Path], tmp_path: Path) -> None:
    xlsx, ods = pair
    code_x, doc_x = _check_json(xlsx, tmp_path / "x")
    code_o, doc_o = _check_json(ods, tmp_path / "o")
    assert code_x == code_o == 1
    key = lambda f: (f["code"], f.get("sheet"), f.get("cell"), f.get("message"))  # noqa: E731
    assert sorted(map(key, doc_o["findings"])) == sorted(map(key, doc_x["findings"]))
    assert doc_o["errors"] == doc_x["errors"] >= 3
    assert {f["cell"] for f in doc_o["findings"] if f["code"] != "info-sheet-missing"} >= {"P3"}


def test_ods_master_untouched_and_annotated_copy_is_ods(pair: tuple[Path, Path], tmp_path: Path,
                                                        rules: Rules) -> None:
    _, ods = pair
    master = tmp_path / "perechen.ods"
    shutil.copy2(ods, master)
    before = hashlib.sha256(master.read_bytes()).hexdigest(), master.stat().st_mtime_ns
    _, doc = _check_json(master, tmp_path / "r")
    assert (hashlib.sha256(master.read_bytes()).hexdigest(), master.stat().st_mtime_ns) == before
    copy_path = tmp_path / "r" / "замечания-perechen.ods"
    assert copy_path.is_file(), sorted(p.name for p in (tmp_path / "r").iterdir())
    data = copy_path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.infolist()[0].filename == "mimetype" and zf.infolist()[0].compress_type == zipfile.ZIP_STORED
        content = zf.read("content.xml").decode("utf-8")
        with zipfile.ZipFile(master) as orig:
            for name in orig.namelist():  # every other part byte for byte (styles.xml: tests/test_paper_ods.py)
                if name not in ("content.xml", "styles.xml"):
                    assert zf.read(name) == orig.read(name), name
    assert content.index('table:name="Замечания"') < content.index('table:name="Перечень"')
    assert content.count("<office:annotation>") == len({f["cell"] for f in doc["findings"] if f.get("cell")})
    assert 'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"' in content  # used only in formulas
    # The copy is still the same register for the reader (the «Замечания» table is not a register).
    reg0, reg1 = read_register(master, rules), read_register(copy_path, rules)
    assert [r.values for r in reg1.rows] == [r.values for r in reg0.rows]
    assert {(f.code, f.cell) for f in reg1.findings} == {(f.code, f.cell) for f in reg0.findings}


@needs_soffice
def test_libreoffice_opens_the_annotated_copy_with_fills_comments_and_links(pair: tuple[Path, Path],
                                                                             tmp_path: Path) -> None:
    from openpyxl import load_workbook

    _, ods = pair
    _, doc = _check_json(ods, tmp_path / "r")
    out = mc.soffice_convert(tmp_path / "r" / f"замечания-{ods.stem}.ods", "xlsx", tmp_path / "x")
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Замечания"
    ws = wb["Перечень"]
    cells = {f["cell"] for f in doc["findings"] if f.get("cell") and f["severity"] == "error"}
    for ref in cells:
        assert ws[ref].fill.fgColor.rgb == "FFFF9C9C", ref
        assert ws[ref].comment is not None and "Ошибка [" in ws[ref].comment.text, ref
    assert ws["R2"].value == dt.datetime(2024, 2, 26) and "yy" in ws["R2"].number_format  # date format kept
    z = wb["Замечания"]
    assert [c.value for c in z[1]] == [h for h, _ in annotate_ods.COLUMNS]
    assert z.max_row == len(doc["findings"]) + 1
    links = [c.hyperlink.location for c in z["D"][1:] if c.hyperlink]
    assert links and all(link.startswith("Перечень!") for link in links)


def _ods(rows_xml: str) -> bytes:
    return mc.ods_zip(mc.ods_content(rows_xml))


def _cell(text: str) -> str:
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def test_a_cell_inside_repeated_rows_and_cells_is_split_out(rules: Rules) -> None:
    """Row 2 repeated 4 times, 5 identical cells: marking C4 splits the run, values stay where they were."""
    rep = ('<table:table-row table:number-rows-repeated="4"><table:table-cell table:number-columns-repeated="5" '
           'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    data = _ods('<table:table-row>' + _cell("Код") + _cell("Процесс") + "</table:table-row>" + rep)
    f = Finding(code="required-empty", severity=Severity.ERROR, clause="2.1.2", message="Пусто <&> «x»",
                sheet="Перечень", cell="C4", row=4, column="C")
    out, notes = annotate_ods.annotate(data, [f], sheet="Перечень", comment_text=lambda fs: fs[0].message,
                                       responsible=lambda f: "", value_text=lambda f: "")
    assert notes == []
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        content = zf.read("content.xml")
    # rows 2-3, row 4, row 5; in row 4: cells A-B, C, D-E
    assert re.findall(rb'number-rows-repeated="(\d+)"', content) == [b"2", b"1"]
    assert re.findall(rb'number-columns-repeated="(\d+)"', content) == [b"5", b"2", b"2", b"5"]
    assert b"\xd0\x9f\xd1\x83\xd1\x81\xd1\x82\xd0\xbe &lt;&amp;&gt;" in content  # escaped once
    import python_calamine as pc

    grid = pc.CalamineWorkbook.from_filelike(io.BytesIO(out)).get_sheet_by_name("Перечень").to_python()
    assert grid[1:] == [["x"] * 5] * 4


def test_diff_publish_nightly_read_an_ods_register(pair: tuple[Path, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    base_ods = mc.corpus_dir()["ods_base"]
    if base_ods is None:
        pytest.skip("needs soffice")
    monkeypatch.chdir(tmp_path)
    shutil.copy2(base_ods, tmp_path / "perechen.ods")
    (tmp_path / "perechen.toml").write_text(
        'workbook = "perechen.ods"\noutput = "output"\n[publish]\nauto = true\ntarget = "folder"\n'
        '[targets.folder]\ntype = "folder"\npath = "output/site"\n', encoding="utf-8")
    before = (tmp_path / "perechen.ods").read_bytes()
    res = CliRunner().invoke(main, ["publish"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "output" / "site" / "index.html").is_file()
    res = CliRunner().invoke(main, ["diff", "--against", str(pair[1]), "--format", "json", "--no-report"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["changes"]
    res = CliRunner().invoke(main, ["nightly"])
    assert res.exit_code in (0, 1), res.output
    assert "Traceback" not in res.output
    assert (tmp_path / "perechen.ods").read_bytes() == before
