"""``perechen check``: the workbook against the rules of the order (rules/checks.toml)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ..console import echo_json
from ._common import (
    CONTEXT,
    collector_off_for_good,
    config_option,
    end_at_once,
    guarded,
    load_config,
    progress_printer,
    today_option,
)


@click.command("check", context_settings=CONTEXT)
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Папка для отчётов (по умолчанию output/reports/<дата_время>).")
@click.option("--no-report", is_flag=True, help="Не записывать отчёты, только вывести замечания.")
@click.option("--quiet", "-q", is_flag=True, help="Только итоговая строка (для cron).")
@today_option
@config_option
@guarded(json_flag="fmt")
def command(workbook: Path | None, fmt: str, report_dir: Path | None, no_report: bool, quiet: bool,
            today: dt.datetime | None, config_path: Path | None) -> None:
    """Проверить книгу перечня по правилам Порядка.

    КНИГА — книга .xlsx (по умолчанию — указанная в perechen.toml, иначе workbook/perechen.xlsx).
    Отчёты (книга с пометками, HTML, JSON) пишутся в output/reports/; исходная книга не изменяется.
    """
    from .. import api
    from ..report import render_text, use_color

    collector_off_for_good()
    cfg = load_config(config_path)
    wb = workbook or cfg.fetch_workbook()
    report = api.check_workbook(wb, cfg, report_dir=report_dir, write_reports=not no_report,
                                today=today.date() if today else None,
                                progress=None if quiet or fmt == "json" else progress_printer())
    if fmt == "json":
        echo_json(report.to_json())
    else:
        click.echo(render_text(report, color=use_color(sys.stdout), quiet=quiet))
    end_at_once()
    sys.exit(report.exit_code)
