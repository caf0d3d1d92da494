"""``perechen diff``: changes since the last publication (п. 5.3) and the publication deadline (п. 5.4)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ..console import echo_json
from ._common import (
    CONTEXT,
    EXIT_ERRORS,
    EXIT_OK,
    collector_off_for_good,
    config_option,
    end_at_once,
    guarded,
    load_config,
    progress_printer,
    today_option,
)


@click.command("diff", context_settings=CONTEXT)
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--against", type=click.Path(path_type=Path), default=None,
              help="С чем сравнивать: папка опубликованной версии (output/published/…), её register.json или "
                   "книга .xlsx, опубликованная до perechen. По умолчанию — версия из output/published/LATEST.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@today_option
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Папка для отчётов diff.html, diff.xlsx, diff.json (по умолчанию output/reports/<дата_время>).")
@click.option("--no-report", is_flag=True, help="Не записывать отчёты, только вывести изменения.")
@click.option("--fail-if-overdue", is_flag=True,
              help="Код выхода 1, если срок размещения (п. 5.4) уже прошёл (для cron и CI).")
@config_option
@guarded(json_flag="fmt")
def command(workbook: Path | None, against: Path | None, fmt: str, today: dt.datetime | None,
            report_dir: Path | None, no_report: bool, fail_if_overdue: bool, config_path: Path | None) -> None:
    """Что изменилось по сравнению с опубликованным перечнем и до какого дня его нужно разместить на сайте.

    Сравниваются строки со статусом «включено» с опубликованной версией по коду: новая точка (п. 5.3.1),
    изменение вида (п. 5.3.2), изменение потребностей (п. 5.3.3), исключение (п. 5.3.4), редакционные
    правки. Срок — 10 рабочих дней (п. 5.4, производственный календарь) со дня внесения самого раннего
    изменения: со дня, когда ночная проверка впервые увидела его включённым (в режиме утверждения приказом —
    с даты приказа); «Дата изменения» из книги — только если таких наблюдений нет. У первого размещения
    утверждённого перечня (п. 5.2) срока нет.

    Коды выхода: 0 — сравнение выполнено (есть изменения или нет); 1 — только с --fail-if-overdue, если срок
    прошёл; 2 — сравнение невозможно.
    """
    from .. import api
    from ..diff_text import render_text

    collector_off_for_good()
    cfg = load_config(config_path)
    wb = workbook or cfg.fetch_workbook()
    rules = api.load_rules(cfg)
    report = api.diff_workbook(wb, cfg, rules=rules, against=against, today=today.date() if today else None,
                               report_dir=report_dir, write_reports=not no_report,
                               progress=None if fmt == "json" else progress_printer())
    if fmt == "json":
        echo_json(report.to_json())
    else:
        click.echo(render_text(report, rules))
    end_at_once()
    sys.exit(EXIT_ERRORS if fail_if_overdue and report.overdue else EXIT_OK)
