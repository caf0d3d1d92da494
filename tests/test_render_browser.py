"""The HTML report in a real browser: axe-core, injected scripts, 200 % zoom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perechen.models import Finding, Severity
from perechen.reader import read_register
from perechen.renderers.check import write_check_reports
from perechen.report import CheckReport
from perechen.rules import Rules
from tests.browser import check_page, require_browser
from tests.test_render import PAYLOAD, flawed_workbook, run_reports

pytestmark = [pytest.mark.browser,
              pytest.mark.filterwarnings("ignore:Unknown extension is not supported:UserWarning")]


def _assert_clean(result: Any) -> None:
    assert not result.serious, result.describe(result.serious)
    assert result.js_flag is None, "an injected script ran"
    assert result.dialogs == []
    assert result.external_requests == []
    assert result.console_errors == []
    assert result.lang == "ru"
    assert result.title.startswith("Проверка перечня")


def test_report_page_passes_axe_and_runs_no_injected_script(make_workbook: Any, good_rows: list[dict[str, Any]],
                                                            rules: Rules, tmp_path: Path) -> None:
    require_browser()
    # The payload in a cell value, in the responsible person's name (a group heading), in a message,
    # and in the workbook's file name.
    good_rows[4]["responsible"] = PAYLOAD
    good_rows[5]["name"] = "Пoчта " + PAYLOAD  # Latin «o»: the reader reports it with the value
    path = flawed_workbook(make_workbook, good_rows)
    evil = path.with_name('<img src=x onerror="window.__pwned=3">.xlsx')
    path.rename(evil)
    report = run_reports(evil, rules, tmp_path / "out")
    html = report.files["html"].read_text("utf-8")
    assert html.count("&lt;script&gt;") >= 3
    result = check_page(report.files["html"])
    _assert_clean(result)
    zoomed = check_page(report.files["html"], zoom=2.0)
    _assert_clean(zoomed)
    assert not zoomed.horizontal_scroll_at_200, zoomed.scroll_width_at_200


def test_capped_page_with_many_groups_passes_axe(make_workbook: Any, rules: Rules, tmp_path: Path) -> None:
    require_browser()
    path = make_workbook()
    reg = read_register(path, rules)
    sev = list(Severity)
    findings = [Finding(f"rule-{i % 7}", sev[i % 3], f"2.{i % 5}", f"Замечание № {i}", sheet="Перечень",
                        cell=f"{'ABCDEFG'[i % 7]}{2 + i % 8}", row=2 + i % 8, value=f"=значение {i}")
                for i in range(400)]
    report = CheckReport(workbook=str(path), rows=len(reg.rows), findings=findings, register=reg)
    write_check_reports(report, rules, tmp_path)
    html = report.files["html"].read_text("utf-8")
    assert "… и ещё" in html
    _assert_clean(check_page(report.files["html"]))
