"""click in Russian: its usage errors, defaults and placeholders are what a clerk reads (issue 11 item 20).

click looks its own texts up through ``gettext`` at the moment it shows them (``_("Error: {message}")``);
:func:`install` gives its modules a lookup in this catalogue instead, so «Error: No such option», «Try … for
help», «[default: text]» and the «[OPTIONS]» placeholders come out in Russian. A text not in the catalogue is
shown as click wrote it. Imported by commands/_common.py before any command declares its options (click
names the Path types when an option is declared).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

RU: dict[str, str] = {
    "Usage:": "Использование:",
    "Options": "Параметры",
    "Commands": "Команды",
    "Positional arguments": "Аргументы",
    "Error: {message}": "Ошибка: {message}",
    "Try '{command} {option}' for help.": "Справка: {command} {option}",
    "Missing argument": "Не указан аргумент",
    "Missing option": "Не указан параметр",
    "Missing parameter": "Не указан параметр",
    "Missing parameter: {param_name}": "Не указан параметр: {param_name}",
    "Missing {param_type}": "Не указан {param_type}",
    "Missing command.": "Не указана команда.",
    "No such option {name!r}.": "Нет такого параметра: «{name}».",
    "No such command {name!r}.": "Нет такой команды: «{name}».",
    "Invalid value: {message}": "Неверное значение: {message}",
    "Invalid value for {param_hint}: {message}": "Неверное значение {param_hint}: {message}",
    "unknown error": "неизвестная ошибка",
    "Could not open file {filename!r}: {message}": "Не удалось открыть файл «{filename}»: {message}",
    "Aborted!": "Прервано.",
    "deprecated": "устарело",
    "default: {default}": "по умолчанию: {default}",
    "env var: {var}": "переменная окружения: {var}",
    "(dynamic)": "(вычисляется)",
    "Value must be an iterable.": "Нужен список значений.",
    "Option {name!r} does not take a value.": "Параметр «{name}» не принимает значения.",
    "Argument {name!r} takes {nargs} values.": "Аргумент «{name}» принимает значений: {nargs}.",
    "Invalid start character for option ({option})": "Неверный первый символ параметра ({option})",
    "file": "файл",
    "directory": "папка",
    "path": "путь",
    "Choose from:\n\t{choices}": "Выберите одно из:\n\t{choices}",
    "{value} is not in the range {range}.": "{value} — вне допустимого диапазона {range}.",
    "{value!r} is not a valid {number_type}.": "«{value}» — не число.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "«{value}» — не «да» и не «нет». Допустимые значения: {states}",
    "{value!r} is not a valid UUID.": "«{value}» — не UUID.",
    "{name} {filename!r} does not exist.": "Не найден(а) {name} «{filename}».",
    "{name} {filename!r} is a file.": "«{filename}» — файл, а нужна папка.",
    "{name} {filename!r} is a directory.": "«{filename}» — папка, а нужен файл.",
    "{name} {filename!r} is not readable.": "Нет доступа на чтение: {name} «{filename}».",
    "{name} {filename!r} is not writable.": "Нет доступа на запись: {name} «{filename}».",
    "{name} {filename!r} is not executable.": "{name} «{filename}» нельзя запустить.",
    "Show this message and exit.": "Показать эту справку и выйти.",
    "Show the version and exit.": "Показать версию и выйти.",
    "%(prog)s, version %(version)s": "%(prog)s, версия %(version)s",
    "Do you want to continue?": "Продолжить?",
    "Confirm the action without prompting.": "Подтвердить действие без вопроса.",
    "Press any key to continue...": "Нажмите любую клавишу…",
    "Repeat for confirmation": "Повторите для подтверждения",
    "Error: The two entered values do not match.": "Ошибка: введённые значения не совпадают.",
    "Error: invalid input": "Ошибка: неверный ввод",
}

# (singular, plural) -> (one, few/many): the count is always shown in the text itself.
RU_PLURAL: dict[tuple[str, str], tuple[str, str]] = {
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Может быть, вы имели в виду {possibility}?", "(Может быть, вы имели в виду одно из: {possibilities}?)"),
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Лишний аргумент: {args}", "Лишние аргументы: {args}"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("Параметру «{name}» нужно значение.", "Параметру «{name}» нужно значений: {nargs}."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("«{value}» — не {choice}.", "«{value}» — не одно из допустимых значений: {choices}."),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("«{value}» — не дата в формате {format}.", "«{value}» — не дата: введите ГГГГ-ММ-ДД или ДД.ММ.ГГГГ."),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Нужно значений: {nargs}, а дано 1.", "Нужно значений: {nargs}, а дано {len}."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("Нужно значений: {len_type}, а дано {len_value}.", "Нужно значений: {len_type}, а дано {len_value}."),
}

# Placeholders click builds from names and types (the «[OPTIONS]» of a usage line, «WORKBOOK», «FILE»).
METAVARS: dict[str, str] = {
    "OPTIONS": "ПАРАМЕТРЫ", "COMMAND": "КОМАНДА", "ARGS": "АРГУМЕНТЫ", "WORKBOOK": "КНИГА", "PATH": "ПУТЬ",
    "FILE": "ФАЙЛ", "DIRECTORY": "ПАПКА", "NAME": "ИМЯ", "TEXT": "ТЕКСТ", "INTEGER": "ЧИСЛО", "FLOAT": "ЧИСЛО",
    "VERSION": "ВЕРСИЯ", "CODE": "КОД", "DATE": "ДАТА", "NUMBER": "НОМЕР", "TARGET": "ЦЕЛЬ", "URL": "АДРЕС",
    "BOOLEAN": "ДА/НЕТ", "RUN": "ЗАПУСК", "ACT": "АКТ", "VALUE": "ЗНАЧЕНИЕ",
}
_WORD = re.compile(r"\b[A-Z][A-Z_]+\b")
_DATE_CODES = {"%Y": "ГГГГ", "%m": "ММ", "%d": "ДД", "%H": "ЧЧ", "%M": "мм", "%S": "сс"}


def ru(message: str) -> str:
    return RU.get(message, message)


def ru_n(singular: str, plural: str, n: int) -> str:
    pair = RU_PLURAL.get((singular, plural))
    if pair is None:
        return singular if n == 1 else plural
    return pair[0] if n == 1 else pair[1]


def ru_metavar(text: str) -> str:
    """«[OPTIONS]», «WORKBOOK», the --today formats (click shows strftime codes) in Russian; other text unchanged."""
    for code, shown in _DATE_CODES.items():
        text = text.replace(code, shown)
    return _WORD.sub(lambda m: METAVARS.get(m.group(0), m.group(0)), text)


def short_help(help_text: str, limit: int) -> str:
    """A command's line in «perechen --help»: its first sentence, cut to ``limit`` at a word.

    click ends the sentence at any period not followed by a lowercase word, so «(п. 5.1 Порядка)» became «(п.»;
    here only a period before a capital letter (or at the end) ends it, and a sentence too long for the line
    loses its bracketed parts before it is cut.
    """
    words = help_text.partition("\n\n")[0].split()
    if words and words[0] == "\b":
        words = words[1:]
    for i, word in enumerate(words):
        if word.endswith(".") and (i == len(words) - 1 or words[i + 1][0].isupper()):
            words = words[: i + 1]
            break
    text = " ".join(words)
    if len(text) <= limit:
        return text
    text = re.sub(r"\s*\([^()]*\)", "", text)  # a clause reference in brackets goes first, not half of it
    if len(text) <= limit:
        return text
    return textwrap.shorten(text, max(limit, 2), placeholder="…", break_on_hyphens=False)


_installed = False


def install() -> None:
    """Point click's text lookups at the catalogue and translate its placeholders (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    for mod in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.termui,
                click.types):
        if hasattr(mod, "_"):
            mod._ = ru  # type: ignore[attr-defined]
        if hasattr(mod, "ngettext"):
            mod.ngettext = ru_n  # type: ignore[attr-defined]
    pieces = click.core.Command.collect_usage_pieces

    def collect_usage_pieces(self: click.core.Command, ctx: click.Context) -> list[str]:
        return [ru_metavar(p) for p in pieces(self, ctx)]

    click.core.Command.collect_usage_pieces = collect_usage_pieces  # type: ignore[method-assign]
    group_pieces = click.core.Group.collect_usage_pieces

    def group_usage_pieces(self: click.core.Group, ctx: click.Context) -> list[str]:
        return [ru_metavar(p) for p in group_pieces(self, ctx)]

    click.core.Group.collect_usage_pieces = group_usage_pieces  # type: ignore[method-assign]
    original = click.core.Parameter.make_metavar

    def make_metavar(self: click.core.Parameter, *args: Any, **kwargs: Any) -> str:
        return ru_metavar(original(self, *args, **kwargs))

    click.core.Parameter.make_metavar = make_metavar  # type: ignore[method-assign]
    argument_metavar = click.core.Argument.make_metavar  # overrides Parameter's: «Не указан аргумент 'PATH'»

    def make_argument_metavar(self: click.core.Argument, *args: Any, **kwargs: Any) -> str:
        return ru_metavar(argument_metavar(self, *args, **kwargs))

    click.core.Argument.make_metavar = make_argument_metavar  # type: ignore[method-assign]
    short = click.core.Command.get_short_help_str

    def get_short_help_str(self: click.core.Command, limit: int = 45) -> str:
        if self.short_help or not self.help or self.deprecated:
            return short(self, limit)
        return short_help(self.help, limit)

    click.core.Command.get_short_help_str = get_short_help_str  # type: ignore[method-assign]
