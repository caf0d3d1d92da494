"""QA pass on issue 11 (second batch), as a clerk meets it through the CLI: honest clauses for the «Проверил»
column, the client categories and the basis kind; the rule source named once in the text report; the open-data
descriptor in Russian; `perechen init --example`; quiet and conditional wording of `nightly --demo`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from perechen.cli import main

TODAY = "2026-11-30"
AGENCY = "правило ведения перечня в Службе"


def run(wb: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["check", str(wb), "--today", TODAY, *args])


def findings(wb: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    res = run(wb, "--format", "json", "--no-report")
    return res.exit_code, {f["code"]: f for f in json.loads(res.stdout)["findings"]}


# -- 1. a clause is cited only where it requires what the finding says -------------------------------------


def test_checked_by_empty_is_the_agencys_record_of_the_check(make_workbook: Any,
                                                            good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["checked_by"] = None  # «включено»
    code, got = findings(make_workbook(good_rows))
    f = got["checked-by-empty"]
    assert code == 1 and f["severity"] == "error" and f["clause"] is None
    assert AGENCY in f["message"] and "2.1.2–2.1.3" in f["message"]
    assert "уполномоченн" in f["message"]


def test_client_categories_and_basis_kinds_are_the_agencys_lists(make_workbook: Any,
                                                                 good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["clients"] = "граждане"
    good_rows[1]["basis_kind"] = "устав"
    code, got = findings(make_workbook(good_rows))
    assert code == 1
    for c in ("clients-value", "basis-kind-value"):
        assert got[c]["severity"] == "error" and got[c]["clause"] is None, c
        assert AGENCY in got[c]["message"], c
    assert "1.3.1" in got["clients-value"]["message"]  # named as the definition, not as the requirement


def test_checked_by_the_preparer_is_an_agency_warning(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["checked_by"] = good_rows[0]["responsible"]
    code, got = findings(make_workbook(good_rows))
    f = got["checked-by-self"]
    assert code == 0 and f["severity"] == "warning" and f["clause"] is None
    assert AGENCY in f["message"] and "не запрещает" in f["message"]
    text = run(make_workbook(good_rows), "--no-report").stdout
    assert "нарушение Порядка" not in text


# -- 2. the text report names a rule's source once ------------------------------------------------------------


def test_text_report_names_the_source_once(make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    good_rows[0]["checked_by"] = None  # agency rule: its message names the source
    good_rows[1]["channel"] = "интернет"  # order rule: the bracket cites the clause
    text = run(make_workbook(good_rows), "--no-report").stdout
    agency = next(ln for ln in text.splitlines() if "(checked-by-empty)]" in ln)
    assert agency.count(AGENCY) == 1
    assert agency.endswith("[Не указано, кто проверил включённые сведения (checked-by-empty)]"), agency
    order = next(ln for ln in text.splitlines() if "(channel-value)]" in ln)
    assert order.endswith("[п. 3.1 Порядка; Канал не из справочника (channel-value)]"), order


# -- 4. the bundled sample register for a pip user -------------------------------------------------------------


def test_init_example_writes_the_bundled_register_and_refuses_to_overwrite(tmp_path: Path,
                                                                           monkeypatch: Any) -> None:
    from perechen.bundled import sample_workbook

    monkeypatch.chdir(tmp_path)
    target = tmp_path / "пример.xlsx"
    res = CliRunner().invoke(main, ["init", "--example", str(target)])
    assert res.exit_code == 0, res.output
    assert target.read_bytes() == sample_workbook().read_bytes()
    assert "пример" in res.output
    target.write_bytes(b"my own work")
    again = CliRunner().invoke(main, ["init", "--example", str(target)])
    assert again.exit_code == 2 and "--force" in again.output and target.read_bytes() == b"my own work"
    forced = CliRunner().invoke(main, ["init", "--example", "--force", str(target)])
    assert forced.exit_code == 0 and target.read_bytes() == sample_workbook().read_bytes()
    # The copy is a register check accepts.
    assert CliRunner().invoke(main, ["check", str(target), "--no-report"]).exit_code in (0, 1)


def test_without_a_workbook_check_and_nightly_name_init_example(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    for cmd in (["check"], ["nightly"]):
        res = CliRunner().invoke(main, cmd)
        assert res.exit_code == 2 and "perechen init --example" in res.output, (cmd, res.output)


# -- 5. nightly's wording: no perechen.toml that is not there; --demo -q is quiet -----------------------------


def test_mail_off_without_settings_does_not_name_a_missing_perechen_toml(tmp_path: Path, monkeypatch: Any) -> None:
    from perechen.bundled import sample_workbook

    monkeypatch.chdir(tmp_path)
    (tmp_path / "workbook").mkdir()
    (tmp_path / "workbook" / "perechen.xlsx").write_bytes(sample_workbook().read_bytes())
    res = CliRunner().invoke(main, ["nightly", "--today", "2026-12-07"])
    assert res.exit_code in (0, 1), res.output
    line = next(ln for ln in res.output.splitlines() if "почта выключена" in ln)
    assert "perechen.toml" not in line.replace("нет perechen.toml", ""), line
    assert "не настроена" in line


def test_nightly_demo_quiet_prints_only_the_summary_and_the_dashboard(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    loud = CliRunner().invoke(main, ["nightly", "--demo", "--today", "2026-12-07"])
    assert loud.exit_code == 0 and "Откройте сводку в браузере" in loud.output
    quiet = CliRunner().invoke(main, ["nightly", "--demo", "-q", "--today", "2026-12-07"])
    assert quiet.exit_code == 0, quiet.output
    assert "Откройте сводку" not in quiet.output and "Опубликованный перечень" not in quiet.output
    assert "index.html" in quiet.output  # the dashboard path, as for a non-demo run
    assert len(quiet.output.strip().splitlines()) < len(loud.output.strip().splitlines())


# -- 3. the open-data descriptor speaks Russian; its field names stay the CSV header -----------------------------


def test_datapackage_describes_fields_in_russian_and_frictionless_accepts_it(tmp_path: Path, rules: Any,
                                                                           good_rows: list[dict[str, Any]]) -> None:
    import re

    from perechen.opendata import DATAPACKAGE_NAME, PUBLISHED_FIELDS
    from perechen.targets.base import SiteContent
    from tests.test_opendata import _frictionless, publication

    p = publication(rules, good_rows, {"inn": "3906000000"})
    for f in SiteContent(p).relative_files():
        (tmp_path / f.name).write_bytes(f.content)
    fields = json.loads((tmp_path / DATAPACKAGE_NAME).read_text(encoding="utf-8"))["resources"][0]["schema"]["fields"]
    assert [f["name"] for f in fields] == [f.field for f in PUBLISHED_FIELDS]  # the CSV header contract
    header = (tmp_path / p.data_name).read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == [f["name"] for f in fields]
    for f in fields:
        for key in ("title", "description"):
            assert re.search("[А-Яа-яЁё]", f[key]) and not re.search("[A-Za-z]{3,}", f[key]), (f["name"], f[key])
    assert next(f for f in fields if f["name"] == "code")["description"].startswith("Код точки взаимодействия")
    done = _frictionless(tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["valid"], done.stdout[-3000:]


def test_annotated_copy_names_the_source_once(make_workbook: Any, good_rows: list[dict[str, Any]],
                                              tmp_path: Path) -> None:
    import openpyxl

    good_rows[0]["checked_by"] = None
    out = tmp_path / "отчёт"
    res = run(make_workbook(good_rows), "--report-dir", str(out))
    assert res.exit_code == 1, res.output
    copy = next(p for p in out.iterdir() if p.suffix == ".xlsx")
    comment = openpyxl.load_workbook(copy)["Перечень"]["Q2"].comment
    assert comment is not None and "(checked-by-empty)" in comment.text
    assert comment.text.count(AGENCY) == 1, comment.text
