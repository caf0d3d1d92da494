"""``perechen report``: the compliance report for the regional project office (п. 5.4, every change of a year)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ..console import echo_json
from ._common import CONTEXT, config_option, guarded, load_config, today_option


@click.command("report", context_settings=CONTEXT)
@click.option("--year", type=click.IntRange(2000, 2100), default=None, metavar="ГГГГ",
              help="Год отчёта (по умолчанию — текущий).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@today_option
@config_option
@guarded(json_flag="fmt")
def command(year: int | None, fmt: str, today: dt.datetime | None, config_path: Path | None) -> None:
    """Отчёт о соблюдении срока размещения (п. 5.4 Порядка) для регионального проектного офиса.

    Каждое изменение перечня за год: случай п. 5.3, день внесения изменения, приказ, день размещения на
    официальном сайте, сколько рабочих дней прошло, в срок или с опозданием; итоги. Отчёт строится по
    журналу изменений (output/journal.sqlite) и записывается в output/reports/<дата_время>/ как
    compliance.html, compliance.xlsx и compliance.json.

    Коды выхода: 0 — все размещения в срок; 1 — есть размещение с опозданием или просроченное изменение;
    2 — отчёт построить невозможно, в том числе когда за год ничего не наблюдалось (ночная проверка не
    запускалась, размещений не записано): отчитываться нечем, журнал при этом не создаётся.
    """
    from .. import api
    from ..compliance import render_text

    cfg = load_config(config_path)
    report = api.compliance_report(cfg, year=year, today=today.date() if today else None)
    if fmt == "json":
        echo_json(report.to_json())
        if not report.observed:
            click.echo(render_text(report).rstrip("\n"), err=True)
    else:
        click.echo(render_text(report))
        if report.files:
            click.echo(f"Отчёты: {next(iter(report.files.values())).parent}")
    sys.exit(report.exit_code)
