"""``perechen rules``: every rule of rules/checks.toml with its code, severity, clause and title.

``--all`` adds the file errors of rules/file_errors.toml (a workbook or a rules file that cannot be read,
exit code 2): their snake_case codes are what ``--format json`` of every command reports as ``file_error``;
and the warnings of ``perechen diff`` (``warnings[].type``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..console import echo_json
from ._common import CONTEXT, config_option, guarded, load_config

SEVERITY_HEADINGS = (("error", "Ошибки (код выхода 1)"), ("warning", "Предупреждения"), ("info", "Справочно"))


def rules_listing(rules: Any) -> list[dict[str, Any]]:
    """One dict per rule, in the order of rules/checks.toml (the ``--format json`` payload)."""
    from ..poryadok import clause_title

    out = []
    for c in rules.checks:
        out.append({
            "code": c.code,
            "severity": c.severity.value,
            "severity_label": c.severity.label,
            "clause": c.clause,
            "source": c.source,
            "clause_text": clause_title(c.clause, rules.directory),
            "title": c.title,
            "kind": c.kind,
            "message": c.message,
            "params": c.params,
        })
    return out


def render_rules_text(items: list[dict[str, Any]], *, verbose: bool = False) -> str:
    lines: list[str] = []
    width = max((len(i["code"]) for i in items), default=10)
    for sev, heading in SEVERITY_HEADINGS:
        group = [i for i in items if i["severity"] == sev]
        if not group:
            continue
        lines.append(f"{heading}: {len(group)}")
        for i in group:
            clause = f"п. {i['clause']}" if i["clause"] else "Служба"
            lines.append(f"  {i['code']:<{width}}  {clause:<9}  {i['title']}")
            if verbose:
                if i["clause_text"]:
                    lines.append(f"  {'':<{width}}  {'':<9}  п. {i['clause']} Порядка: {i['clause_text']}")
                elif not i["clause"]:
                    lines.append(f"  {'':<{width}}  {'':<9}  Правило ведения перечня в Службе "
                                 "(Порядок этого не требует).")
                lines.append(f"  {'':<{width}}  {'':<9}  Сообщение: {i['message']}")
        lines.append("")
    lines.append("«п. …» — требование Порядка; «Служба» — правило ведения перечня в Службе: Порядок его не требует.")
    lines.append(f"Всего правил: {len(items)}. Правила, их уровни и сообщения задаются в rules/checks.toml.")
    return "\n".join(lines)


def file_errors_listing(rules: Any) -> list[dict[str, str]]:
    """The file errors of rules/file_errors.toml, in file order: code and message template."""
    return [{"code": code, "message": str(text)} for code, text in rules.file_errors.items()]


def diff_warnings_listing() -> list[dict[str, str]]:
    from ..diff import WARNING_TYPES

    return [{"type": t, "title": title} for t, title in WARNING_TYPES.items()]


def render_diff_warnings_text(items: list[dict[str, str]]) -> str:
    width = max((len(i["type"]) for i in items), default=10)
    lines = [f"Предупреждения сравнения (perechen diff): {len(items)}"]
    lines.extend(f"  {i['type']:<{width}}  {i['title']}" for i in items)
    return "\n".join(lines)


def render_file_errors_text(items: list[dict[str, str]]) -> str:
    width = max((len(i["code"]) for i in items), default=10)
    lines = [f"Файл не читается (код выхода 2): {len(items)}"]
    lines.extend(f"  {i['code']:<{width}}  {i['message']}" for i in items)
    lines.append("")
    lines.append("Сообщения задаются в rules/file_errors.toml: {path} — путь к файлу, {detail} — подробность.")
    return "\n".join(lines)


@click.command("rules", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@click.option("--verbose", "-v", is_flag=True, help="Показать также текст пункта Порядка и шаблон сообщения.")
@click.option("--all", "show_all", is_flag=True,
              help="Показать также предупреждения сравнения и коды ошибок чтения файлов "
                   "(rules/file_errors.toml, код выхода 2).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Папка правил (профиль органа) вместо указанной в perechen.toml.")
@click.option("--check", "check_profile", is_flag=True,
              help="Проверить профиль правил: пункты, на которые ссылаются правила, есть в тексте порядка, у "
                   "каждого вида точки есть канал, сообщения составляются; показать отличия от встроенного "
                   "профиля. Код выхода: 0 — профиль исправен, 1 — найдены ошибки, 2 — профиль не читается.")
@config_option
@guarded(json_flag="fmt")
def command(fmt: str, verbose: bool, show_all: bool, rules_dir: Path | None, check_profile: bool,
            config_path: Path | None) -> None:
    """Перечислить правила проверки: код, уровень (ошибка, предупреждение, справочно), пункт Порядка
    и название. Правила задаются в rules/checks.toml."""
    from .. import api

    cfg = load_config(config_path)
    if rules_dir is not None:
        cfg.rules = str(rules_dir.resolve())
    if check_profile:
        _check_profile(cfg.rules_dir, fmt)
        return
    rules = api.load_rules(cfg)
    items = rules_listing(rules)
    file_errors = file_errors_listing(rules) if show_all else None
    diff_warnings = diff_warnings_listing() if show_all else None
    if fmt == "json":
        doc: dict[str, Any] = {"rules_dir": str(rules.directory), "count": len(items), "rules": items}
        if file_errors is not None and diff_warnings is not None:
            doc["file_errors"] = file_errors
            doc["diff_warnings"] = diff_warnings
        echo_json(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    else:
        text = render_rules_text(items, verbose=verbose)
        if file_errors is not None and diff_warnings is not None:
            text += "\n\n" + render_diff_warnings_text(diff_warnings)
            text += "\n\n" + render_file_errors_text(file_errors)
        click.echo(text)


def _check_profile(folder: Path | None, fmt: str) -> None:
    import sys

    from .. import api
    from ..profiles import render_text
    from ..rules import default_rules_dir

    result = api.check_profile(folder or default_rules_dir())
    if fmt == "json":
        echo_json(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(render_text(result))
    sys.exit(result.exit_code)
