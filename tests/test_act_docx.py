"""The draft act (.docx): opened by python-docx and by LibreOffice (headless conversion), its text read back."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from perechen.act_docx import TITLE_AMEND, TITLE_APPROVE, ActContent, build_act
from perechen.canonical import canonical_register
from perechen.reader import read_register
from perechen.rules import Rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load(None)


@pytest.fixture(scope="module")
def bundled(rules: Rules) -> dict[str, Any]:
    return canonical_register(read_register(ROOT / "workbook" / "perechen.xlsx", rules), rules)


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("soffice") is None:
        if os.environ.get("PERECHEN_REQUIRE_SERVERS") == "1":
            pytest.fail("LibreOffice (soffice) обязателен, но не найден", pytrace=False)
        pytest.skip("нет LibreOffice (soffice)")
    return tmp_path_factory.mktemp("lo-profile")


def lo_convert(src: Path, fmt: str, profile: Path) -> Path:
    out = src.parent / "lo"
    out.mkdir(exist_ok=True)
    proc = subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", fmt, "--outdir", str(out), str(src)],
                          capture_output=True, text=True, timeout=180, check=False)
    res = out / f"{src.stem}.{fmt.split(':', 1)[0]}"
    assert proc.returncode == 0 and res.is_file(), f"LibreOffice could not open {src.name}: {proc.stderr[-2000:]}"
    return res


def headers(rules: Rules) -> dict[str, str]:
    return {c.field: c.header for c in rules.schema.columns}


def first_act(rules: Rules, data: dict[str, Any], **kw: Any) -> ActContent:
    return ActContent(kind="approve", agency=data["info"]["agency"], headers=headers(rules), rows=data["rows"],
                      site="https://gtn.example.ru", keeper="Начальник отдела организационной работы", **kw)


def test_first_act_text_read_back_by_libreoffice(tmp_path: Path, rules: Rules, bundled: dict[str, Any],
                                                 lo_profile: Path) -> None:
    path = tmp_path / "act.docx"
    path.write_bytes(build_act(first_act(rules, bundled)))
    text = lo_convert(path, "txt:Text (encoded):UTF8", lo_profile).read_text(encoding="utf-8-sig")
    flat = re.sub(r"\s+", " ", text)
    assert "ГОСУДАРСТВЕННАЯ ИНСПЕКЦИЯ ПО НАДЗОРУ" in flat
    assert "ПРИКАЗ" in flat and "г. Калининград" in flat and "№ ______" in flat
    assert TITLE_APPROVE in flat
    assert "пунктом 5.1 Порядка" in flat and "от 26.02.2024 № 25-о" in flat and "п р и к а з ы в а ю:" in flat
    assert "1. Утвердить перечень точек взаимодействия с клиентом согласно приложению" in flat
    assert "2. Разместить утверждённый перечень" in flat and "(пункт 5.2 Порядка)" in flat
    assert "10 рабочих дней" not in flat  # the first placement (5.2) has no term
    assert "3. Контроль за исполнением настоящего приказа" in flat
    assert "Руководитель (директор)" in flat
    assert "Приложение к приказу от ____________ № ______" in flat
    lines = [ln.strip() for ln in text.splitlines()]
    for row in bundled["rows"]:  # every appendix row
        assert row["code"] in lines and row["name"] in lines
    # Well-formed enough to print: PDF with a portrait first page and landscape appendix pages.
    pdf = lo_convert(path, "pdf", lo_profile).read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    sizes = [(round(float(w)), round(float(h))) for w, h in boxes if float(w) != float(h)]
    assert (595, 842) in sizes and (842, 595) in sizes


def test_first_act_layout_seen_by_python_docx(rules: Rules, bundled: dict[str, Any]) -> None:
    d = docx.Document(io.BytesIO(build_act(first_act(rules, bundled))))
    main, app = d.sections
    assert main.orientation == WD_ORIENT.PORTRAIT and app.orientation == WD_ORIENT.LANDSCAPE
    assert round(main.left_margin.mm) == 30 and round(main.right_margin.mm) == 10
    assert main.different_first_page_header_footer  # no page number on page 1
    assert not app.different_first_page_header_footer
    assert "PAGE" in main.header._element.xml
    normal = d.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size.pt == 14
    texts = [p.text for p in d.paragraphs]
    assert texts.index(TITLE_APPROVE) < next(i for i, t in enumerate(texts) if t.startswith("1. Утвердить"))
    table = d.tables[-1]
    assert len(table.rows) == 1 + len(bundled["rows"])
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # header row repeats on each page
    assert table.rows[0].cells[1].text == "Код"
    assert [r.cells[1].text for r in table.rows[1:]] == [r["code"] for r in bundled["rows"]]
    sizes = {run.font.size.pt for cell in table.rows[1].cells for p in cell.paragraphs for run in p.runs}
    assert sizes == {12}
    assert d.core_properties.title == TITLE_APPROVE


def test_amending_act_lists_changes_by_case_with_new_wording(tmp_path: Path, rules: Rules, bundled: dict[str, Any],
                                                            lo_profile: Path) -> None:
    rows = bundled["rows"]
    changed = dict(rows[1], kind="личный прием", needs=["консультация"])
    content = ActContent(kind="amend", agency=bundled["info"]["agency"], headers=headers(rules),
                         changes={"added": [rows[0]], "kind_changed": [changed], "needs_changed": [changed],
                                  "excluded": [rows[3]]},
                         previous_act="приказом от 08.12.2026 № 31-о", demo=True)
    path = tmp_path / "amend.docx"
    path.write_bytes(build_act(content))
    text = lo_convert(path, "txt:Text (encoded):UTF8", lo_profile).read_text(encoding="utf-8-sig")
    flat = re.sub(r"\s+", " ", text)
    assert TITLE_AMEND in flat and "ДЕМОНСТРАЦИОННЫЙ ПРОЕКТ" in flat
    assert "утверждённый приказом от 08.12.2026 № 31-о, изменения согласно приложению" in flat
    assert "в течение 10 рабочих дней со дня внесения изменений (пункт 5.4 Порядка)" in flat
    order = [flat.index(s) for s in ("1. Включить в перечень", "2. Изложить в новой редакции сведения о точках "
                                     "взаимодействия, вид", "3. Изложить в новой редакции сведения о точках "
                                     "взаимодействия, удовлетворяемые", "4. Исключить из перечня")]
    assert order == sorted(order)
    assert "подпункт 5.3.1" in flat and "подпункт 5.3.4" in flat
    assert "цифровая, личный прием" in flat  # the new wording of the changed row
    assert flat.count(rows[1]["code"]) == 2 and rows[3]["code"] in flat and rows[0]["code"] in flat
    assert "Редакционные" not in flat and "уточнённые" not in flat  # no empty case sections


def test_control_characters_and_markup_in_cells_do_not_break_the_act(rules: Rules, bundled: dict[str, Any]) -> None:
    row = dict(bundled["rows"][0], name="Приём <b>&amp;\x01\x0b «граждан»", basis="=HYPERLINK(\"http://x\")")
    data = build_act(first_act(rules, {"info": bundled["info"], "rows": [row]}))
    d = docx.Document(io.BytesIO(data))
    cells = [c.text for c in d.tables[-1].rows[1].cells]
    assert "Приём <b>&amp; «граждан»" in cells
    assert '=HYPERLINK("http://x")' in cells  # Word does not evaluate text: kept verbatim


def test_missing_agency_name_leaves_a_blank_not_an_empty_line(rules: Rules, bundled: dict[str, Any]) -> None:
    content = first_act(rules, bundled)
    content.agency = ""
    d = docx.Document(io.BytesIO(build_act(content)))
    assert any(p.text.startswith("_____") for p in d.paragraphs[:4])
