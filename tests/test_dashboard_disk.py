"""Issue 13 §6: the dashboard shows the disk used by output/, in Russian units («1,2 МБ»), by part."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from pathlib import Path
from typing import Any

import pytest

from perechen.dashboard import write_dashboard
from perechen.nightly import run_nightly
from perechen.retention import disk_usage
from perechen.summary import DiskUsage
from perechen.text import ru_size
from tests.test_dashboard import config

MIB = 1024 * 1024


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 Б"), (512, "512 Б"), (1023, "1023 Б"), (1024, "1 КБ"), (9000, "9 КБ"), (1024 * 1023, "1023 КБ"),
    (MIB, "1,0 МБ"), (int(1.2 * MIB), "1,2 МБ"), (int(3.4 * 1024 * MIB), "3,4 ГБ"),
])
def test_sizes_in_russian_units(n: int, text: str) -> None:
    assert ru_size(n) == text


def _parse_size(text: str) -> float:
    number, unit = text.split(" ")
    return float(number.replace(",", ".")) * {"Б": 1, "КБ": 1024, "МБ": MIB, "ГБ": 1024 * MIB}[unit]


def test_dashboard_shows_the_disk_used_by_output(tmp_path: Path, make_workbook: Any,
                                                 good_rows: list[dict[str, Any]]) -> None:
    cfg = config(tmp_path, make_workbook(good_rows))
    approvals = cfg.output_dir / "approvals" / "2026-11-01"
    approvals.mkdir(parents=True)
    (approvals / "act.pdf").write_bytes(b"\0" * (5 * MIB))  # an act: the record, kept for ever
    run_nightly(cfg, today=dt.date(2026, 11, 30), now=dt.datetime(2026, 11, 30, 1, 0))
    page = (cfg.output_dir / "reports" / "index.html").read_text("utf-8")
    m = re.search(r'Папка output занимает <strong class="size">([^<]+)</strong>', page)
    assert m, page[-3000:]
    shown = htmllib.unescape(m.group(1))
    assert re.fullmatch(r"\d+,\d (?:МБ|ГБ)", shown), shown
    total = disk_usage(cfg.output_dir)["total"]
    assert abs(_parse_size(shown) - total) <= 0.06 * MIB, (shown, total)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num size">([^<]+)</td></tr>', page))
    assert rows["черновики и акты утверждения — хранятся всегда (output/approvals)"] == "5,0 МБ"
    assert "отчёты ночных проверок (output/reports)" in rows
    assert next(iter(rows.values())) == "5,0 МБ", "largest part first"
    assert "[retention]" in page


def test_disk_usage_model_and_a_missing_output(tmp_path: Path) -> None:
    d = DiskUsage.from_bytes({"reports": 2048, "published": int(1.2 * MIB), "custom": 10, "total": 2048 + 10
                              + int(1.2 * MIB)})
    assert d.total_text == "1,2 МБ"
    assert [p.name for p in d.parts] == ["published", "reports", "custom"]
    assert d.parts[1].size_text == "2 КБ" and d.parts[2].label == "output/custom"
    # A dashboard is still written when output/ holds only the reports folder (nothing else measured).
    reports = tmp_path / "out" / "reports"
    reports.mkdir(parents=True)
    page = write_dashboard(reports).read_text("utf-8")
    assert "Ночная проверка ещё не запускалась" in page
