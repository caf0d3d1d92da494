"""What every ``perechen`` command shares: Russian help, the common options, exit codes, error guarding.

The click layer is cli.py (the group) and the modules of this package (one command each). They import click,
this module and the standard library at import time, so ``perechen --help`` stays fast; the library
(:mod:`perechen.api`) is imported inside each command function.
"""

from __future__ import annotations

import functools
import gc
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..console import echo_json
from ..fsutil import stamp
from ..models import PerechenError
from ..text import CLI_DATE_FORMATS
from ._click_ru import install as _install_click_ru

_install_click_ru()  # click's own texts in Russian, before any command declares its options

if TYPE_CHECKING:
    from ..config import Config

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


def load_config(path: Path | None) -> Config:
    """perechen.toml (``--config``, else $PERECHEN_CONFIG, else ./perechen.toml, else the defaults)."""
    from ..config import load_config as load

    return load(path)


def config_option(fn: F) -> F:
    return click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
                        default=None, help="Файл настроек (по умолчанию $PERECHEN_CONFIG, иначе ./perechen.toml).")(fn)


def today_option(fn: F) -> F:
    return click.option("--today", type=click.DateTime(formats=list(CLI_DATE_FORMATS)), default=None,
                        help="Считать сегодняшней эту дату (ГГГГ-ММ-ДД), для повторных запусков и проверок.")(fn)


# Set by a command whose work is done and written once it exits (check, diff): the process may then end without
# freeing its objects one by one (see cli.run).
_ENDS_AT_ONCE: list[bool] = []


# Set by cli.run (the installed command: one command, then the process ends). In-process callers (the tests'
# CliRunner) leave it unset, and nothing here changes their interpreter.
_ONE_SHOT: list[bool] = []


def mark_one_shot() -> None:
    _ONE_SHOT.append(True)


def collector_off_for_good() -> None:
    """In the installed command's own process only: no automatic garbage collection from here to the end. A check or
    a diff builds a large heap of rows without reference cycles; each collection walks all of it and frees nothing,
    and the process ends right after (cli.run) without freeing anything either."""
    if _ONE_SHOT:
        gc.disable()


def end_at_once() -> None:
    """Everything is written and closed: :func:`perechen.cli.run` may end the process without the interpreter's
    teardown (freeing a 100,000-row register object by object takes ~0.2–0.3 s)."""
    _ENDS_AT_ONCE.append(True)


def ends_at_once() -> bool:
    return bool(_ENDS_AT_ONCE)


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
                log = _crash_log(e, kwargs.get("config_path"))
                _fail("internal", f"Внутренняя ошибка perechen ({type(e).__name__}). Подробности записаны в {log}. "
                                  "Сообщите о ней сопровождающим.", as_json)
        return wrapper  # type: ignore[return-value]
    return deco


def _fail(code: str, message: str, as_json: bool) -> None:
    if as_json:
        echo_json(json.dumps({"file_error": {"code": code, "message": message}}, ensure_ascii=False))
    click.echo(f"Ошибка: {message}", err=True)
    sys.exit(EXIT_CANNOT_RUN)


def _crash_log(e: BaseException, config_path: Path | None = None) -> Path:
    """output/logs of the settings file's folder; the system temp folder when there is no settings file.

    Never the current folder: a scheduled task starts in C:\\Windows\\System32.
    """
    import tempfile
    d = Path(tempfile.gettempdir())
    try:
        cfg = load_config(config_path)
        if cfg.source is not None:
            d = cfg.output_dir / "logs"
            d.mkdir(parents=True, exist_ok=True)
    except Exception:  # a broken settings file is no reason to lose the traceback
        d = Path(tempfile.gettempdir())
    p = d / f"crash-{stamp()}.log"
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
