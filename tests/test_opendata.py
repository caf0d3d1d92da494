"""The published renderings: open-data CSVs (methodical recommendations 3.0), datapackage.json, .xlsx, HTML."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perechen import canonical
from perechen.opendata import (
    DATAPACKAGE_NAME,
    META_NAME,
    PUBLISHED_FIELDS,
    XLSX_NAME,
    DataVersion,
    Publication,
    actualisation_date,
    executable,
    neutralise,
    open_rows,
    page_fingerprint,
    read_csv,
    render_data_csv,
    render_fragment,
    render_meta_csv,
    render_page,
    render_structure_csv,
    render_xlsx,
    safe_href,
    unneutralise,
    wordpress_content,
)
from perechen.reader import read_register
from perechen.rules import Rules
from perechen.targets.base import SiteContent

PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    '<img src="x" onerror="window.__pwned = \'onerror\'">',
    '"><svg onload="window.__pwned=\'svg\'">',
    "--><script>window.__pwned='comment'</script><!--",
    "[gallery ids=\"1\"] [embed]http://example.com[/embed]",
]
DANGEROUS = ["=1+2", "+SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)", "\tTAB", "\rCR", "'=1+2",
             "=HYPERLINK(\"x\")", "+A1", "cmd|' /C calc'!A0"]
# Data that only looks like it starts a formula is published verbatim (issue 11 item 17; these were neutralised
# before): a phone, a list item, a negative number, an apostrophe before ordinary text.
VERBATIM = ["+7 (4012) 00-00-00", "- текст пункта", "-5", "'апостроф", "+ 1 этаж", "- см. п. 2.5.1 Порядка!"]


def publication(rules: Rules, rows: list[dict[str, Any]], info: dict[str, str] | None = None,
                **kw: Any) -> Publication:
    """A Publication from rows given as field dicts (canonicalised like the store does)."""
    canon = [canonical.canonical_row(r, rules) for r in rows]
    canon = [r for r in canon if r.get("status") == canonical.INCLUDED]
    inf = canonical.canonical_info(info or {}, rules)
    data = {"rows": canon, "info": inf, "fingerprint": canonical.fingerprint(canon, inf),
            "schema_version": rules.schema.version}
    updated = kw.pop("updated", None) or actualisation_date(canon, dt.date(2026, 1, 1))
    return Publication(rules=rules, data=data, updated=updated, **kw)


@pytest.fixture
def pub(rules: Rules, good_rows: list[dict[str, Any]], good_info: dict[str, str]) -> Publication:
    info = dict(good_info, inn="3906000000", keeper="Иванова И. И.", phone="+7 (4012) 00-00-00",
                email="gtn@example.test")
    return publication(rules, good_rows, info)


def from_workbook(make_workbook: Any, rules: Rules, rows: list[dict[str, Any]], info: dict[str, str]) -> Publication:
    reg = read_register(make_workbook(rows, info), rules)
    data = canonical.canonical_register(reg, rules)
    return Publication(rules=rules, data=data, updated=actualisation_date(data["rows"], dt.date(2026, 1, 1)))


# ------------------------------------------------------------------------------------------------ CSV cells


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_neutralise_is_reversible_and_safe(text: str) -> None:
    out = neutralise(text)
    assert unneutralise(out) == text
    assert not executable(out)


@pytest.mark.parametrize("value", DANGEROUS)
def test_dangerous_cells_get_an_apostrophe(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert neutralise("обычный текст") == "обычный текст"


@pytest.mark.parametrize("value", VERBATIM)
def test_data_that_only_looks_like_a_formula_stays_verbatim(value: str) -> None:
    assert neutralise(value) == value and unneutralise(value) == value


def test_data_csv_is_rfc4180_utf8_and_round_trips(rules: Rules, good_rows: list[dict[str, Any]]) -> None:
    rows = copy.deepcopy(good_rows)
    for i, value in enumerate(DANGEROUS):
        rows[i % len(rows)]["basis"] = value
    rows[0]["name"] = 'Имя, с запятой и "кавычками"'
    rows[1]["accessibility"] = "строка 1\nстрока 2"
    p = publication(rules, rows)
    raw = render_data_csv(p)
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    text = raw.decode("utf-8")
    assert text.endswith("\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == [f.field for f in PUBLISHED_FIELDS]
    assert {len(r) for r in parsed} == {len(PUBLISHED_FIELDS)}, "every row has the same number of fields"
    for r in parsed[1:]:
        for cell in r:
            assert not executable(cell), cell
    assert read_csv(raw) == open_rows(p)
    back = {r["code"]: r for r in read_csv(raw)}
    assert back[rows[0]["code"]]["name"] == 'Имя, с запятой и "кавычками"'
    assert "\n" in back[rows[1]["code"]]["accessibility"]


def test_csv_round_trips_to_the_workbook_rows(make_workbook: Any, rules: Rules, good_rows: list[dict[str, Any]],
                                              good_info: dict[str, str]) -> None:
    rows = copy.deepcopy(good_rows)
    rows[2]["basis"] = "=1+2"
    rows[3]["status"] = "черновик"
    rows[4]["status"] = "исключено"
    p = from_workbook(make_workbook, rules, rows, good_info)
    back = read_csv(render_data_csv(p))
    assert [r["code"] for r in back] == [r["code"] for r in good_rows if r["code"] not in ("ТВ-04", "ТВ-05")]
    reg_rows = {r["code"]: r for r in p.rows}
    for r in back:
        for f in PUBLISHED_FIELDS:
            want = reg_rows[r["code"]][f.field]
            want = "; ".join(want) if isinstance(want, list) else (want or "")
            assert r[f.field] == want, (r["code"], f.field)
    assert next(r for r in back if r["code"] == "ТВ-03")["basis"] == "=1+2"


def test_structure_csv(pub: Publication) -> None:
    raw = render_structure_csv(pub)
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[0] == "field name,english description,russian description,format"
    rows = read_csv(raw)
    assert [r["field name"] for r in rows] == [f.field for f in PUBLISHED_FIELDS]
    assert all(r["format"] == "string" for r in rows)
    assert next(r for r in rows if r["field name"] == "name")["russian description"] == \
        "Наименование точки взаимодействия"


def test_meta_csv_order_and_identifier(pub: Publication) -> None:
    pub.history = [DataVersion("20230101", "data-20230101-structure-20240226.csv", b"x")]
    pub.created = dt.date(2023, 1, 5)
    raw = render_meta_csv(pub, {pub.data_name: "https://site.example/u/" + pub.data_name})
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0] == ["property", "value"]
    props = [r[0] for r in rows[1:]]
    assert props[:14] == ["standardversion", "identifier", "title", "description", "creator", "created", "modified",
                          "subject", "format", "provenance", "valid", "publishername", "publisherphone",
                          "publishermbox"]
    meta = {r[0]: unneutralise(r[1]) for r in rows[1:]}
    assert meta["standardversion"] == "http://opendata.gosmonitor.ru/standard/3.0"
    assert meta["identifier"] == "3906000000-touchpoints"
    assert meta["format"] == "CSV"
    assert meta["created"] == "20230105"
    assert meta["modified"] == pub.updated.strftime("%Y%m%d")
    assert re.fullmatch(r"\d{8}", meta["valid"]) and meta["valid"] > meta["modified"]
    assert meta["publisherphone"] == "+7 (4012) 00-00-00", "read back without the apostrophe"
    # Newest version first (issue 11 item 16; oldest first before).
    assert props[14:] == [f"data-{pub.data_version}-structure-20240226", "data-20230101-structure-20240226",
                          "structure-20240226"]
    assert meta["data-20230101-structure-20240226"] == "data-20230101-structure-20240226.csv"
    assert meta[f"data-{pub.data_version}-structure-20240226"] == "https://site.example/u/" + pub.data_name
    # The phone is published verbatim (issue 11 item 17; it was «'+7 …» before).
    assert "publisherphone,+7 (4012) 00-00-00" in raw.decode("utf-8")


def test_identifier_without_inn(rules: Rules, good_rows: list[dict[str, Any]]) -> None:
    assert publication(rules, good_rows, {}).identifier == "touchpoints"
    assert publication(rules, good_rows, {"inn": "39 06 000000"}, dataset_code="tochki").identifier == \
        "3906000000-tochki"


# ------------------------------------------------------------------------------------------------ Frictionless

FRICTIONLESS = Path(sys.executable).with_name("frictionless")


def _frictionless(folder: Path) -> subprocess.CompletedProcess[str]:
    exe = str(FRICTIONLESS) if FRICTIONLESS.exists() else shutil.which("frictionless")
    if exe is None:
        pytest.fail("the frictionless CLI is not installed in the venv (pip install frictionless)")
    return subprocess.run([exe, "validate", "--json", DATAPACKAGE_NAME], cwd=folder, capture_output=True,
                          text=True, timeout=120)


def test_frictionless_validate_accepts_the_open_data(tmp_path: Path, rules: Rules,
                                                     good_rows: list[dict[str, Any]]) -> None:
    rows = copy.deepcopy(good_rows)
    rows[0]["basis"] = "=cmd|' /C calc'!A0"
    rows[1]["name"] = "Строка с «кавычками», запятой и\nпереносом"
    p = publication(rules, rows, {"inn": "3906000000"})
    site = SiteContent(p)
    for f in site.relative_files():
        (tmp_path / f.name).write_bytes(f.content)
    done = _frictionless(tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["valid"], done.stdout[-3000:]
    descriptor = json.loads((tmp_path / DATAPACKAGE_NAME).read_text(encoding="utf-8"))
    res = descriptor["resources"][0]
    assert res["path"] == p.data_name and res["encoding"] == "utf-8" and res["dialect"]["delimiter"] == ","
    assert [f["name"] for f in res["schema"]["fields"]] == [f.field for f in PUBLISHED_FIELDS]
    # The data file as frictionless reads it: the same rows (apostrophes are part of the neutralised text).
    from frictionless import Resource

    with Resource(str(tmp_path / p.data_name)) as resource:
        read = [{k: ("" if v is None else str(v)) for k, v in row.items()} for row in resource.read_rows()]
    assert [unneutralise(r["basis"]) for r in read] == [r["basis"] for r in open_rows(p)]
    # A tampered data file no longer matches the package's hash.
    data = tmp_path / p.data_name
    data.write_bytes(data.read_bytes().replace("ТВ-02".encode(), "ТВ-99".encode()))
    bad = _frictionless(tmp_path)
    assert bad.returncode != 0


# ------------------------------------------------------------------------------------------------ XLSX


def test_xlsx_is_formatted_and_every_text_cell_is_a_string(rules: Rules, good_rows: list[dict[str, Any]]) -> None:
    from openpyxl import load_workbook

    rows = copy.deepcopy(good_rows)
    for i, value in enumerate(["=1+2", "+7", "-5", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")"]):
        rows[i]["basis"] = value
    p = publication(rules, rows)
    raw = render_xlsx(p)
    assert render_xlsx(p) == raw, "the same data gives the same bytes"
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet, "no formulas"
    wb = load_workbook(io.BytesIO(raw))
    ws = wb["Перечень"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:O{len(p.rows) + 1}"
    assert ws["A1"].font.bold
    header = [c.value for c in ws[1]]
    assert header[0] == "Код" and len(header) == len(PUBLISHED_FIELDS)
    basis_col = [f.field for f in PUBLISHED_FIELDS].index("basis") + 1
    values = [ws.cell(row=r, column=basis_col) for r in range(2, 7)]
    assert [c.value for c in values] == ["=1+2", "+7", "-5", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")"]
    assert all(c.data_type == "s" for c in values)
    date_col = [f.field for f in PUBLISHED_FIELDS].index("changed_on") + 1
    assert isinstance(ws.cell(row=2, column=date_col).value, dt.datetime)
    assert "Сведения" in wb.sheetnames
    # python-calamine (what the reader uses) sees text, not a computed value.
    from python_calamine import CalamineWorkbook

    cal = CalamineWorkbook.from_filelike(io.BytesIO(raw)).get_sheet_by_name("Перечень").to_python()
    assert cal[1][basis_col - 1] == "=1+2"


# ------------------------------------------------------------------------------------------------ HTML


def test_page_groups_escapes_and_only_included(rules: Rules, good_rows: list[dict[str, Any]],
                                               good_info: dict[str, str]) -> None:
    rows = copy.deepcopy(good_rows)
    rows[0]["name"] = PAYLOADS[0]
    rows[1]["basis"] = PAYLOADS[1]
    rows[2]["name"] = PAYLOADS[4]
    rows[4]["clients"] = PAYLOADS[2]
    rows[5]["basis"] = PAYLOADS[3]
    rows[6]["status"] = "черновик"
    rows[7]["status"] = "исключено"
    info = dict(good_info, agency='Служба <b onmouseover="x()">', approving_document="Приказ & <i>")
    p = publication(rules, rows, info)
    p.approval = "Приказ & <i>"  # the recorded act's citation (perechen.clock.act_citation)
    links = {XLSX_NAME: XLSX_NAME, p.data_name: p.data_name, META_NAME: "https://site.example/meta.csv"}
    html = render_page(p, links, {XLSX_NAME: 9000})
    frag = render_fragment(p, links)
    for text in (html, frag):
        tags, attrs = _parse(text)
        assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
        assert not {a for a in attrs if a.startswith("on")}, attrs
        assert "[gallery" not in text and "&#91;gallery" in text, "shortcodes defused"
        assert "--><" not in text
    assert '<html lang="ru">' in html
    assert "Content-Security-Policy" in html
    assert "&lt;script&gt;" in html
    assert "ТВ-07" not in html and "ТВ-08" not in html, "only «включено» rows"
    assert html.count("<caption>") == 2
    assert html.index("Цифровые точки") < html.index("Офлайн-точки")
    assert 'scope="col"' in html and 'scope="row"' in html
    assert "Дата актуализации" in html and p.updated.strftime("%d.%m.%Y") in html
    assert "Приказ &amp; &lt;i&gt;" in html
    assert 'href="https://site.example/meta.csv"' in html and f'href="{XLSX_NAME}"' in html
    assert "9 КБ" in html
    assert page_fingerprint(html) == p.fingerprint
    wp = wordpress_content(frag)
    assert wp.startswith("<!-- wp:html -->\n") and wp.endswith("\n<!-- /wp:html -->")
    assert wp.count("<!--") == 2, "no comment can be opened from the data"
    assert _parse(frag)[0] <= ALLOWED_TAGS - {"html", "head", "meta", "title", "body", "main", "h1"}


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "div", "p", "strong", "time",
                "ul", "li", "a", "table", "caption", "thead", "tbody", "tr", "th", "td"}


def _parse(text: str) -> tuple[set[str], set[str]]:
    """The element names and attribute names of an HTML document, as a browser's tokenizer sees them."""
    from html.parser import HTMLParser

    tags: set[str] = set()
    attrs: set[str] = set()

    class P(HTMLParser):
        def handle_starttag(self, tag: str, a: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attrs.update(k for k, _ in a)

    parser = P()
    parser.feed(text)
    parser.close()
    return tags, attrs


def test_links_are_only_http_or_relative() -> None:
    assert safe_href("https://site.example/wp-content/uploads/2026/11/meta.csv")
    assert safe_href("data-20240226-structure-20240226.csv")
    for bad in ("javascript:alert(1)", "data:text/html,x", 'x" onclick="y', "java\nscript:x"):
        with pytest.raises(ValueError):
            safe_href(bad)


def test_digital_rows_follow_the_order_of_section_4(rules: Rules, good_rows: list[dict[str, Any]]) -> None:
    rows = list(reversed(copy.deepcopy(good_rows)))
    p = publication(rules, rows)
    groups = p.groups()
    assert [g.title for g in groups] == ["Цифровые точки взаимодействия", "Офлайн-точки взаимодействия"]
    assert [r["kind"] for r in groups[0].rows] == [
        "система электронного документооборота (СЭД)", "электронная почта Службы",
        "автоматизированное рабочее место государственного служащего (АРМ ГС)", "система учёта заявок"]
    assert [r["kind"] for r in groups[1].rows] == ["телефонная связь", "кабинеты внутренних клиентов",
                                                   "рабочее место клиентов", "личное взаимодействие"]


def test_renderings_are_deterministic(pub: Publication) -> None:
    a = {f.name: f.content for f in SiteContent(pub).relative_files()}
    b = {f.name: f.content for f in SiteContent(pub).relative_files()}
    assert a == b


# ------------------------------------------------------------------------------------------------ browser


@pytest.mark.browser
def test_published_page_in_a_real_browser(tmp_path: Path, rules: Rules, good_rows: list[dict[str, Any]],
                                          good_info: dict[str, str]) -> None:
    from tests.browser import check_page, require_browser

    require_browser()
    rows = copy.deepcopy(good_rows)
    for i, payload in enumerate(PAYLOADS):
        rows[i]["name"] = payload
    rows[5]["basis"] = "Оченьдлинноеслово" * 12  # one unbreakable word must not force a horizontal scroll
    p = publication(rules, rows, good_info)
    for f in SiteContent(p).relative_files():
        (tmp_path / f.name).write_bytes(f.content)
    page = tmp_path / "index.html"
    for zoom in (1.0, 2.0):
        res = check_page(page, zoom=zoom, screenshot=tmp_path / f"page-{zoom:g}.png")
        assert not res.serious, res.describe(res.serious)
        assert res.js_flag is None, f"an injected script ran: {res.js_flag!r}"
        assert not res.dialogs and not res.external_requests and not res.console_errors
        assert res.lang == "ru"
        assert not res.horizontal_scroll_at_200, res.scroll_width_at_200
