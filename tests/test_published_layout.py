"""Issue 13 §4: the published page fits a real CMS theme.

The fragment's layout follows the space it has (CSS container query on ``.perechen-register``), not the
window: cards by default (also the fallback of a browser without container queries), the table only in a
container of at least 64rem (1024 px). Measured in Chromium: on its own page at 1280 px, at 200 % zoom, in a 600 px
container; and published to the suite's real WordPress (theme Twenty Twenty-Three, content column ~650 px in a
1280 px window) — no word broken inside, no word wider than its cell, codes on one line, no horizontal scroll,
axe clean (serious/critical).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from perechen.opendata import META_NAME, XLSX_NAME, render_fragment, render_page
from perechen.rules import Rules
from tests.test_opendata import publication

ROOT_SEL = ".perechen-register"

# Long Russian words the theme used to split («Кате/гори/я клие/нтов», «разъясн/ение»).
LONG_WORDS = ("Высокотехнологичное", "разъяснение", "Автоматизированное", "государственного")


def _style(html: str) -> str:
    m = re.search(r"<style>(.*?)</style>", html, re.S)
    assert m, "the fragment carries its own <style>"
    return m.group(1)


def _rows(good_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = copy.deepcopy(good_rows)
    rows[0]["name"] = "Высокотехнологичное автоматизированное рабочее место государственного служащего"
    rows[0]["clients"] = "внешние и внутренние"
    return rows


# --------------------------------------------------------------------------- the CSS itself


def test_fragment_css_follows_its_container_and_never_splits_words(rules: Rules, good_rows: list[dict[str, Any]],
                                                                     good_info: dict[str, str]) -> None:
    frag = render_fragment(publication(rules, good_rows, good_info), {XLSX_NAME: XLSX_NAME})
    css = _style(frag).replace(" ", "")
    assert "container-type:inline-size" in css, "the wrapper is a size container"
    assert "@container" in css and "@media" not in css, "the layout switches on the container, never the window"
    # Cards are the default (a browser without container queries gets them); the table only inside @container.
    before, inside = css.split("@container", 1)
    assert ".perechen-registertable{display:block" in before
    assert "display:table;" in inside or "display:table}" in inside
    for bad in ("break-all", "overflow-wrap:anywhere", "word-break:break-word", "hyphens:auto"):
        assert bad not in css, bad
    assert "hyphens:manual" in css
    assert ".perechen-register.perechen-code{white-space:nowrap}" in css
    # Self-contained: no script, no external resource.
    assert "<script" not in frag.lower() and "url(" not in css and "@import" not in css
    assert "<link" not in frag.lower()


# --------------------------------------------------------------------------- in a browser


def _assert_fits(data: dict[str, Any], expect: dict[str, str]) -> None:
    for v in data["views"]:
        name = v["name"]
        assert v["style_present"] and v["container_type"] == "inline-size", (name, v)
        assert v["layouts"] and set(v["layouts"]) == {expect[name]}, (name, v["layouts"], v["root_width"])
        assert not v["broken_words"], (name, v["root_width"], v["broken_words"][:10])
        assert not v["overwide_words"], (name, v["overwide_words"][:10])
        assert not v["codes_wrapped"], (name, v["codes_wrapped"])
        doc, frag = v["doc_scroll"], v["root_scroll"]
        assert doc["scroll_width"] <= doc["client_width"], (name, "horizontal scroll of the page", doc)
        assert frag["scroll_width"] <= frag["client_width"], (name, "the fragment overflows", frag)
        serious = [x for x in v["violations"] if x.get("impact") in ("serious", "critical")]
        assert not serious, (name, serious)
    assert not data["external_requests"], data["external_requests"]
    assert not data["console_errors"], data["console_errors"]


@pytest.mark.browser
def test_standalone_page_table_when_wide_cards_when_narrow(rules: Rules, good_rows: list[dict[str, Any]],
                                                           good_info: dict[str, str], tmp_path: Path) -> None:
    from tests.browser import check_layout, require_browser

    require_browser()
    pub = publication(rules, _rows(good_rows), good_info)
    page = tmp_path / "index.html"
    page.write_text(render_page(pub, {XLSX_NAME: XLSX_NAME, META_NAME: META_NAME}, {XLSX_NAME: 9000}),
                    encoding="utf-8")
    html = page.read_text(encoding="utf-8")
    assert all(w in html for w in LONG_WORDS[:1]) and "разъяснения" in html
    data = check_layout(page, [
        {"name": "1280", "zoom": 1},
        {"name": "200%", "zoom": 2},
        {"name": "container 600", "zoom": 1, "container": 600},
        {"name": "container 1000", "zoom": 1, "container": 1000},
        {"name": "container 1024", "zoom": 1, "container": 1024},
    ])
    _assert_fits(data, {"1280": "table", "200%": "cards", "container 600": "cards",
                        "container 1000": "cards", "container 1024": "table"})


@pytest.mark.browser
@pytest.mark.servers
def test_published_page_fits_the_wordpress_theme(wordpress: Any, make_workbook: Any, good_rows: list[dict[str, Any]],
                                                 good_info: dict[str, str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from perechen.config import Config
    from perechen.publish import publish_workbook
    from tests.browser import check_layout, require_browser
    from tests.test_publish_wordpress import PW_ENV, SLUG, public_page, wp_target

    require_browser()
    monkeypatch.setenv(PW_ENV, wordpress.app_password)
    cfg = Config(base_dir=tmp_path, targets={"wp": wp_target(wordpress)})
    res = publish_workbook(make_workbook(_rows(good_rows), good_info), cfg, target="wp")
    assert res.status == "published" and res.page_url
    html = public_page(wordpress)
    assert "/themes/twentytwentythree/" in html, "the suite's WordPress shows the default theme"
    # What the theme serves is our fragment with its <style> intact (the editor account has unfiltered_html;
    # the target refuses an account without it rather than publish a page stripped of its layout).
    raw = wordpress.list_pages(slug=SLUG)[0]["content"]["raw"]
    ours = _style(raw)
    assert "container-type:inline-size" in ours and ours in html, "the theme serves our <style> unchanged"
    served = html[html.index('class="perechen-register"'):]
    served = served[:served.index("</style>")]
    assert "<script" not in served and "<p>" not in served, "no script, no auto-paragraphs inside our CSS"
    data = check_layout(res.page_url, [
        {"name": "1280", "zoom": 1, "screenshot": str(tmp_path / "wp-1280.png")},
        {"name": "200%", "zoom": 2, "screenshot": str(tmp_path / "wp-200.png")},
        {"name": "container 600", "zoom": 1, "container": 600},
    ], axe_scope=ROOT_SEL)
    widths = {v["name"]: v["root_width"] for v in data["views"]}
    assert widths["1280"] < 700, f"the theme's content column is narrow (~650 px): {widths}"
    _assert_fits(data, {"1280": "cards", "200%": "cards", "container 600": "cards"})


@pytest.mark.servers
def test_wordpress_without_unfiltered_html_strips_the_style_and_nothing_is_published(
        wordpress: Any, make_workbook: Any, good_rows: list[dict[str, Any]], good_info: dict[str, str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where WordPress filters posts (DISALLOW_UNFILTERED_HTML, a multisite network), kses strips the <style>:
    a page without its layout is never left published as if all were well."""
    from perechen import store
    from perechen.config import Config
    from perechen.publish import publish_workbook
    from perechen.targets.base import PublishFailed
    from tests.test_publish_wordpress import PW_ENV, SLUG, wp_target

    monkeypatch.setenv(PW_ENV, wordpress.app_password)
    cfg = Config(base_dir=tmp_path, targets={"wp": wp_target(wordpress)})
    wordpress.disallow_unfiltered_html()
    assert wordpress.rest("GET", "wp/v2/users/me", params={"context": "edit"},
                          auth=(wordpress.user, wordpress.app_password)).json()["capabilities"]["unfiltered_html"], \
        "the role still lists the capability: only the real write shows that WordPress filters"
    with pytest.raises(PublishFailed) as ei:
        publish_workbook(make_workbook(_rows(good_rows), good_info), cfg, target="wp")
    message = str(ei.value)
    assert "unfiltered_html" in message and "<style>" in message and "DISALLOW_UNFILTERED_HTML" in message, message
    assert store.latest_name(cfg.output_dir) is None, "the baseline never moves on a page without its layout"
    (page,) = wordpress.list_pages(slug=SLUG)
    raw = page["content"]["raw"]
    assert "<style" not in raw, "what kses does to a post without unfiltered_html"
    assert "ТВ-01" in raw and 'scope="col"' in raw, "the data and the table's semantics survive"
