"""The ``perechen`` command: a thin click layer over :mod:`perechen.api`.

Each command parses options, calls one library function, renders its result and picks the exit
code: 0 clean (warnings allowed), 1 rule errors found, 2 cannot run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .models import PerechenError

EXIT_OK, EXIT_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_HEADINGS = {"Options": "Параметры", "Commands": "Команды", "Arguments": "Аргументы"}


class RuHelpFormatter(click.HelpFormatter):
    """click's help, with its own headings in Russian (clerks read this)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Использование: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS.get(heading, heading))


click.Context.formatter_class = RuHelpFormatter


class RuCommand(click.Command):
    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Показать эту справку и выйти."
        return opt


class RuGroup(click.Group):
    command_class = RuCommand

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        opt = super().get_help_option(ctx)
        if opt is not None:
            opt.help = "Показать эту справку и выйти."
        return opt


def _config(path: Path | None) -> Any:
    from .config import load_config
    return load_config(path)


def config_option(fn: F) -> F:
    return click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
                        default=None, help="Файл настроек (по умолчанию ./perechen.toml).")(fn)


def today_option(fn: F) -> F:
    return click.option("--today", type=click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"]), default=None,
                        help="Считать сегодняшней эту дату (ГГГГ-ММ-ДД), для повторных запусков и проверок.")(fn)


def guarded(json_flag: str | None = None) -> Callable[[F], F]:
    """Turn the tool's own errors into a Russian message and exit code 2 — never a traceback."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            as_json = bool(json_flag and kwargs.get(json_flag) == "json")
            try:
                return fn(*args, **kwargs)
            except PerechenError as e:
                _fail(e.code, e.message, as_json)
            except KeyboardInterrupt:
                click.echo("Прервано.", err=True)
                sys.exit(130)
            except click.exceptions.Exit:
                raise
            except (click.ClickException, click.Abort, SystemExit):
                raise
            except MemoryError:
                _fail("memory", "Не хватило памяти для обработки книги.", as_json)
            except Exception as e:
                log = _crash_log(e)
                _fail("internal", f"Внутренняя ошибка perechen ({type(e).__name__}). Подробности записаны в {log}. "
                                  "Сообщите о ней сопровождающим.", as_json)
        return wrapper  # type: ignore[return-value]
    return deco


def _fail(code: str, message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file_error": {"code": code, "message": message}}, ensure_ascii=False))
    click.echo(f"Ошибка: {message}", err=True)
    sys.exit(EXIT_CANNOT_RUN)


def _crash_log(e: BaseException) -> Path:
    import tempfile
    d = Path("output/logs")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        d = Path(tempfile.gettempdir())
    p = d / f"crash-{dt.datetime.now():%Y-%m-%d_%H%M%S}.log"
    try:
        p.write_text("".join(traceback.format_exception(e)), encoding="utf-8")
    except OSError:
        pass
    return p


def progress_printer() -> Callable[[str, int, int], None] | None:
    """Progress on a terminal (stderr) only."""
    if not sys.stderr.isatty():
        return None
    last: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 100
        if last.get(stage) == pct:
            return
        last[stage] = pct
        end = "\n" if pct >= 100 else ""
        click.echo(f"\r{stage}: {pct:3d}%", err=True, nl=False)
        if end:
            click.echo("", err=True)

    return show


@click.group(cls=RuGroup, context_settings=CONTEXT)
@click.version_option(package_name="perechen", prog_name="perechen", message="%(prog)s %(version)s",
                      help="Показать версию и выйти.")
def main() -> None:
    """Перечень точек взаимодействия с клиентом (Порядок Службы гостехнадзора Калининградской
    области, приказ от 26.02.2024 № 25-о): проверка книги Excel, сравнение с опубликованной
    версией, публикация на сайте.

    Коды выхода: 0 — ошибок нет (предупреждения допустимы), 1 — найдены ошибки, 2 — запуск невозможен.
    """


@main.command(context_settings=CONTEXT)
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
def check(workbook: Path | None, fmt: str, report_dir: Path | None, no_report: bool, quiet: bool,
          today: dt.datetime | None, config_path: Path | None) -> None:
    """Проверить книгу перечня по правилам Порядка.

    WORKBOOK — книга .xlsx (по умолчанию — указанная в perechen.toml, иначе workbook/perechen.xlsx).
    Отчёты (книга с пометками, HTML, JSON) пишутся в output/reports/; исходная книга не изменяется.
    """
    from .api import check_workbook
    from .report import render_text, use_color

    cfg = _config(config_path)
    wb = workbook or cfg.workbook_path
    report = check_workbook(wb, cfg, report_dir=report_dir, write_reports=not no_report,
                            today=today.date() if today else None,
                            progress=None if quiet or fmt == "json" else progress_printer())
    if fmt == "json":
        click.echo(report.to_json())
    else:
        click.echo(render_text(report, color=use_color(sys.stdout), quiet=quiet))
    sys.exit(report.exit_code)


@main.command(context_settings=CONTEXT)
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="Перезаписать существующий файл.")
@config_option
@guarded()
def init(path: Path, force: bool, config_path: Path | None) -> None:
    """Создать новую пустую книгу перечня по схеме из rules/ (с выпадающими списками и инструкцией)."""
    from .api import load_rules
    from .template import write_template

    if path.exists() and not force:
        click.echo(f"Ошибка: файл {path} уже существует. Чтобы перезаписать его, добавьте --force.", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    rules = load_rules(_config(config_path))
    write_template(path, rules)
    click.echo(f"Создана книга {path}.")


def _register_commands() -> None:
    import importlib

    from .commands import COMMAND_MODULES

    for name in COMMAND_MODULES:
        modname = f"perechen.commands.{name}"
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:
                continue  # that stage is not built yet
            raise
        cmd = mod.command
        if type(cmd) is click.Command:
            cmd.__class__ = RuCommand  # Russian help option text; no new state
        main.add_command(cmd)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
