"""``perechen nightly``: the scheduled job (lock, check, diff, publish, dashboard, mail, log)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ._common import CONTEXT, EXIT_CANNOT_RUN, config_option, guarded, load_config, today_option


@click.command("nightly", context_settings=CONTEXT)
@click.option("--demo", is_flag=True,
              help="Демонстрация всего пути: встроенная книга-пример, проект приказа и демонстрационный приказ "
                   "(помечен как демонстрационный), публикация в папку output/site/, без писем.")
@click.option("--no-mail", is_flag=True, help="Не отправлять письма в этот раз.")
@click.option("--quiet", "-q", is_flag=True, help="Печатать только итог и путь к сводке (для cron).")
@today_option
@config_option
@guarded()
def command(demo: bool, no_mail: bool, quiet: bool, today: dt.datetime | None, config_path: Path | None) -> None:
    """Ночная проверка: проверить книгу, сравнить с опубликованной версией, при необходимости опубликовать,
    обновить сводку output/reports/index.html и разослать письма.

    Публикация выполняется только при publish.auto = true в perechen.toml, если в размещаемых строках и в
    книге в целом нет ошибок (ошибки черновиков её не задерживают) и есть изменения для размещения на
    официальном сайте. Журнал — output/logs/nightly.log. Одновременно выполняется только один запуск
    (блокировка output/nightly.lock).

    Коды выхода: 0 — всё в порядке; 1 — в книге есть ошибки или прошёл срок размещения (п. 5.4);
    2 — запуск невозможен (книга не читается, уже идёт другой запуск, не удалась публикация и т. п.).
    """
    from .. import api
    from ..locks import LockBusy

    cfg = load_config(config_path)
    try:
        result = api.nightly(cfg, today=today.date() if today else None, demo=demo, send_mail=not no_mail)
    except LockBusy as e:
        click.echo(f"Ошибка: {e.message}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    for ln in result.printed(quiet=quiet):  # --quiet: the check, a failure and where the dashboard is
        click.echo(ln)
    if demo and not quiet and result.dashboard is not None:  # quiet: only the summary and the dashboard
        click.echo("")
        click.echo(f"Откройте сводку в браузере: {result.dashboard.resolve().as_uri()}")
        pub = result.summary.publish
        if pub is not None and pub.ok and pub.location:
            click.echo(f"Опубликованный перечень (цель folder): {pub.location}")
    sys.exit(result.exit_code)
