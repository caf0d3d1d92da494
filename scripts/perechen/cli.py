"""The ``perechen`` command: the click group over :mod:`perechen.api`.

Each command (one module in :mod:`perechen.commands`) parses options, calls one function of the facade,
renders its result and picks the exit code: 0 clean (warnings allowed), 1 rule errors found, 2 cannot run.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from .commands import approve, check, diff, history, init, nightly, profile, publish, region, report, rules
from .commands._common import (
    CONTEXT,
    EXIT_CANNOT_RUN,
    EXIT_ERRORS,
    EXIT_OK,
    RuCommand,
    RuGroup,
    ends_at_once,
    mark_one_shot,
)
from .console import setup_streams

__all__ = ["EXIT_CANNOT_RUN", "EXIT_ERRORS", "EXIT_OK", "main", "run"]


@click.group(cls=RuGroup, context_settings=CONTEXT)
@click.version_option(package_name="perechen", prog_name="perechen", message="%(prog)s %(version)s",
                      help="Показать версию и выйти.")
def main() -> None:
    """Перечень точек взаимодействия с клиентом (Порядок Службы гостехнадзора Калининградской
    области, приказ от 26.02.2024 № 25-о): проверка книги Excel, сравнение с опубликованной
    версией, публикация на сайте.

    Коды выхода: 0 — ошибок нет (предупреждения допустимы), 1 — найдены ошибки, 2 — запуск невозможен.
    """
    setup_streams()  # a cp1251 console or file never gets a UnicodeEncodeError (perechen.console)


for _module in (check, init, rules, diff, history, approve, publish, report, nightly, profile, region):
    _cmd = _module.command
    if type(_cmd) is click.Command:
        _cmd.__class__ = RuCommand  # Russian help option text; no new state
    main.add_command(_cmd)


def run() -> None:
    """The installed ``perechen`` command (and ``python -m perechen``): :func:`main`; when a command has said that its
    work is written and closed (``check``, ``diff``), the process then ends at once with its exit code, without the
    interpreter freeing every object of the register one by one (mypy ends the same way). Output is flushed and
    logging shut down first.

    pydantic looks for third-party plugins (the ``pydantic`` entry points of every installed distribution) when the
    first model is built: ~5 ms of every run's start, for plugins the command never uses. The documented switch
    ``PYDANTIC_DISABLE_PLUGINS`` turns that search off for this process (and its workers); a value the user set
    is kept."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    mark_one_shot()
    try:
        main(prog_name="perechen")
    except SystemExit as e:
        code = e.code
        if ends_at_once() and (code is None or isinstance(code, int)):
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError, AttributeError):
                    pass
            logging.shutdown()
            os._exit(code or 0)
        raise


if __name__ == "__main__":  # pragma: no cover
    run()
