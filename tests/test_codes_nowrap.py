"""Issue 13 §4: codes never wrap — diff.html («ТВ-0 / 1» before), report.html, compliance.html, the dashboard, the
published page (tests/test_published_layout.py).

Every touchpoint code and rule code is marked up as a code (class ``code`` / ``perechen-code``, white-space:
nowrap); Chromium then shows each on one line even where the table squeezes its column (200 % zoom, a 360 px
window).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from perechen.rules import Rules
from tests.test_dashboard import nights
from tests.test_render import flawed_workbook, run_reports

ROOT = Path(__file__).resolve().parent.parent
CODE_CELL = re.compile(r'class="(?:[\w-]+ )*(?:code|perechen-code)"[^>]*>(ТВ-\d+|[a-z]+(?:-[a-z]+)+)<')
VIEWS = [{"name": "1280", "zoom": 1}, {"name": "200%", "zoom": 2}, {"name": "360", "zoom": 1, "container": 360}]


def _diff_page(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> Path:
    cfg = tmp_path / "perechen.toml"
    cfg.write_text(f'output = "output"\nrules = "{(ROOT / "rules").as_posix()}"\n', encoding="utf-8")
    new = [dict(r) for r in good_rows]
    long_text = "Высокотехнологичное автоматизированное рабочее место государственного служащего " * 3
    new[0].update(name=long_text, changed_on=dt.date(2026, 2, 25))
    new[1].update(kind="СЭД", needs=["консультация"], basis=long_text, changed_on=dt.date(2026, 2, 25))
    new[2].update(status="на проверке")
    rep = tmp_path / "rep"
    res = CliRunner().invoke(main, ["diff", str(make_workbook(new)), "--config", str(cfg), "--against",
                                    str(make_workbook(good_rows)), "--report-dir", str(rep), "--today",
                                    "2026-03-20"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return rep / "diff.html"


def _assert_codes_on_one_line(data: dict[str, Any], page: str) -> None:
    for v in data["views"]:
        assert not v["codes_wrapped"], (page, v["name"], v["codes_wrapped"])
        doc = v["doc_scroll"]
        if v["container"] is None:
            assert doc["scroll_width"] <= doc["client_width"], (page, v["name"], doc)


def test_codes_are_marked_up_as_codes(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]],
                                      rules: Rules) -> None:
    diff_html = _diff_page(tmp_path, make_workbook, [dict(r) for r in good_rows]).read_text("utf-8")
    found = set(CODE_CELL.findall(diff_html))
    assert {"ТВ-01", "ТВ-02"} <= found, found  # the changed rows' codes
    assert "ТВ-03" in found, "the codes waiting for review are codes too"
    assert ".code { white-space: nowrap" in diff_html

    report = run_reports(flawed_workbook(make_workbook, [dict(r) for r in good_rows]), rules, tmp_path / "out")
    html = report.files["html"].read_text("utf-8")
    rule_codes = {c for c in CODE_CELL.findall(html) if not c.startswith("ТВ-")}
    assert rule_codes and all("-" in c or c.isalpha() for c in rule_codes), rule_codes
    body = html[html.index("<body"):]
    assert not re.search(r"\((?!<span)[a-z]+-[a-z-]+\)", body), "every rule code in brackets is a marked-up code"

    compliance = _compliance_page(tmp_path).read_text("utf-8")
    assert {"ТВ-01", "ТВ-02", "ТВ-03"} <= set(CODE_CELL.findall(compliance))
    assert ".code { white-space: nowrap" in compliance

    cfg = nights(tmp_path / "n", make_workbook, [dict(r) for r in good_rows])
    reports = cfg.output_dir / "reports"
    last = sorted(p for p in reports.iterdir() if p.is_dir())[-1]
    summary = (last / "summary.html").read_text("utf-8")
    assert any(c.startswith("ТВ-") for c in CODE_CELL.findall(summary)), "a finding's row code"
    assert ".code, .size { white-space: nowrap" in (reports / "index.html").read_text("utf-8")


@pytest.mark.browser
def test_codes_stay_on_one_line_in_chromium(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]],
                                            rules: Rules) -> None:
    from tests.browser import check_layout, require_browser

    require_browser()
    diff_page = _diff_page(tmp_path, make_workbook, [dict(r) for r in good_rows])
    data = check_layout(diff_page, VIEWS, root="main", code=".code")
    assert all(v["root_width"] > 0 for v in data["views"])
    _assert_codes_on_one_line(data, "diff.html")

    report = run_reports(flawed_workbook(make_workbook, [dict(r) for r in good_rows]), rules, tmp_path / "out")
    _assert_codes_on_one_line(check_layout(report.files["html"], VIEWS, root="main", code=".code"), "report.html")
    compliance = _compliance_page(tmp_path)
    _assert_codes_on_one_line(check_layout(compliance, VIEWS, root="body", code=".code"), "compliance.html")

    cfg = nights(tmp_path / "n", make_workbook, [dict(r) for r in good_rows])
    reports = cfg.output_dir / "reports"
    last = sorted(p for p in reports.iterdir() if p.is_dir())[-1]
    for page in (reports / "index.html", last / "summary.html"):
        _assert_codes_on_one_line(check_layout(page, VIEWS, root="main", code=".code"), page.name)


def _compliance_page(tmp_path: Path) -> Path:
    from perechen.compliance import compute, write_reports
    from perechen.journal import Journal
    from perechen.workdays import WorkCalendar
    from tests.test_compliance import at, ch

    j = Journal.open(tmp_path / "journal.sqlite")
    try:
        j.observe([ch("ТВ-01", "added"), ch("ТВ-02", "added")], fingerprint="0", observed_at=at("2026-01-12"))
        j.record_placement("v0", placed_at=at("2026-01-12", 12), fingerprint="0", row_count=2)
        j.observe([ch("ТВ-01"), ch("ТВ-03", "added")], fingerprint="1", observed_at=at("2026-03-02"))
        j.record_placement("v1", placed_at=at("2026-03-20", 12), fingerprint="1", row_count=3)
        j.observe([ch("ТВ-02", "needs_changed")], fingerprint="2", observed_at=at("2026-05-04"))
        rep = compute(j, WorkCalendar.load(ROOT / "rules"), 2026, today=dt.date(2026, 5, 6), agency="Служба")
        return write_reports(rep, tmp_path / "compliance")["html"]
    finally:
        j.close()
