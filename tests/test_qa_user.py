"""What a new user trips over, found by trying the installed tool from an empty folder (QA pass, issue 11 D).

Each test drives the CLI as a clerk, the уполномоченное лицо or an admin would and asserts what they read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "workbook" / "perechen.xlsx"
ISO_DAY = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PERECHEN_CONFIG"}
    env["COLUMNS"] = "80"
    return subprocess.run([sys.executable, "-m", "perechen", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=env, check=False, timeout=240)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two demo runs in an empty folder, as the README's first command."""
    folder = tmp_path_factory.mktemp("demo")
    for _ in range(2):
        r = run(folder, "nightly", "--demo", "--today", "2026-12-07")
        assert r.returncode == 0, r.stdout + r.stderr
    return folder


def test_command_list_never_cuts_a_clause_reference(tmp_path: Path) -> None:
    """«perechen --help» listed «approve  Подготовить проект приказа … (п.»: click ended the sentence at «п.»."""
    r = run(tmp_path, "--help")
    assert r.returncode == 0
    commands = r.stdout.split("Команды:")[1].splitlines()
    listed = [line.split(None, 1) for line in commands if line.strip()]
    assert {name for name, _ in listed} >= {"approve", "publish", "report", "check", "nightly", "region"}
    for name, text in listed:
        assert not re.search(r"\(п{1,2}\.…?$", text), (name, text)
        assert "(" not in text or ")" in text, (name, text)  # no bracket left open by the cut
    shown = dict(listed)
    assert shown["publish"] == "Опубликовать утверждённый перечень на официальном сайте."


def test_missing_argument_is_named_in_russian(tmp_path: Path) -> None:
    """«perechen init» without a path said «Не указан аргумент 'PATH'»."""
    r = run(tmp_path, "init")
    assert r.returncode == 2
    assert "Не указан аргумент 'ПУТЬ'" in r.stderr, r.stderr
    assert "PATH" not in r.stderr and "Traceback" not in r.stderr


def test_info_severity_is_spravochno_in_every_listing(tmp_path: Path) -> None:
    """The level is «справочно» (issue 11 item 19); «Сведения» is the sheet only."""
    r = run(tmp_path, "rules")
    assert r.returncode == 0
    assert re.search(r"^Справочно: \d+$", r.stdout, re.M), r.stdout
    assert not re.search(r"^Сведения: ", r.stdout, re.M)
    import openpyxl

    book = openpyxl.load_workbook(SAMPLE)
    sheet = book["Перечень"]
    sheet.row_dimensions[3].hidden = True  # hidden-rows: an information finding
    wb = tmp_path / "perechen.xlsx"
    book.save(wb)
    r = run(tmp_path, "check", str(wb), "--report-dir", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    assert "справочно: 1" in r.stdout.splitlines()[-1], r.stdout
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert 'sev-info">Сведения<' not in html and "со сведениями" not in html
    assert ">Сведения</th><td" not in html.replace('<th scope="row">Сведения</th>', "")  # the sheet as a cell stays
    assert html.count(">Справочно<") >= 2  # the totals and the column of the persons' table


def test_nightly_log_has_no_none_and_no_english_status(demo: Path) -> None:
    """nightly.log said «срок None, осталось рабочих дней None» and «код выхода 0 (warnings)»."""
    log = (demo / "output" / "logs" / "nightly.log").read_text(encoding="utf-8")
    assert "None" not in log
    finished = [line for line in log.splitlines() if "Ночная проверка завершена" in line]
    assert len(finished) == 2
    assert all(line.endswith("код выхода 0 (только предупреждения).") for line in finished), finished
    assert "срока размещения нет" in log
    assert not re.search(r"\((ok|warnings|errors|overdue|failed)\)", log)


def test_dashboard_severity_column_is_spravochno(demo: Path) -> None:
    html = (demo / "output" / "reports" / "index.html").read_text(encoding="utf-8")
    assert ">Справочно</th>" in html and ">Сведений</th>" not in html


def test_history_shows_dates_as_people_write_them(demo: Path) -> None:
    """«perechen history» showed «2026-12-07 11:59:01» in its table."""
    r = run(demo, "history")
    assert r.returncode == 0, r.stderr
    assert "07.12.2026" in r.stdout
    table = r.stdout.split("Опубликованные версии")[1]
    rows = [line for line in table.splitlines() if line.startswith("*")]
    assert rows and re.search(r"\b07\.12\.2026 \d\d:\d\d:\d\d\b", rows[0]), rows
    assert not ISO_DAY.search(rows[0].replace(rows[0].split()[1], "")), rows  # the version id aside


def test_publish_again_counts_files_not_points(demo: Path) -> None:
    """A second publish said «без изменений: 7» under «Изменения …: нет» — 7 files, while the register has 8 points."""
    r = run(demo, "publish", str(SAMPLE), "--today", "2026-12-07")  # the demo runs' day: never placed before them
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^Файлов на сайте без изменений: \d+\.$", r.stdout, re.M), r.stdout
    assert not re.search(r"^\s*без изменений: \d+$", r.stdout, re.M)


def test_diff_help_tells_where_the_clock_starts(tmp_path: Path) -> None:
    """The help said the 10 days run from «Дата изменения»; the journal's observation (or the act) comes first."""
    r = run(tmp_path, "diff", "--help")
    text = " ".join(r.stdout.split())
    assert "после самой ранней «Даты изменения»" not in text
    assert "впервые увидела его включённым" in text and "с даты приказа" in text
    assert "У первого размещения утверждённого перечня (п. 5.2) срока нет." in text


def test_dashboard_names_the_journal_and_dates_the_chart_table(demo: Path) -> None:
    """«прочие файлы в output» was the journal; the chart's table showed run ids «2026-12-07_…» to a person."""
    html = (demo / "output" / "reports" / "index.html").read_text(encoding="utf-8")
    assert "журнал изменений, приказов и размещений — хранится всегда (output/journal.sqlite)" in html
    table = html.split("Данные графика таблицей")[1].split("</table>")[0]
    heads = re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', table)
    assert len(heads) == 2 and all(re.fullmatch(r"\d\d\.\d\d\.20\d\d \d\d:\d\d:\d\d", h) for h in heads), heads
    assert not re.search(r"sr-only\"> запуска 20\d\d-", html)
    assert "Ждут публи" not in html


def test_a_fresh_folder_tells_how_to_name_a_workbook(tmp_path: Path) -> None:
    """After pip install, «perechen check» in an empty folder only said «…/workbook/perechen.xlsx не найден»."""
    r = run(tmp_path, "check")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    msg = r.stderr
    assert "нет ни perechen.toml, ни книги workbook/perechen.xlsx" in msg, msg
    assert "perechen init" in msg and "perechen nightly --demo" in msg and "perechen check" in msg
    r = run(tmp_path, "check", "--format", "json")
    assert r.returncode == 2 and '"code": "not_found"' in r.stdout  # the JSON contract keeps its code
    r = run(tmp_path, "nightly", "-q")  # the scheduled job in a folder without settings says the same
    assert r.returncode == 2 and "нет ни perechen.toml, ни книги workbook/perechen.xlsx" in r.stdout, r.stdout
    # with perechen.toml the usual message names the configured file
    (tmp_path / "perechen.toml").write_text('workbook = "нет.xlsx"\n', encoding="utf-8")
    r = run(tmp_path, "check")
    assert r.returncode == 2 and "нет.xlsx не найден" in r.stderr and "perechen init" not in r.stderr


def test_region_open_data_is_dated_by_placement_not_by_typed_dates(demo: Path) -> None:
    """The region's set was named and dated by the rows' «Дата изменения» (2024): created 20240226, valid
    20250226 — expired on arrival, as issue 11 item 16 found for one agency."""
    (demo / "region.toml").write_text(
        '[region]\nname = "Калининградская область"\noutput = "region-output"\n\n'
        f'[agencies.gtn]\nname = "Служба гостехнадзора"\nworkbook = \'{SAMPLE}\'\npublished = "output/published"\n',
        encoding="utf-8")
    r = run(demo, "region", "--no-mail", "--today", "2026-12-08")
    assert r.returncode == 0, r.stdout + r.stderr
    placed = (demo / "output" / "published" / "LATEST").read_text(encoding="utf-8").strip()[:10].replace("-", "")
    meta = dict(line.split(",", 1) for line in
                (demo / "region-output" / "opendata" / "meta.csv").read_text(encoding="utf-8").splitlines()[1:])
    assert meta["created"] == meta["modified"] == placed, meta
    assert meta["valid"] > placed
    assert any(k.startswith(f"data-{placed}-") for k in meta)


def test_spelling_hint_never_offers_a_value_outside_the_list(tmp_path: Path) -> None:
    """«консультация; что-то» got «Правильно: «получение консультации; что-то»» — a correction that is itself an
    error. The cell's needs-value error names «что-то»; the spelling hint waits until the cell holds list values."""
    import openpyxl

    book = openpyxl.load_workbook(SAMPLE)
    sheet = book["Перечень"]
    col = next(c.column for c in sheet[1] if c.value == "Удовлетворяемые потребности")
    sheet.cell(4, col).value = "консультация; что-то"
    sheet.cell(5, col).value = "консультация"
    wb = tmp_path / "perechen.xlsx"
    book.save(wb)
    r = run(tmp_path, "check", str(wb), "--no-report")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "что-то»" in r.stdout and "(needs-value)" in r.stdout
    assert "Правильно: «получение консультации; что-то»" not in r.stdout
    assert "Правильно: «получение консультации»" in r.stdout  # the clean cell still gets its hint


def test_readme_and_messages_use_the_orders_roles() -> None:
    """README said «включено»/«исключено» need «Проверил» (issue 11 item 8 says exclusion does not); the kind-value
    message sent the clerk to «ответственного за перечень», a role the order does not have."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "«включено»/«исключено» need «Проверил»" not in readme
    assert "«исключено» does not" in readme
    checks = (ROOT / "rules" / "checks.toml").read_text(encoding="utf-8")
    assert "ответственного за перечень" not in checks
    assert "попросите уполномоченное лицо (п. 2.1) добавить его в справочник видов точек" in checks


def test_profile_guide_names_the_levels_and_the_source_key(tmp_path: Path) -> None:
    """ИНСТРУКЦИЯ.md still called the level «сведения» and did not say how a rule is marked as the agency's own."""
    r = run(tmp_path, "profile", "new", "p")
    assert r.returncode == 0, r.stderr
    guide = (tmp_path / "p" / "ИНСТРУКЦИЯ.md").read_text(encoding="utf-8")
    assert "info — справочно" in guide and "info — сведения" not in guide
    assert 'source = "agency"' in guide and 'source = "order"' in guide


def test_the_day_a_change_was_made_is_not_called_the_typed_date(tmp_path: Path) -> None:
    """diff.html and the dashboard headed the day the change was observed «Дата изменения» — the name of the
    workbook's column, which here says 26.02.2024 while the column of the report said 07.12.2026."""
    import openpyxl

    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "perechen.toml").write_text('workbook = "perechen.xlsx"\n', encoding="utf-8")
    assert run(tmp_path, "publish").returncode == 0
    book = openpyxl.load_workbook(wb)
    sheet = book["Перечень"]
    col = next(c.column for c in sheet[1] if c.value == "Удовлетворяемые потребности")
    sheet.cell(4, col).value = "получение консультации"
    book.save(wb)
    r = run(tmp_path, "nightly", "--today", "2026-12-07")
    assert r.returncode == 0, r.stdout + r.stderr
    # publish.auto is off: the run says what to do with the change waiting (console, dashboard and mail share it)
    assert "разместите их командой perechen publish" in r.stdout, r.stdout
    run_dir = max((tmp_path / "output" / "reports").glob("20*"))
    diff_html = (run_dir / "diff.html").read_text(encoding="utf-8")
    dashboard = (tmp_path / "output" / "reports" / "index.html").read_text(encoding="utf-8")
    for html in (diff_html, dashboard):
        assert ">Изменение внесено</th>" in html and ">Дата изменения</th>" not in html
    assert "07.12.2026" in diff_html and "«Дата изменения» — 26.02.2024" in diff_html
    sheet = openpyxl.load_workbook(run_dir / "diff.xlsx").worksheets[0]
    heads = [c.value for row in sheet.iter_rows(max_row=6) for c in row if c.value]
    assert "Изменение внесено" in heads and "Дата изменения" not in heads
    # cron's --quiet: an exit code 1 from п. 5.4 says why, not only «ошибок 0»
    r = run(tmp_path, "nightly", "--today", "2026-12-23", "-q")
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Проверка: строк 8, ошибок 0")
    assert any("ПРОСРОЧЕНО на 2 рабочих дня" in line for line in lines), lines
    assert lines[-1].startswith("Сводка: ") and not any(line.startswith("Письма:") for line in lines)


def test_publish_refused_for_want_of_an_act_does_not_ask_to_fix_errors(tmp_path: Path) -> None:
    """In act mode without a recorded act publish ended «Исправьте ошибки (perechen check …)» — there were none."""
    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "perechen.toml").write_text('workbook = "perechen.xlsx"\n[approval]\nmode = "act"\n', encoding="utf-8")
    r = run(tmp_path, "publish")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "приказ ещё не записан" in r.stdout and "perechen approve --record" in r.stdout
    assert "Исправьте ошибки" not in r.stdout


@pytest.mark.parametrize("command", ["check", "diff"])
def test_an_unusable_report_dir_is_a_russian_message_not_a_crash(tmp_path: Path, command: str) -> None:
    """«check --report-dir» under a file (or a folder that cannot be made) ended in «Внутренняя ошибка perechen
    (FileNotFoundError)» and a crash log; and «init» into a missing folder said «No such file or directory»."""
    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(SAMPLE.read_bytes())
    r = run(tmp_path, command, str(wb), "--report-dir", str(wb / "reports"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Не удалось создать папку" in r.stderr and "часть пути — файл, а не папка" in r.stderr, r.stderr
    assert "Внутренняя ошибка" not in r.stderr and "Error" not in r.stderr
    assert wb.read_bytes() == SAMPLE.read_bytes()


def test_os_reasons_are_russian_for_common_failures() -> None:
    import errno

    from perechen.fsutil import os_reason

    assert os_reason(FileNotFoundError(errno.ENOENT, "No such file or directory")) == \
        "такой папки нет или путь указан неверно"
    assert os_reason(NotADirectoryError(errno.ENOTDIR, "Not a directory")) == "часть пути — файл, а не папка"
    assert os_reason(PermissionError(errno.EACCES, "Permission denied")) == "нет прав доступа"


def test_an_output_folder_that_cannot_exist_is_said_in_russian(tmp_path: Path) -> None:
    """output = a path under a file: diff, publish and history said «Not a directory» (the OS's English)."""
    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(SAMPLE.read_bytes())
    (tmp_path / "blocker").write_bytes(b"")
    (tmp_path / "perechen.toml").write_text('workbook = "perechen.xlsx"\noutput = "blocker/out"\n', encoding="utf-8")
    for command in ("check", "diff", "publish", "approve", "report", "history", "nightly"):
        r = run(tmp_path, command)
        assert r.returncode == 2, (command, r.stdout, r.stderr)
        said = r.stdout + r.stderr
        assert "часть пути — файл, а не папка" in said, (command, said)
        assert "Not a directory" not in said and "Traceback" not in said, (command, said)


def test_the_first_approval_lists_the_points_not_a_case_of_5_3(tmp_path: Path) -> None:
    """The first draft said «новые точки (п. 5.3.1): ТВ-01 …» — before anything was placed there is no
    актуализация under п. 5.3, only the approval of the list (п. 5.1) and its placement (п. 5.2)."""
    wb = tmp_path / "perechen.xlsx"
    wb.write_bytes(SAMPLE.read_bytes())
    r = run(tmp_path, "approve", str(wb))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Подготовлен проект приказа об утверждении перечня" in r.stdout
    assert "  точки перечня: ТВ-01, ТВ-02" in r.stdout and "п. 5.3.1" not in r.stdout


def test_date_messages_say_the_typed_date_counts_only_until_an_observation() -> None:
    """date-invalid and date-future said the 10 working days run from the typed «Дата изменения»; since the
    journal, the day the nightly run first saw the change counts, and the typed date only before that."""
    checks = (ROOT / "rules" / "checks.toml").read_text(encoding="utf-8")
    assert "от дня внесения изменений отсчитываются 10 рабочих дней" not in checks
    assert "от этого дня считается срок" not in checks
    assert checks.count("пока ночная проверка не заметила изменение сама") == 2
