"""``perechen init``: a new empty register workbook laid out by the rules' schema."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import CONTEXT, EXIT_CANNOT_RUN, config_option, guarded, load_config


@click.command("init", context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Перезаписать существующий файл.")
@click.option("--example", is_flag=True,
              help="Записать не пустую книгу, а книгу-пример из поставки perechen (образец заполнения).")
@config_option
@guarded()
def command(path: Path, force: bool, example: bool, config_path: Path | None) -> None:
    """Создать новую пустую книгу перечня по схеме из rules/ (с выпадающими списками и инструкцией).

    С --example — копию книги-примера, которая поставляется с perechen (процессы, должности и помещения в ней —
    пример, который нужно заменить своими сведениями).
    """
    from .. import api

    if path.exists() and not force:
        click.echo(f"Ошибка: файл {path} уже существует. Чтобы перезаписать его, добавьте --force.", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    if example:
        api.copy_example(path)
        click.echo(f"Записана книга-пример {path}. Сведения в ней — пример: замените их своими.")
        return
    api.init_workbook(path, load_config(config_path))
    click.echo(f"Создана книга {path}.")
