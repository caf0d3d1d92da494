"""Paper (issue 13 §5) for the annotated copy of an .ods register: its «Замечания» prints like the .xlsx copy's —
A4 landscape, fitted to the page width, the header row repeated on every page.

The page style is read back from the copy (styles.xml: a page layout and a master page; content.xml: the table's
style names that master page; the header row in ``table:table-header-rows``) and the copy is printed to PDF by
LibreOffice: two findings add one page to the book, not one per column strip.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree as DET

from perechen.annotate.ods import FINDINGS_TABLE, NS
from perechen.rules import Rules
from tests.corpus import make_corpus as mc
from tests.test_paper import PDF, pdf_pages, two_findings
from tests.test_render import run_reports
from tests.test_render_libreoffice import convert, lo_profile  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore:Unknown extension is not supported:UserWarning")


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _annotated(tmp_path: Path, rules: Rules) -> tuple[Path, Path]:
    ods = mc.corpus_dir()["ods_base"]
    if ods is None:
        pytest.skip("needs LibreOffice (soffice)")
    src = tmp_path / "perechen.ods"
    shutil.copyfile(ods, src)
    report = run_reports(src, rules, tmp_path / "out", extra=two_findings())
    copies = list((tmp_path / "out").glob("*.ods"))
    assert len(copies) == 1, report.files
    return src, copies[0]


def test_findings_table_of_the_ods_copy_prints_a4_landscape_fitted(tmp_path: Path, rules: Rules) -> None:
    _, copy = _annotated(tmp_path, rules)
    with zipfile.ZipFile(copy) as z:
        content = DET.fromstring(z.read("content.xml"))
        styles = DET.fromstring(z.read("styles.xml"))
    table = next(t for t in content.iter(_q("table:table")) if t.get(_q("table:name")) == FINDINGS_TABLE)
    assert table.find(_q("table:table-header-rows")) is not None, "the header row repeats on every page"
    style_name = table.get(_q("table:style-name"))
    table_style = next(s for s in content.iter(_q("style:style")) if s.get(_q("style:name")) == style_name)
    assert table_style.get(_q("style:family")) == "table"
    master_name = table_style.get(_q("style:master-page-name"))
    master = next(m for m in styles.iter(_q("style:master-page")) if m.get(_q("style:name")) == master_name)
    layout = next(pl for pl in styles.iter(_q("style:page-layout"))
                  if pl.get(_q("style:name")) == master.get(_q("style:page-layout-name")))
    props = layout.find(_q("style:page-layout-properties"))
    assert props is not None
    assert props.get(_q("style:print-orientation")) == "landscape"
    assert (props.get(_q("fo:page-width")), props.get(_q("fo:page-height"))) == ("29.7cm", "21cm")  # A4
    assert props.get(_q("style:scale-to-X")) == "1" and props.get(_q("style:scale-to-Y")) == "0", \
        "fitted to one page wide, as many pages tall as it needs"
    # The clerk's own tables keep their page styles.
    others = [t for t in content.iter(_q("table:table")) if t is not table]
    assert others and all(t.get(_q("table:style-name")) != style_name for t in others)


def test_styles_part_stays_valid_for_libreoffice_and_the_rest_is_copied(tmp_path: Path, rules: Rules) -> None:
    src, copy = _annotated(tmp_path, rules)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(copy) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        for name in a.namelist():
            if name not in ("content.xml", "styles.xml"):
                assert a.read(name) == b.read(name), name
        before = DET.fromstring(a.read("styles.xml"))
        after = DET.fromstring(b.read("styles.xml"))
    names = {m.get(_q("style:name")) for m in before.iter(_q("style:master-page"))}
    assert names <= {m.get(_q("style:name")) for m in after.iter(_q("style:master-page"))}, "no master page lost"


def test_two_findings_add_one_page(tmp_path: Path, rules: Rules, lo_profile: Path) -> None:  # noqa: F811
    src, copy = _annotated(tmp_path, rules)
    book = pdf_pages(convert(src, PDF, tmp_path / "pdf-book", lo_profile))
    annotated = pdf_pages(convert(copy, PDF, tmp_path / "pdf-copy", lo_profile))
    assert annotated - book == 1, (book, annotated)



def _without_or_with(data: bytes, styles: bytes | None) -> bytes:
    """The package with styles.xml removed (None) or replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == "styles.xml":
                if styles is None:
                    continue
                dst.writestr(info, styles)
            else:
                dst.writestr(info, src.read(info))
    return out.getvalue()


@pytest.mark.parametrize("styles", [None, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
                                          b'<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:'
                                          b'xmlns:office:1.0">&e;</office:document-styles>'],
                         ids=["no styles.xml", "styles.xml with a DTD"])
def test_a_package_without_usable_styles_is_annotated_without_the_page_style(styles: bytes | None) -> None:
    from perechen.annotate.ods import annotate

    ods = mc.corpus_dir()["ods_base"]
    if ods is None:
        pytest.skip("needs LibreOffice (soffice)")
    data = _without_or_with(Path(ods).read_bytes(), styles)
    out, _notes = annotate(data, two_findings(), sheet="Перечень", comment_text=lambda fs: "x",
                           responsible=lambda f: "", value_text=lambda f: "")
    with zipfile.ZipFile(io.BytesIO(out)) as z:
        assert ("styles.xml" in z.namelist()) == (styles is not None)
        if styles is not None:
            assert z.read("styles.xml") == styles, "a part perechen cannot read safely is copied as it is"
        content = DET.fromstring(z.read("content.xml"))
    table = next(t for t in content.iter(_q("table:table")) if t.get(_q("table:name")) == FINDINGS_TABLE)
    assert table.get(_q("table:style-name")) is None
