"""Issue 11 items 15–17: open data a consumer can trust, through `perechen nightly` / `perechen publish`.

Each test failed on main at 5728d3a (the behaviour in its docstring) and passes now.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from perechen.cli import main
from perechen.opendata import XLSX_NAME, read_csv

ROOT = Path(__file__).resolve().parent.parent
DAY1 = dt.date(2026, 11, 2)
DAY2 = dt.date(2026, 11, 16)


def project(tmp_path: Path, workbook: Path, extra: str = "") -> Path:
    toml = tmp_path / "perechen.toml"
    toml.write_text(f'workbook = "{workbook.as_posix()}"\noutput = "output"\nrules = "{(ROOT / "rules").as_posix()}"'
                    f'\n\n[publish]\nauto = true\ntarget = "folder"\n{extra}\n[targets.folder]\ntype = "folder"\n'
                    'path = "output/site"\n', encoding="utf-8")
    return toml


def nightly(toml: Path, day: dt.date) -> Any:
    res = CliRunner().invoke(main, ["nightly", "--no-mail", "--today", day.isoformat(), "--config", str(toml)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def repoint(toml: Path, workbook: Path) -> None:
    text = re.sub(r'^workbook = .*$', f'workbook = "{workbook.as_posix()}"', toml.read_text(encoding="utf-8"),
                  flags=re.M)
    toml.write_text(text, encoding="utf-8")


def meta_of(site: Path) -> list[tuple[str, str]]:
    rows = list(csv.reader(io.StringIO((site / "meta.csv").read_text(encoding="utf-8"), newline="")))
    return [(r[0], r[1]) for r in rows[1:]]


# ------------------------------------------------------------------------------------------------ item 15


def test_a_data_version_is_never_overwritten(tmp_path: Path, make_workbook: Any,
                                             good_rows: list[dict[str, Any]]) -> None:
    """5728d3a: changing needs without touching «Дата изменения» replaced data-20240226-… under the same name and
    the page kept «Дата актуализации: 26.02.2024»."""
    toml = project(tmp_path, make_workbook(good_rows))
    nightly(toml, DAY1)
    site = tmp_path / "output" / "site"
    first = site / "data-20261102-structure-20240226.csv"
    before = first.read_bytes()
    rows = copy.deepcopy(good_rows)
    rows[2]["needs"] = ["получение консультации"]  # «Дата изменения» left as it was (26.02.2024)
    repoint(toml, make_workbook(rows))
    nightly(toml, DAY2)
    second = site / "data-20261116-structure-20240226.csv"
    assert first.read_bytes() == before, "the earlier data version is kept as it was"
    assert {r["code"]: r["needs"] for r in read_csv(second.read_bytes())}[rows[2]["code"]] == "получение консультации"
    page = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r"Дата актуализации: <time datetime=\"2026-11-16\">16\.11\.2026", page)
    meta = dict(meta_of(site))
    assert meta["modified"] == "20261116"
    assert meta["data-20261116-structure-20240226"] == "data-20261116-structure-20240226.csv"
    assert meta["data-20261102-structure-20240226"] == "data-20261102-structure-20240226.csv"
    package = json.loads((site / "datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == "20261116" and package["resources"][0]["path"] == second.name

    # A second placement on the same day gets its own name too (never the first one's).
    rows[2]["needs"] = ["получение форм документов"]
    repoint(toml, make_workbook(rows))
    nightly(toml, DAY2)
    data = sorted(p.name for p in site.glob("data-*.csv"))
    assert len(data) == 3 and (site / second.name).read_bytes() == second.read_bytes()
    newest = next(v for k, v in meta_of(site) if k.startswith("data-"))
    assert newest.startswith("data-20261116T") and newest in data


# ------------------------------------------------------------------------------------------------ item 16


@pytest.mark.parametrize(("extra", "valid"), [("", "20271116"), ("valid_months = 6\n", "20270516")])
def test_meta_csv_is_coherent(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]], extra: str,
                              valid: str) -> None:
    """5728d3a: created 20261206, modified 20240226, valid 20250226 — expired on arrival; versions oldest first."""
    toml = project(tmp_path, make_workbook(good_rows), extra)
    nightly(toml, DAY1)
    site = tmp_path / "output" / "site"
    first = dict(meta_of(site))
    assert first["created"] == first["modified"] == "20261102"
    rows = copy.deepcopy(good_rows)
    rows[1]["name"] = "Электронная почта Службы (обновлено)"
    repoint(toml, make_workbook(rows))
    nightly(toml, DAY2)
    pairs = meta_of(site)
    meta = dict(pairs)
    assert meta["created"] == "20261102" and meta["modified"] == "20261116"
    assert meta["created"] <= meta["modified"] <= meta["valid"]
    assert meta["valid"] == valid, "the period of [publish] valid_months from the placement day"
    versions = [k for k, _ in pairs if k.startswith("data-")]
    assert versions == ["data-20261116-structure-20240226", "data-20261102-structure-20240226"], "newest first"
    package = json.loads((site / "datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == "20261116" and package["created"].startswith("2026-11-16")
    assert package["resources"][0]["path"] == dict(pairs)[versions[0]]


def test_meta_names_files_by_their_public_url(tmp_path: Path, make_workbook: Any,
                                              good_rows: list[dict[str, Any]]) -> None:
    toml = project(tmp_path, make_workbook(good_rows))
    text = toml.read_text(encoding="utf-8").replace('path = "output/site"\n', 'path = "output/site"\npublic_url = '
                                                    '"https://gtn.example.ru/opendata/perechen"\n')
    toml.write_text(text, encoding="utf-8")
    nightly(toml, DAY1)
    meta = dict(meta_of(tmp_path / "output" / "site"))
    base = "https://gtn.example.ru/opendata/perechen/"
    assert meta["data-20261102-structure-20240226"] == base + "data-20261102-structure-20240226.csv"
    assert meta["structure-20240226"] == base + "structure-20240226.csv"


# ------------------------------------------------------------------------------------------------ item 17


def test_values_are_published_verbatim(tmp_path: Path, make_workbook: Any, good_rows: list[dict[str, Any]],
                                       good_info: dict[str, str]) -> None:
    """5728d3a: a phone «+7 (4012) 12-34-56» and a text starting with «- » were published as «'+7 …», «'- …»."""
    rows = copy.deepcopy(good_rows)
    rows[0]["accessibility"] = "- приём по предварительной записи"
    rows[1]["name"] = "=HYPERLINK(\"http://evil.example\",\"x\")"
    rows[2]["process"] = "+SUM(1+1)*cmd|' /C calc'!A0"
    info = dict(good_info, phone="+7 (4012) 12-34-56", keeper="Иванова И. И.", email="gtn@example.test",
                inn="3906000000")
    toml = project(tmp_path, make_workbook(rows, info))
    nightly(toml, DAY1)
    site = tmp_path / "output" / "site"
    (data,) = site.glob("data-*.csv")
    raw = data.read_text(encoding="utf-8")
    cells = {c for r in csv.reader(io.StringIO(raw, newline="")) for c in r}
    assert "- приём по предварительной записи" in cells
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells, "a formula is still neutralised"
    assert "'+SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert ("publisherphone", "+7 (4012) 12-34-56") in meta_of(site)
    book = load_workbook(site / XLSX_NAME)
    ws = book["Перечень"]
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in texts)
    assert any(c.value == "=HYPERLINK(\"http://evil.example\",\"x\")" for c in texts), "kept as text"
    assert any(c.value == "- приём по предварительной записи" for c in texts)
