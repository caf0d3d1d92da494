"""``perechen publish``: the approved register on the agency's site (пп. 5.2, 5.4 of the order)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ..console import echo_json
from ._common import CONTEXT, EXIT_CANNOT_RUN, config_option, guarded, load_config, progress_printer, today_option


@click.command("publish", context_settings=CONTEXT)
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--target", "target", default=None, metavar="NAME",
              help="Цель публикации из perechen.toml ([targets.ИМЯ]); по умолчанию — [publish] target, "
                   "иначе folder (output/site/).")
@click.option("--dry-run", is_flag=True,
              help="Подготовить всё и показать, что изменится на сайте, ничего не изменяя.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@today_option
@config_option
@guarded(json_flag="fmt")
def command(workbook: Path | None, target: str | None, dry_run: bool, fmt: str, today: dt.datetime | None,
            config_path: Path | None) -> None:
    """Опубликовать утверждённый перечень на официальном сайте (пп. 5.2, 5.4 Порядка).

    Размещаются строки со статусом «включено»; опубликованная точка, которая снова «на проверке» или
    «черновик», остаётся на сайте в последней опубликованной редакции. Ошибка в размещаемой строке или в
    книге в целом отклоняет публикацию с перечнем ошибок; ошибки черновиков её не задерживают. На сайт
    попадают страница (HTML), таблица .xlsx и открытые данные
    (CSV по методическим рекомендациям 3.0, datapackage.json). После загрузки каждый файл и страница
    читаются обратно и сверяются; только тогда новая версия записывается в output/published/ и становится
    базовой (LATEST). Повторный запуск без изменений ничего не меняет на сайте.

    Цели: folder (папка, по умолчанию output/site/), wordpress (REST API и пароль приложения), webdav,
    bundle (архив с инструкцией для Госвеба, 1С-Битрикс). Пароли — только в переменных окружения,
    названных в password_env.

    С --today публикация датируется этим днём (день размещения в журнале изменений, «Дата актуализации»,
    meta.csv), как ночная проверка с --today; день раньше того, когда ночная проверка увидела изменения,
    ожидающие размещения, отклоняется (размещение не может предшествовать изменениям, которые оно размещает).

    Коды выхода: 0 — опубликовано или публиковать нечего; 1 — отклонено из-за ошибок в размещаемых строках;
    2 — публикация невозможна или не завершена (базовая версия не изменилась).
    """
    from .. import api
    from ..publish import render_text
    from ..targets.base import PublishFailed

    cfg = load_config(config_path)
    wb = workbook or cfg.fetch_workbook()
    rules = api.load_rules(cfg)
    try:
        result = api.publish_workbook(wb, cfg, target=target, dry_run=dry_run, rules=rules,
                                      today=today.date() if today else None,
                                      progress=None if fmt == "json" else progress_printer())
    except PublishFailed as e:
        if fmt == "json":
            import json

            echo_json(json.dumps({"status": "failed", "error": e.to_dict()}, ensure_ascii=False, indent=2))
        click.echo(f"Ошибка: {e.message}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    if fmt == "json":
        echo_json(result.to_json())
    else:
        click.echo(render_text(result))
    sys.exit(result.exit_code)
