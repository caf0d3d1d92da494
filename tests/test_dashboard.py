"""output/reports/index.html: contents, escaping, the chart, and the page in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from perechen.config import Config
from perechen.dashboard import chart, load_history, render_dashboard, write_dashboard
from perechen.nightly import run_nightly
from perechen.summary import HistoryEntry

ROOT = Path(__file__).resolve().parent.parent
PERECHEN = ROOT / ".venv" / "bin" / "perechen"
TODAY = dt.date(2026, 11, 30)


def config(tmp_path: Path, workbook: Path, **over: Any) -> Config:
    cfg = Config.model_validate({"workbook": str(workbook), "output": str(tmp_path / "output"), **over})
    cfg.base_dir = tmp_path
    return cfg


def nights(tmp_path: Path, make_workbook: Any, rows: list[dict[str, Any]]) -> Config:
    """Four nights: clean, an error, an unreadable workbook, the error again (with a hostile value)."""
    for r in rows:
        r["changed_on"] = dt.date(2026, 11, 20)
    wb = make_workbook(rows)
    cfg = config(tmp_path, wb)
    run_nightly(cfg, today=dt.date(2026, 11, 26), now=dt.datetime(2026, 11, 26, 1, 0))
    rows[0]["channel"] = "голубиная почта"
    rows[1]["responsible"] = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    rows[1]["accessibility"] = None
    rows[1]["channel"] = "офлайн"
    wb.write_bytes(make_workbook(rows).read_bytes())
    run_nightly(cfg, today=dt.date(2026, 11, 27), now=dt.datetime(2026, 11, 27, 1, 0))
    good = wb.read_bytes()
    wb.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)  # not .xlsx
    run_nightly(cfg, today=dt.date(2026, 11, 28), now=dt.datetime(2026, 11, 28, 1, 0))
    wb.write_bytes(good)
    run_nightly(cfg, today=TODAY, now=dt.datetime(2026, 11, 30, 1, 0))
    return cfg


def test_dashboard_contents(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    cfg = nights(tmp_path, make_workbook, good_rows)
    reports = cfg.output_dir / "reports"
    html = (reports / "index.html").read_text("utf-8")
    assert '<html lang="ru">' in html
    assert "<script" not in html and "<img" not in html  # escaped: shown as text, never markup
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing external
    # the four runs, newest first, with links to their reports
    runs = [h.run for h in load_history(reports)]
    assert len(runs) == 4
    assert html.index(runs[3]) < html.index(runs[0])
    for run in runs:
        assert f'href="{run}/summary.html"' in html
        assert (reports / run / "summary.html").is_file()
    assert f'href="{runs[1]}/diff.html"' in html
    # counts by status/channel and findings per responsible
    assert "Строки по статусам" in html and "Строки по каналам" in html
    assert "Начальник отдела организационной и кадровой работы" in html
    # the chart: inline SVG with a text alternative and a data table
    assert html.count("<svg") == 1 and 'role="img"' in html and 'aria-labelledby="chart-title chart-desc"' in html
    assert "Запусков на графике: 4" in html and "Данные графика таблицей" in html
    assert "книга не прочитана" in html
    assert html.count("<th scope=") > 20 and html.count("<caption>") >= 5


def test_chart_geometry() -> None:
    hist = [{"run": f"r{i}", "started": f"2026-11-{i + 1:02d}T01:00:00", "status": "ok", "errors": i,
             "warnings": 2 * i, "pending_changes": 10 - i} for i in range(6)]
    hist.insert(3, {"run": "x", "started": "2026-11-04T02:00:00", "status": "failed", "errors": None,
                    "warnings": None, "pending_changes": None})
    hist.append({"run": "k", "started": "2026-11-09T01:00:00", "status": "interrupted"})
    entries = [HistoryEntry.model_validate(e) for e in hist]
    c = chart(entries, runs=30)
    assert [p["run"] for p in c["points"]] == ["r0", "r1", "r2", "x", "r3", "r4", "r5"]  # interrupted left out
    assert c["points"][3]["failed"] and "err_bar" not in c["points"][3]
    assert c["ticks"][0]["value"] == 0 and c["ticks"][-1]["value"] >= 10
    assert len(c["line"].split()) == 6
    tallest = max(p["warn_bar"]["h"] for p in c["points"] if "warn_bar" in p)
    assert tallest == pytest.approx(c["base"] - c["top"])
    assert len(chart(entries, runs=3)["points"]) == 3


def test_rendering_without_history_and_atomic_write(tmp_path: Path) -> None:
    html = render_dashboard(tmp_path, [])
    assert "Ночная проверка ещё не запускалась" in html
    p = write_dashboard(tmp_path / "reports")
    assert p.read_text("utf-8").startswith("<!doctype html>")
    assert [x.name for x in p.parent.iterdir()] == ["index.html"]  # no temporary files left


def test_dashboard_survives_a_missing_run_folder(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    entry = {"run": "2026-11-01_010000", "started": "2026-11-01T01:00:00", "status": "errors", "errors": 3,
             "warnings": 1, "pending_changes": 2, "files": {"summary": "2026-11-01_010000/summary.html"}}
    (reports / "history.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    html = write_dashboard(reports).read_text("utf-8")
    assert "есть ошибки" in html and "2026-11-01_010000/summary.html" in html


@pytest.mark.browser
def test_dashboard_in_headless_chromium(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    from tests.browser import check_page, require_browser

    require_browser()
    cfg = nights(tmp_path, make_workbook, good_rows)
    reports = cfg.output_dir / "reports"
    last = load_history(reports)[-1].run
    for page, shot in ((reports / "index.html", tmp_path / "index.png"),
                       (reports / last / "summary.html", tmp_path / "summary.png")):
        r = check_page(page, screenshot=shot)
        assert r.lang == "ru" and r.title
        assert not r.serious, r.describe(r.serious)
        assert not r.console_errors and not r.dialogs and not r.external_requests
        assert r.js_flag is None
        assert not r.horizontal_scroll_at_200
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(shot.read_bytes()[16:20], "big")
        assert width == 1280, f"{page.name} is wider than the 1280 px window ({width} px)"


@pytest.mark.browser
def test_readme_first_command_ends_with_a_dashboard(tmp_path: Path) -> None:
    """`perechen nightly --demo` on a fresh folder: the printed dashboard opens cleanly in Chromium."""
    from tests.browser import check_page, require_browser

    require_browser()
    r = subprocess.run([str(PERECHEN), "nightly", "--demo"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"^Откройте сводку в браузере: (file://\S+)$", r.stdout, re.M)
    assert m, r.stdout
    index = tmp_path / "output" / "reports" / "index.html"
    assert m.group(1) == index.resolve().as_uri()
    assert "Письма: не отправлялись" in r.stdout
    page = check_page(index, screenshot=tmp_path / "demo.png")
    assert not page.serious and not page.console_errors and not page.external_requests
    assert (tmp_path / "demo.png").stat().st_size > 10_000
