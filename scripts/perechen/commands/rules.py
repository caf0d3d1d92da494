"""``perechen rules``: every rule of rules/checks.toml with its code, severity, clause and title."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ._common import CONTEXT, config_option, guarded, load_config

SEVERITY_HEADINGS = (("error", "Ошибки (код выхода 1)"), ("warning", "Предупреждения"), ("info", "Сведения"))


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
            clause = f"п. {i['clause']}" if i["clause"] else "—"
            lines.append(f"  {i['code']:<{width}}  {clause:<9}  {i['title']}")
            if verbose:
                if i["clause_text"]:
                    lines.append(f"  {'':<{width}}  {'':<9}  п. {i['clause']} Порядка: {i['clause_text']}")
                lines.append(f"  {'':<{width}}  {'':<9}  Сообщение: {i['message']}")
        lines.append("")
    lines.append(f"Всего правил: {len(items)}. Правила, их уровни и сообщения задаются в rules/checks.toml.")
    return "\n".join(lines)


@click.command("rules", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@click.option("--verbose", "-v", is_flag=True, help="Показать также текст пункта Порядка и шаблон сообщения.")
@config_option
@guarded(json_flag="fmt")
def command(fmt: str, verbose: bool, config_path: Path | None) -> None:
    """Перечислить правила проверки: код, уровень (ошибка, предупреждение, сведения), пункт Порядка
    и название. Правила задаются в rules/checks.toml."""
    from .. import api

    rules = api.load_rules(load_config(config_path))
    items = rules_listing(rules)
    if fmt == "json":
        doc = {"rules_dir": str(rules.directory), "count": len(items), "rules": items}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(render_rules_text(items, verbose=verbose))
