"""``perechen region`` (issue 14 §2): a region of agencies with different profiles, one unreadable workbook, one
broken profile, one overdue agency with a recorded act, one workbook on the suite's WebDAV server; the mails through
the suite's SMTP server, the open data through ``frictionless validate``, the dashboard in Chromium."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen.cli import main
from perechen.journal import Journal, journal_path
from perechen.opendata import PUBLISHED_FIELDS
from perechen.region import AgencyJob, read_agency, worker_count
from perechen.rules import Rules
from perechen.template import build_workbook
from tests.conftest import EXAMPLE
from tests.test_opendata import _frictionless
from tests.test_profiles import add_kind_profile, renumbered_profile

TODAY = "2027-06-01"  # far after the overdue agency's change (02.11.2026)
DAV_PASSWORD_ENV = "PERECHEN_TEST_REGION_DAV_PASSWORD"
SMTP_PASSWORD_ENV = "PERECHEN_TEST_REGION_SMTP_PASSWORD"
OFFICE = "office@region.example.ru"


def _run(*args: str) -> Any:
    res = CliRunner().invoke(main, list(args))
    assert "Traceback" not in res.output, res.output
    return res


def _workbook(path: Path, rules: Rules, rows: list[dict[str, Any]], email: str, inn: str) -> Path:
    info = {**EXAMPLE.INFO, "email": email, "inn": inn}
    path.write_bytes(build_workbook(rules, rows, info))
    return path


def _publish(folder: Path, *today: str) -> None:
    res = _run("publish", "--config", str(folder / "perechen.toml"), *(("--today", *today) if today else ()))
    assert res.exit_code == 0, res.output


def _nightly(folder: Path, today: str) -> Any:
    """The agency's own nightly run on ``today`` (its journal sees the workbook's changes that day)."""
    res = _run("nightly", "--no-mail", "--config", str(folder / "perechen.toml"), "--today", today)
    assert res.exit_code in (0, 1), res.output
    return res


def _snapshot(*roots: Path) -> dict[str, tuple[str, int, int]]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                st = p.stat()
                out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns)
            else:
                out[str(p)] = ("dir", 0, 0)
    return out


@dataclass
class Region:
    toml: Path
    out: Path
    agencies: Path


def build_region(tmp_path: Path, *, dav: Any = None, smtp: Any = None) -> Region:
    """Agencies built like the office would meet them. ``dav``/``smtp``: the suite's servers, when given."""
    rules = Rules.load()
    root = tmp_path / "agencies"
    root.mkdir()
    rows = EXAMPLE.rows()

    # gtn — its own perechen.toml; published, then a row changed and seen by its nightly run on 02.11.2026
    # (overdue on TODAY); an act recorded.
    gtn = root / "gtn"
    gtn.mkdir()
    wb = _workbook(gtn / "perechen.xlsx", rules, rows, "gtn@example.ru", "3906000001")
    (gtn / "perechen.toml").write_text('workbook = "perechen.xlsx"\noutput = "output"\n[publish]\ntarget = "folder"\n'
                                       '[targets.folder]\ntype = "folder"\npath = "output/site"\n', encoding="utf-8")
    _publish(gtn, "2026-10-20")
    changed = copy.deepcopy(rows)
    changed[1]["name"] = changed[1]["name"] + " (новая редакция)"
    changed[1]["changed_on"] = dt.date(2026, 11, 2)
    _workbook(wb, rules, changed, "gtn@example.ru", "3906000001")
    _nightly(gtn, "2026-11-02")
    with Journal.open(journal_path(gtn / "output")) as j:
        j.add_draft("20261201-01", created_at=dt.datetime(2026, 12, 1, 10), kind="approve", baseline=None,
                    fingerprint="f" * 64, row_count=len(rows), folder=str(gtn / "output" / "approvals" / "x"))
        j.record_act("20261201-01", number="31-о", signed_on=dt.date(2026, 12, 2),
                     title="Об утверждении перечня точек взаимодействия с клиентом",
                     recorded_at=dt.datetime(2026, 12, 2, 12))

    # ext — a profile with an extra kind, and a row of that kind; not tracked (no published folder).
    ext = root / "ext"
    profile_ext = add_kind_profile(ext / "profile")
    rules_ext = Rules.load(profile_ext)
    rows_ext = copy.deepcopy(rows)
    rows_ext[0]["kind"] = "региональный портал"
    rows_ext[0]["channel"] = "цифровая"
    _workbook(ext / "perechen.xlsx", rules_ext, rows_ext, "", "3906000002")

    # renum — an order numbering its final provisions 6.x; published through its own settings, read here by
    # workbook + rules + published.
    ren = root / "renum"
    profile_ren = renumbered_profile(ren / "profile")
    _workbook(ren / "perechen.xlsx", Rules.load(profile_ren), rows, "renum@example.ru", "3906000003")
    (ren / "perechen.toml").write_text('workbook = "perechen.xlsx"\noutput = "output"\nrules = "profile"\n'
                                       '[targets.folder]\ntype = "folder"\npath = "output/site"\n', encoding="utf-8")
    _publish(ren)

    # bad — not a workbook at all; brokenprof — a profile whose lists.toml is not TOML.
    (root / "bad").mkdir()
    (root / "bad" / "perechen.xlsx").write_text("Код;Наименование\n", encoding="utf-8")
    broken = root / "brokenprof"
    renumbered_profile(broken / "profile")
    (broken / "profile" / "lists.toml").write_text("[kinds\n", encoding="utf-8")
    _workbook(broken / "perechen.xlsx", rules, rows, "", "")

    agencies = f'''
[agencies.gtn]
name = "Служба гостехнадзора"
config = "{(gtn / 'perechen.toml').as_posix()}"

[agencies.ext]
name = "Министерство цифрового развития"
workbook = "{(ext / 'perechen.xlsx').as_posix()}"
rules = "{profile_ext.as_posix()}"
email = "ext@example.ru"

[agencies.renum]
name = "Агентство по архитектуре"
workbook = "{(ren / 'perechen.xlsx').as_posix()}"
rules = "{profile_ren.as_posix()}"
published = "{(ren / 'output' / 'published').as_posix()}"

[agencies.bad]
name = "Министерство примеров <img src=x onerror=\\"window.__pwned=7\\">"
workbook = "{(root / 'bad' / 'perechen.xlsx').as_posix()}"
email = "bad@example.ru"

[agencies.brokenprof]
name = "Служба с испорченным профилем"
workbook = "{(broken / 'perechen.xlsx').as_posix()}"
rules = "{(broken / 'profile').as_posix()}"
'''
    if dav is not None:
        _workbook(dav.root / "perechen.xlsx", rules, rows, "dav@example.ru", "3906000004")
        agencies += f'''
[agencies.dav]
name = "Агентство на сервере"
workbook = "{dav.url}perechen.xlsx"
[agencies.dav.remote]
user = "{dav.user}"
password_env = "{DAV_PASSWORD_ENV}"
timeout = 10
'''
    mail = ""
    if smtp is not None:
        mail = (f'\n[mail]\nenabled = true\nhost = "{smtp.host}"\nport = {smtp.port}\nuser = "{smtp.user}"\n'
                f'password_env = "{SMTP_PASSWORD_ENV}"\nsender = "perechen@region.example.ru"\n')
    office = tmp_path / "office"
    office.mkdir()
    toml = office / "region.toml"
    toml.write_text(f'[region]\nname = "Калининградская область"\noutput = "out"\noffice_email = "{OFFICE}"\n'
                    f'{mail}{agencies}', encoding="utf-8")
    return Region(toml=toml, out=office / "out", agencies=root)


@pytest.fixture
def full_region(tmp_path: Path, webdav: Any, smtp: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Region,
                                                                                                          Any, Any]]:
    monkeypatch.setenv(DAV_PASSWORD_ENV, webdav.password)
    monkeypatch.setenv(SMTP_PASSWORD_ENV, smtp.password)
    region = build_region(tmp_path, dav=webdav, smtp=smtp)
    yield region, webdav, smtp


def test_region_over_every_kind_of_agency(full_region: tuple[Region, Any, Any]) -> None:
    region, webdav, smtp = full_region
    before = _snapshot(region.agencies, webdav.root)
    res = _run("region", "--config", str(region.toml), "--format", "json", "--today", TODAY)
    assert res.exit_code == 1, res.output  # gtn is overdue, bad and brokenprof are unreadable
    doc = json.loads(res.stdout)
    assert set(doc) == {"region", "agencies", "rows", "errors"} and doc["region"] == "Калининградская область"
    by = {a["id"]: a for a in doc["agencies"]}
    assert list(by) == ["gtn", "ext", "renum", "bad", "brokenprof", "dav"]  # the order of region.toml
    for a in doc["agencies"]:
        assert set(a) == {"id", "name", "rows", "errors", "warnings", "pending", "deadline", "overdue", "file_error"}

    gtn = by["gtn"]
    assert gtn["file_error"] is None and gtn["rows"] == 8 and gtn["errors"] == 0
    assert gtn["pending"] == 1 and gtn["deadline"] == "2026-11-17" and gtn["overdue"] > 100

    assert by["ext"]["file_error"] is None and by["ext"]["errors"] == 0  # the extra kind is a kind of its profile
    assert by["ext"]["deadline"] is None and by["ext"]["overdue"] == 0
    assert by["renum"]["file_error"] is None and by["renum"]["errors"] == 0 and by["renum"]["pending"] == 0
    assert by["bad"]["file_error"]["code"] in {"csv", "not_xlsx"} and by["bad"]["rows"] == 0
    assert "bad" in by["bad"]["file_error"]["message"] and "Traceback" not in by["bad"]["file_error"]["message"]
    assert by["brokenprof"]["file_error"]["code"] == "rules_broken"
    assert "lists.toml" in by["brokenprof"]["file_error"]["message"]
    assert by["dav"]["file_error"] is None and by["dav"]["rows"] == 8
    assert doc["rows"] == sum(a["rows"] for a in doc["agencies"]) == 32
    assert doc["errors"] == sum(a["errors"] for a in doc["agencies"])

    # Nothing was written beside any agency, nor on the server (GET only).
    assert _snapshot(region.agencies, webdav.root) == before
    assert {e["method"] for e in webdav.requests_log()} == {"GET"}

    # Outputs in the region's folder only.
    out = region.out
    assert (out / "index.html").is_file() and (out / "region.json").is_file()
    assert (out / "agencies" / "gtn" / "report" / "report.html").is_file()
    summary = json.loads((out / "region.json").read_text(encoding="utf-8"))
    gtn_detail = next(d for d in summary["details"] if d["id"] == "gtn")
    assert gtn_detail["act"]["number"] == "31-о" and gtn_detail["placed_rows"] == 8
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "приказ от 02.12.2026 № 31-о" in index and "просрочено на" in index
    assert 'href="agencies/gtn/report/report.html"' in index
    assert by["bad"]["file_error"]["message"].split(":")[0] in index

    # Mail: each agency's уполномоченное лицо with its own part, and the office's summary.
    mails = smtp.wait_for(6)
    to = {m.envelope_to[0]: m for m in mails}
    assert set(to) == {"gtn@example.ru", "ext@example.ru", "renum@example.ru", "bad@example.ru", "dav@example.ru",
                       OFFICE}
    assert "Служба гостехнадзора" in to["gtn@example.ru"].subject
    assert "ПРОСРОЧЕНО" in to["gtn@example.ru"].text and "Агентство по архитектуре" not in to["gtn@example.ru"].text
    assert [name for name, _, _ in to["gtn@example.ru"].attachments] == ["замечания-perechen.xlsx"]  # its own copy
    assert to["bad@example.ru"].attachments == []
    assert "Книга не проверена" in to["bad@example.ru"].text
    office = to[OFFICE].text
    for name in ("Служба гостехнадзора", "Министерство цифрового развития", "Агентство по архитектуре",
                 "Министерство примеров", "Служба с испорченным профилем", "Агентство на сервере"):
        assert name in office
    assert "Служба с испорченным профилем: адрес уполномоченного лица не указан" in office


def test_region_open_data_is_every_placed_row_and_frictionless_accepts_it(tmp_path: Path) -> None:
    region = build_region(tmp_path)
    res = _run("region", "--config", str(region.toml), "--no-mail", "--today", TODAY)
    assert res.exit_code == 1, res.output
    folder = region.out / "opendata"
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    resource = package["resources"][0]
    names = [f["name"] for f in resource["schema"]["fields"]]
    assert names[:3] == ["agency_id", "agency", "inn"] and names[3:] == [f.field for f in PUBLISHED_FIELDS]
    import csv

    with (folder / resource["path"]).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # gtn's and renum's published versions (8 rows each); the change not yet placed is not in it.
    assert sorted({(r["agency_id"], r["agency"], r["inn"]) for r in rows}) == [
        ("gtn", "Служба гостехнадзора", "3906000001"), ("renum", "Агентство по архитектуре", "3906000003")]
    assert len(rows) == 16 and not any("(новая редакция)" in r["name"] for r in rows)
    meta = (folder / "meta.csv").read_text(encoding="utf-8")
    assert "standardversion,http://opendata.gosmonitor.ru/standard/3.0" in meta and resource["path"] in meta
    done = _frictionless(folder)
    assert done.returncode == 0 and json.loads(done.stdout)["valid"], done.stdout[-3000:]


def test_the_consolidated_csv_neutralises_exactly_what_opendata_neutralises() -> None:
    """The region's CSV skips opendata.neutralise for cells it cannot change (speed): the result is the same."""
    import csv
    import io

    from perechen import region as region_module
    from perechen.opendata import neutralise

    cells = ["", "текст", "=1+2", "@SUM(A1)", "\tx", "\rx", "\nx", "+7 (4012) 12-34-56", "-A1", "- пункт списка",
             "+SUM(1)", "'=1", "'текст", "''@x", "cmd|' /C calc'!A0", " cmd|x", "a|b", "+", "-", "'", "|", "x=1",
             "-2+HYPERLINK(1)", "+-1", "+Лист!A1", "Услуга — «=1»"]
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([neutralise(c) for c in row] for row in (cells, cells[::-1]))
    assert region_module._csv([cells, cells[::-1]]) == buf.getvalue().encode("utf-8")
    assert b"'=1+2" in region_module._csv([["=1+2"]]) and region_module._csv([["текст"]]) == "текст\r\n".encode()
    assert region_module._csv([[""]]) == b'""\r\n'  # csv.writer's lone empty cell


def test_the_consolidated_csv_is_what_csv_writer_writes() -> None:
    """The region's CSV joins cells itself (speed): byte for byte what csv.writer writes, on random cells."""
    import csv
    import io
    import random

    from perechen import region as region_module
    from perechen.opendata import neutralise

    rnd = random.Random(14)
    alphabet = ["a", "Я", ",", '"', "\n", "\r", " ", "\t", "'", "|", "=", "+", "-", "@", "A1", "(", "!", ";"]
    for _ in range(3000):
        rows = [["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))) for _ in range(rnd.randint(1, 5))]
                for _ in range(rnd.randint(1, 3))]
        buf = io.StringIO(newline="")
        csv.writer(buf, delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(
            [neutralise(c) for c in row] for row in rows)
        assert region_module._csv(rows) == buf.getvalue().encode("utf-8"), rows


@pytest.mark.browser
def test_region_dashboard_in_chromium(tmp_path: Path) -> None:
    from tests.browser import check_page, require_browser

    require_browser()
    region = build_region(tmp_path)
    res = _run("region", "--config", str(region.toml), "--no-mail", "--today", TODAY)
    assert res.exit_code == 1, res.output
    index = region.out / "index.html"
    html = index.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "&lt;img" in html
    assert '<html lang="ru">' in html and "<caption>" in html
    assert 'scope="col"' in html and 'scope="row"' in html and "<svg" in html and 'role="img"' in html
    # Sortable without a script: every header links to a pre-rendered view, which exists and is sorted.
    hrefs = re.findall(r'<th scope="col"[^>]*><a href="([^"]+)"', html)
    assert len(hrefs) == 6 and all((region.out / h).is_file() for h in hrefs)
    by_errors = (region.out / "sort-pending-desc.html").read_text(encoding="utf-8")
    assert 'aria-sort="descending"' in by_errors
    first = re.search(r'<th scope="row">(?:<a [^>]+>)?([^<]+)', by_errors)
    assert first and first.group(1) == "Служба гостехнадзора"  # the one pending change
    for page in (index, region.out / "sort-days-asc.html"):
        result = check_page(page)
        assert not result.serious, result.describe(result.serious)
        assert result.lang == "ru" and result.console_errors == [] and result.external_requests == []
        assert result.js_flag is None and result.dialogs == []  # the agency's name is text, never markup
        zoomed = check_page(page, zoom=2.0)
        assert not zoomed.serious, zoomed.describe(zoomed.serious)
        assert not zoomed.horizontal_scroll_at_200, zoomed.scroll_width_at_200


@pytest.mark.parametrize("spawn", ["", "1"], ids=["fork-if-possible", "spawn"])
def test_agencies_are_read_in_worker_processes(tmp_path: Path, spawn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's results are the same as reading each agency in this process, in the same order, whichever way
    the workers start (spawn is what Windows does)."""
    from perechen.region import _context, jobs, load_region, read_all

    monkeypatch.setenv("PERECHEN_SPAWN", spawn)
    assert _context().get_start_method() in (("spawn",) if spawn else ("fork", "spawn"))

    region = build_region(tmp_path)
    cfg = load_region(region.toml)
    items = jobs(cfg, dt.date.fromisoformat(TODAY))
    assert worker_count(len(items)) == min(len(items), os.cpu_count() or 1)
    parallel = read_all(items, workers=2)
    inline = [read_agency(j) for j in items]
    strip = [(a.id, a.rows, a.errors, a.warnings, a.pending, a.deadline, a.overdue, a.file_error) for a in parallel]
    assert strip == [(a.id, a.rows, a.errors, a.warnings, a.pending, a.deadline, a.overdue, a.file_error)
                     for a in inline]


def _dies_on_a3(job: AgencyJob) -> Any:
    """A worker's read_agency whose process is killed by agency a3 (module level: the pool pickles it by name)."""
    import signal

    if job.id == "a3":
        os.kill(os.getpid(), signal.SIGKILL)
    return read_agency(job)


def test_a_killed_worker_costs_only_its_own_agency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker process that dies (the system killed it, out of memory) takes down its pool; every other agency is
    still read — also the one another worker had under way — and the results keep the jobs' order, largest-first
    start or not. (The death is faked in the forked worker: no real workbook kills a process on demand.)"""
    from perechen import region as region_module

    if region_module._context().get_start_method() != "fork":
        pytest.skip("the fault is injected into forked workers")
    rules = Rules.load()
    rows = EXAMPLE.rows()
    toml = ["[region]\nname = \"Тест\"\noutput = \"out\""]
    for i in range(7):  # different sizes: the pool starts them in another order than the jobs'
        wb = _workbook(tmp_path / f"w{i}.xlsx", rules, rows[:1 + i % 4], "", "")
        toml.append(f'[agencies.a{i}]\nname = "Орган {i}"\nworkbook = "{wb.as_posix()}"')
    (tmp_path / "region.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
    items = region_module.jobs(region_module.load_region(tmp_path / "region.toml"), dt.date.fromisoformat(TODAY))
    monkeypatch.setattr(region_module, "read_agency", _dies_on_a3)
    got = region_module.read_all(items, workers=2)
    assert [a.id for a in got] == [f"a{i}" for i in range(7)]
    assert [(a.file_error or {}).get("code") for a in got] == [None, None, None, "worker_failed", None, None, None]
    assert [a.rows for a in got] == [1 + i % 4 if i != 3 else 0 for i in range(7)]
    assert "рабочий процесс завершился аварийно" in got[3].file_error["message"]  # type: ignore[index]


def test_a_worker_never_raises(tmp_path: Path) -> None:
    job = AgencyJob(id="x", name="Орган", base_dir=str(tmp_path), out_dir=str(tmp_path / "out"),
                    today=dt.date(2026, 12, 1), config=str(tmp_path / "нет.toml"))
    res = read_agency(job)
    assert res.file_error is not None and res.file_error["code"] == "config_broken"
    assert "нет.toml" in res.file_error["message"]


def test_a_clean_region_exits_0_and_prints_text(tmp_path: Path) -> None:
    rules = Rules.load()
    wb = _workbook(tmp_path / "a.xlsx", rules, EXAMPLE.rows(), "", "")
    toml = tmp_path / "region.toml"
    toml.write_text(f'[region]\nname = "Тест"\noutput = "out"\n[agencies.a]\nname = "Орган А"\nworkbook = '
                    f'"{wb.as_posix()}"\n', encoding="utf-8")
    res = _run("region", "--config", str(toml))
    assert res.exit_code == 0, res.output
    assert "Регион: Тест. Органов: 1; точек: 8; ошибок: 0." in res.output
    assert "Размещение на сайте не отслеживается" in res.output and "Сводная страница:" in res.output


def test_without_a_mail_no_annotated_copy_is_written_and_the_dashboard_links_the_html_report(tmp_path: Path) -> None:
    """The annotated copy of an agency's workbook is the attachment of its mail (see
    test_region_over_every_kind_of_agency); a run without mail writes report.json and report.html only."""
    rules = Rules.load()
    rows = EXAMPLE.rows()
    rows[0]["responsible"] = None  # a finding, so an annotated copy would have something to show
    wb = _workbook(tmp_path / "a.xlsx", rules, rows, "a@example.ru", "")
    toml = tmp_path / "region.toml"
    toml.write_text(f'[region]\nname = "Тест"\noutput = "out"\n[agencies.a]\nname = "Орган А"\nworkbook = '
                    f'"{wb.as_posix()}"\n', encoding="utf-8")
    res = _run("region", "--config", str(toml), "--no-mail", "--format", "json")
    assert res.exit_code == 1, res.output
    assert json.loads(res.output)["agencies"][0]["errors"] >= 1
    report = tmp_path / "out" / "agencies" / "a" / "report"
    assert sorted(p.name for p in report.iterdir()) == ["report.html", "report.json"]
    dashboard = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="agencies/a/report/report.html"' in dashboard


@pytest.mark.parametrize(("content", "words"), [
    (None, ["не найден", "region.toml"]),
    ('[region]\nname = "Р"\n[agencies.a]\nname = "А"\n', ["ключ «agencies.a»", "workbook", "config"]),
    ('[region]\nname = "Р"\n[agencies.a]\nname = "А"\nconfig = "x.toml"\nworkbook = "a.xlsx"\n',
     ["ключ «agencies.a.workbook»"]),
    ('[region]\nname = "Р"\n[agencies."а б"]\nname = "А"\nworkbook = "a.xlsx"\n', ["ключ «agencies»", "«а б»"]),
    ('[region]\nname = "Р"\n[agencies]\n', ["не описано ни одного органа"]),
    ('[region]\noutput = "o"\n[agencies.a]\nname = "А"\nworkbook = "a.xlsx"\n', ["ключ «region.name»"]),
    ('[region\n', ["синтаксическая ошибка TOML", "строке 1"]),
])
def test_a_broken_region_file_exits_2_naming_file_and_key(tmp_path: Path, content: str | None,
                                                         words: list[str]) -> None:
    toml = tmp_path / "region.toml"
    if content is not None:
        toml.write_text(content, encoding="utf-8")
    res = _run("region", "--config", str(toml), "--format", "json")
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["file_error"]["code"] == "config_broken"
    msg = doc["file_error"]["message"]
    assert str(toml) in msg
    for w in words:
        assert w in msg, msg
    assert not (tmp_path / "region-output").exists()


def test_the_readme_region_example_is_a_valid_region_file(tmp_path: Path) -> None:
    from perechen.region import load_region

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("**region.toml.**", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "region.toml").write_text(block, encoding="utf-8")
    cfg = load_region(tmp_path / "region.toml")
    assert list(cfg.agencies) == ["gtn", "mincifra"] and cfg.agencies["mincifra"].remote is not None
    assert cfg.agencies["mincifra"].workbook == "\\\\server\\mincifra\\perechen.xlsx"


def test_an_agency_never_published_has_no_term_and_its_folder_stays_untouched(tmp_path: Path) -> None:
    rules = Rules.load()
    agency = tmp_path / "agency"
    agency.mkdir()
    _workbook(agency / "perechen.xlsx", rules, EXAMPLE.rows(), "", "")
    (agency / "perechen.toml").write_text('workbook = "perechen.xlsx"\noutput = "output"\n', encoding="utf-8")
    toml = tmp_path / "region.toml"
    toml.write_text('[region]\nname = "Тест"\noutput = "out"\n[agencies.a]\nname = "Орган А"\n'
                    'config = "agency/perechen.toml"\n', encoding="utf-8")
    res = _run("region", "--config", str(toml), "--format", "json", "--today", TODAY)
    assert res.exit_code == 0, res.output  # nothing placed yet is not a missed term
    a = json.loads(res.stdout)["agencies"][0]
    assert a["pending"] == 8 and a["deadline"] is None and a["overdue"] == 0
    assert sorted(p.name for p in agency.iterdir()) == ["perechen.toml", "perechen.xlsx"]  # no output/ created
    text = _run("region", "--config", str(toml), "--no-mail", "--today", TODAY).output
    assert "Перечень ещё не размещался на официальном сайте" in text and "к первому размещению — 8 точек" in text
    assert "срок не исчисляется (ещё не размещался)" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------------------
# The п. 5.4 state is the agency's own (its journal, its [approval] mode)


def _agency(root: Path, mode: str | None = None) -> Path:
    """An agency with its own perechen.toml (publication by hand, the folder target), optionally in ``mode``."""
    root.mkdir(parents=True)
    _workbook(root / "perechen.xlsx", Rules.load(), EXAMPLE.rows(), "", "3906000009")
    approval = f'[approval]\nmode = "{mode}"\n' if mode else ""
    (root / "perechen.toml").write_text('workbook = "perechen.xlsx"\noutput = "output"\n[publish]\ntarget = "folder"\n'
                                        f'[targets.folder]\ntype = "folder"\npath = "output/site"\n{approval}',
                                        encoding="utf-8")
    return root


def _change_row(agency: Path, typed: dt.date | None) -> None:
    rows = EXAMPLE.rows()
    rows[1]["name"] = rows[1]["name"] + " (новая редакция)"
    rows[1]["changed_on"] = typed
    _workbook(agency / "perechen.xlsx", Rules.load(), rows, "", "3906000009")


def _region_of(tmp_path: Path, entries: str) -> Path:
    toml = tmp_path / "region.toml"
    toml.write_text(f'[region]\nname = "Тест"\noutput = "out"\n{entries}', encoding="utf-8")
    return toml


def _region_json(toml: Path, today: str) -> tuple[int, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(exit code, the agencies of stdout by id, region.json's details by id)."""
    res = _run("region", "--config", str(toml), "--format", "json", "--no-mail", "--today", today)
    doc = json.loads(res.stdout)
    details = json.loads((toml.parent / "out" / "region.json").read_text(encoding="utf-8"))["details"]
    return res.exit_code, {a["id"]: a for a in doc["agencies"]}, {d["id"]: d for d in details}


def _own_nightly(agency: Path, today: str) -> dict[str, Any]:
    """The agency's own nightly run on ``today``: the «diff» part of its nightly.json (what its dashboard shows)."""
    _nightly(agency, today)
    runs = sorted((agency / "output" / "reports").glob("*/nightly.json"))
    summary = json.loads(runs[-1].read_text(encoding="utf-8"))
    diff: dict[str, Any] = summary["diff"]
    return diff


def test_the_term_counts_from_the_day_the_agencys_journal_saw_the_change(tmp_path: Path) -> None:
    """Included changes («включено»): the day the agency's nightly run first saw the change, not the typed «Дата
    изменения» (here later), is where the term starts — region says what the agency's own nightly run says, whether
    the agency is given by its settings or by workbook + published (the journal beside it, default mode)."""
    agency = _agency(tmp_path / "inc")
    _publish(agency, "2026-10-01")
    _change_row(agency, dt.date(2026, 11, 20))  # typed later than the day the change was seen
    _nightly(agency, "2026-11-02")
    toml = _region_of(tmp_path, f'[agencies.cfg]\nname = "По настройкам"\n'
                                f'config = "{(agency / "perechen.toml").as_posix()}"\n'
                                f'[agencies.wb]\nname = "По книге"\n'
                                f'workbook = "{(agency / "perechen.xlsx").as_posix()}"\n'
                                f'published = "{(agency / "output" / "published").as_posix()}"\n')
    before = _snapshot(agency)
    code, by, details = _region_json(toml, "2026-11-25")
    assert _snapshot(agency) == before  # the journal was read from a copy: nothing beside the agency changed
    assert code == 1  # overdue
    for key in ("cfg", "wb"):
        a = by[key]
        assert a["pending"] == 1 and a["deadline"] == "2026-11-17" and a["overdue"] > 0, a  # 02.11 + 10 working days
        assert details[key]["earliest_change"] == "2026-11-02" and details[key]["act_note"] is None
    assert not list((tmp_path / "out").rglob(".journal-*"))  # the temporary copy is gone

    own = _own_nightly(agency, "2026-11-25")  # the agency's own run on the same day
    assert own["deadline"] == by["cfg"]["deadline"] and own["overdue"]
    assert own["overdue_working_days"] == by["cfg"]["overdue"] and own["earliest_change"] == "2026-11-02"

    # Before the term: the working days left are the agency's own too.
    _, by, details = _region_json(toml, "2026-11-10")  # (the typed date is in the future: a check error)
    own = _own_nightly(agency, "2026-11-10")
    assert by["cfg"]["overdue"] == 0 and by["cfg"]["deadline"] == own["deadline"] == "2026-11-17"
    assert details["cfg"]["working_days_left"] == own["working_days_left"] > 0


def test_an_unreadable_journal_copy_leaves_the_typed_date_and_says_so(tmp_path: Path) -> None:
    agency = _agency(tmp_path / "inc")
    _publish(agency, "2026-10-01")
    _change_row(agency, dt.date(2026, 11, 20))
    _nightly(agency, "2026-11-02")
    journal = journal_path(agency / "output")
    journal.write_bytes(b"not a journal" * 100)
    for extra in (journal.with_name(journal.name + "-wal"), journal.with_name(journal.name + "-shm")):
        extra.unlink(missing_ok=True)
    toml = _region_of(tmp_path, f'[agencies.a]\nname = "Орган"\nconfig = "{(agency / "perechen.toml").as_posix()}"\n')
    before = _snapshot(agency)
    _, by, details = _region_json(toml, "2026-11-25")
    assert _snapshot(agency) == before
    assert by["a"]["file_error"] is None and by["a"]["pending"] == 1
    assert details["a"]["earliest_change"] == "2026-11-20" and by["a"]["overdue"] == 0  # the typed date counts
    assert details["a"]["act_note"].startswith("Журнал изменений органа не прочитан")


def test_act_mode_counts_waiting_changes_without_a_term_until_the_act(tmp_path: Path) -> None:
    """[approval] mode = "act": a change no act approved yet is pending but has no term and is never overdue; once
    the act is recorded, the term runs from the act's date — as the agency's own run says."""
    agency = _agency(tmp_path / "act", mode="act")
    cfg = ("--config", str(agency / "perechen.toml"))

    def approve(day: str, number: str) -> None:
        made = _run("approve", "--format", "json", "--today", day, *cfg)
        assert made.exit_code == 0, made.output
        draft = json.loads(made.stdout)["draft"]
        rec = _run("approve", "--record", draft, "--number", number, "--date",
                   dt.date.fromisoformat(day).strftime("%d.%m.%Y"), "--today", day, *cfg)
        assert rec.exit_code == 0, rec.output

    approve("2026-10-01", "1-о")
    _publish(agency, "2026-10-01")
    _change_row(agency, dt.date(2026, 10, 5))  # typed early: by that date alone it would be long overdue
    _nightly(agency, "2026-10-05")
    toml = _region_of(tmp_path, f'[agencies.a]\nname = "Орган"\nconfig = "{(agency / "perechen.toml").as_posix()}"\n')
    before = _snapshot(agency)
    code, by, details = _region_json(toml, "2026-11-30")
    assert _snapshot(agency) == before
    a = by["a"]
    assert code == 0 and a["pending"] == 1 and a["deadline"] is None and a["overdue"] == 0, a
    assert details["a"]["approval_mode"] == "act" and details["a"]["waiting_for_act"] == 1
    text = _run("region", "--config", str(toml), "--no-mail", "--today", "2026-11-30").output
    assert "ни одно ещё не утверждено приказом — срок по п. 5.4 исчисляется со дня приказа" in text
    assert "ждут приказа" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")

    approve("2026-12-01", "2-о")  # the act approving the change, dated 01.12.2026
    code, by, details = _region_json(toml, "2026-12-08")
    from perechen.workdays import WorkCalendar

    term = WorkCalendar.load(Rules.load().directory).status(dt.date(2026, 12, 1), dt.date(2026, 12, 8))
    a = by["a"]
    assert a["pending"] == 1 and a["deadline"] == term.deadline.isoformat() and a["overdue"] == 0, a
    assert details["a"]["earliest_change"] == "2026-12-01" and details["a"]["waiting_for_act"] == 0
    assert details["a"]["working_days_left"] == term.working_days_left
    own = _own_nightly(agency, "2026-12-08")
    assert own["deadline"] == a["deadline"] and own["working_days_left"] == term.working_days_left
    code, by, _ = _region_json(toml, "2026-12-28")  # past the act's term
    assert code == 1 and by["a"]["deadline"] == term.deadline.isoformat() and by["a"]["overdue"] > 0
