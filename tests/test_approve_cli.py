"""perechen approve / approve --record / report / history through the CLI; the run lock; kill tests with a real child.

A child process runs the real command (``perechen.cli.main``) and stops inside a journal write
(``perechen.journal._step_hook``) — or while holding the run lock; the test kills it there (SIGKILL / TerminateProcess)
and checks that the journal and ``output/published/`` are consistent and that the next run completes.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from perechen import store
from perechen.cli import main
from perechen.journal import Journal, journal_path
from tests.conftest import BUNDLED

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "perechen.xlsx").write_bytes(BUNDLED.read_bytes())
    (tmp_path / "perechen.toml").write_text(
        'workbook = "perechen.xlsx"\noutput = "out"\n\n[publish]\nauto = true\ntarget = "folder"\n\n'
        '[targets.folder]\ntype = "folder"\npath = "out/site"\n', encoding="utf-8")
    return tmp_path


def cli(project: Path, *args: str) -> Result:
    res = CliRunner().invoke(main, [*args, "--config", str(project / "perechen.toml")])
    assert "Traceback" not in res.output
    return res


_CHILD = textwrap.dedent("""
    import sys, time
    from perechen import journal as jr
    from perechen.cli import main
    stop_at, nth, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    seen = {"n": 0}
    def hook(step):
        if step == stop_at:
            seen["n"] += 1
            if seen["n"] == nth:
                print("at", step, flush=True)
                time.sleep(600)
    jr._step_hook = hook
    main(args)
""")


@pytest.fixture
def child() -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def start(project: Path, stop_at: str, *args: str, nth: int = 1) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, stop_at, str(nth), *args, "--config",
                                 str(project / "perechen.toml")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, encoding="utf-8", cwd=ROOT)
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(f"at {stop_at}"):
            proc.kill()
            pytest.fail(f"the child did not reach {stop_at}: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        return proc

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=60)
        for stream in (p.stdout, p.stderr):
            if stream is not None:
                stream.close()


def kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no cleanup runs
    proc.wait(timeout=60)


def consistent(out: Path) -> Journal:
    """The journal opens and passes SQLite's check; every placement it records is a version of output/published/."""
    j = Journal.open(journal_path(out), create=False)
    names = {v.name for v in store.list_versions(out, with_register=False)}
    latest = store.latest_name(out)
    for p in j.placements():
        assert p.version in names and latest is not None and p.version <= latest, p
    if latest is not None:
        assert store.latest(out) is not None
    return j


# ------------------------------------------------------------------------------------------------ CLI


def test_approve_record_history_report_through_the_cli(project: Path) -> None:
    res = cli(project, "approve", "--format", "json")
    assert res.exit_code == 0, res.output
    draft = json.loads(res.stdout)
    assert set(draft) == {"draft", "folder", "docx", "rows", "fingerprint", "changes"} and draft["rows"] == 8
    assert set(draft["changes"]) == {"added", "kind_changed", "needs_changed", "excluded", "edited"}
    assert (Path(draft["folder"]) / "perechen.xlsx").is_file() and (Path(draft["folder"]) / "izmeneniya.xlsx").is_file()
    again = cli(project, "approve")
    assert again.exit_code == 0 and "Подготовлен проект приказа" in again.output  # no act yet: a new draft
    bad = cli(project, "approve", "--record", draft["draft"], "--number", "31-о", "--date", "08/12/2026")
    assert bad.exit_code == 2 and "ДД.ММ.ГГГГ" in bad.output
    assert cli(project, "approve", "--record", draft["draft"], "--number", "31-о").exit_code == 2
    assert cli(project, "approve", "--number", "31-о").exit_code == 2
    old = cli(project, "approve", "--record", draft["draft"], "--number", "31-о", "--date", "06.12.2026")
    assert old.exit_code == 2 and "заменён более поздним проектом" in old.output
    latest = sorted(p.name for p in (project / "out" / "approvals").iterdir())[-1]
    res = cli(project, "approve", "--record", latest, "--number", "31-о", "--date", "06.12.2026", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["number"] == "31-о"
    same = cli(project, "approve")
    assert same.exit_code == 0 and "новый проект приказа не нужен" in same.output
    assert cli(project, "nightly", "--no-mail").exit_code in (0, 1)
    hist = cli(project, "history")
    assert "приказ от 06.12.2026 № 31-о" in hist.output and "размещена версия" in hist.output
    rep = cli(project, "report", "--format", "json")
    assert rep.exit_code == 0, rep.output
    data = json.loads(rep.stdout)
    assert set(data) == {"year", "changes", "on_time", "late", "pending"} and data["changes"] == []
    text = cli(project, "report")
    assert text.exit_code == 0 and "compliance.html" not in text.output and "Отчёты:" in text.output
    run = Path(text.output.strip().splitlines()[-1].split(": ", 1)[1])
    assert {p.name for p in run.iterdir()} == {"compliance.json", "compliance.html", "compliance.xlsx"}


def test_help_is_russian() -> None:
    for cmd in ("approve", "report"):
        res = CliRunner().invoke(main, [cmd, "--help"])
        assert res.exit_code == 0 and "Коды выхода" in res.output and "Usage" not in res.output


# ------------------------------------------------------------------------------------------------ the run lock


def test_approve_during_a_nightly_run_waits_for_it(project: Path, child: Any) -> None:
    proc = child(project, "observation-inserted", "nightly", "--no-mail")  # a real nightly run, holding its lock
    res = cli(project, "approve")
    assert res.exit_code == 2 and "Сейчас идёт ночная проверка" in res.output
    assert "Проект приказа не подготовлен" in res.output
    assert not (project / "out" / "approvals").exists() or not any((project / "out" / "approvals").iterdir())
    kill(proc)
    j = consistent(project / "out")
    assert j.observations() == [] and j.changes() == []  # the killed observation left nothing half-written
    j.close()
    assert cli(project, "approve").exit_code == 0  # the OS released the lock with the process


def test_nightly_and_publish_during_approve_are_refused(project: Path, child: Any) -> None:
    proc = child(project, "draft-inserted", "approve")
    res = cli(project, "nightly", "--no-mail")
    assert res.exit_code == 2 and "уже выполняется" in res.output
    res = cli(project, "publish")
    assert res.exit_code == 2 and "Публикация не выполнена" in res.output
    assert not (project / "out" / "published").exists()
    kill(proc)
    assert cli(project, "nightly", "--no-mail").exit_code in (0, 1)


# ------------------------------------------------------------------------------------------------ kill tests


@pytest.mark.parametrize(("stop_at", "nth"), [("observation-inserted", 1), ("change-recorded", 3),
                                              ("placement-inserted", 1), ("before-commit", 2)])
def test_nightly_killed_at_a_journal_step_then_the_next_run_completes(project: Path, child: Any, stop_at: str,
                                                                      nth: int) -> None:
    kill(child(project, stop_at, "nightly", "--no-mail", nth=nth))
    consistent(project / "out").close()
    res = cli(project, "nightly", "--no-mail")
    assert res.exit_code in (0, 1), res.output
    out = project / "out"
    with consistent(out) as j:
        latest = store.latest_name(out)
        assert latest is not None and [p.version for p in j.placements()] == [latest]
        assert j.observations()  # the observation of the completed run
    assert (out / "site" / "index.html").is_file()


@pytest.mark.parametrize(("stop_at", "nth"), [("before-commit", 1), ("draft-inserted", 1), ("before-commit", 2)])
def test_approve_killed_then_the_next_run_completes(project: Path, child: Any, stop_at: str, nth: int) -> None:
    kill(child(project, stop_at, "approve", nth=nth))  # 1st commit: creating the journal; then the draft
    out = project / "out"
    with consistent(out) as j:
        assert j.drafts() == []
    if nth == 1 and stop_at == "before-commit":
        assert not (out / "approvals").exists()
        assert cli(project, "approve").exit_code == 0
        with consistent(out) as j:
            assert len(j.drafts()) == 1
        return
    folders = [p for p in (out / "approvals").iterdir()]
    assert len(folders) == 1 and not folders[0].name.startswith(".")  # complete: it was renamed before the journal
    res = cli(project, "approve", "--record", folders[0].name, "--number", "5-о",
              "--date", dt.date.today().strftime("%d.%m.%Y"))
    assert res.exit_code == 0, res.output  # the next run records the folder, then the act
    with consistent(out) as j:
        assert [d.id for d in j.drafts()] == [folders[0].name] and j.last_act() is not None


def test_record_killed_then_recorded_once(project: Path, child: Any) -> None:
    draft = json.loads(cli(project, "approve", "--format", "json").stdout)["draft"]
    day = dt.date.today().strftime("%d.%m.%Y")
    kill(child(project, "act-inserted", "approve", "--record", draft, "--number", "7-о", "--date", day))
    out = project / "out"
    with consistent(out) as j:
        assert j.acts() == []
    assert not (out / "approvals" / draft / "act.json").exists()
    assert cli(project, "approve", "--record", draft, "--number", "7-о", "--date", day).exit_code == 0
    assert (out / "approvals" / draft / "act.json").is_file()


@pytest.mark.parametrize("stop_at", ["observation-inserted", "placement-inserted"])
def test_publish_killed_then_the_next_run_completes(project: Path, child: Any, stop_at: str) -> None:
    kill(child(project, stop_at, "publish"))
    out = project / "out"
    consistent(out).close()
    res = cli(project, "publish")
    assert res.exit_code == 0, res.output
    with consistent(out) as j:
        latest = store.latest_name(out)
        assert [p.version for p in j.placements()] == [latest]
        # killed after the version was committed: the next run records that placement (from the store)
        assert [p.source for p in j.placements()] == (["sync"] if stop_at == "placement-inserted" else ["publish"])


def test_damaged_journal_is_rebuilt_and_said_so(project: Path) -> None:
    assert cli(project, "nightly", "--no-mail").exit_code in (0, 1)
    out = project / "out"
    journal_path(out).write_bytes(b"this is not a database" * 100)
    for side in ("-wal", "-shm"):
        journal_path(out).with_name(journal_path(out).name + side).unlink(missing_ok=True)
    res = cli(project, "nightly", "--no-mail")
    assert res.exit_code in (0, 1), res.output
    assert "повреждён" in res.output and "восстановлено" in res.output and "Не восстановить" in res.output
    with consistent(out) as j:
        assert [p.version for p in j.placements()] == [store.latest_name(out)]
    assert list(out.glob("journal.sqlite.damaged-*"))


def test_review_xlsx_holds_every_frozen_row_and_prints_on_a4_landscape(project: Path) -> None:
    import openpyxl

    draft = json.loads(cli(project, "approve", "--format", "json").stdout)
    frozen = json.loads((Path(draft["folder"]) / "draft.json").read_text("utf-8"))["rows"]
    wb = openpyxl.load_workbook(Path(draft["folder"]) / "perechen.xlsx")
    ws = wb.active
    assert ws.title == "Перечень" and ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert [ws.cell(row=i + 2, column=1).value for i in range(len(frozen))] == [r["code"] for r in frozen]
    dates = [c.value for c in ws["A"][1:]]
    assert dates and all(isinstance(v, str) for v in dates)
