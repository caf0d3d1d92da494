"""``perechen history``: the published versions of the register (output/published/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..console import echo_json
from ..text import ru_date_text, ru_datetime_text
from ._common import CONTEXT, config_option, guarded, load_config


def _row(v: Any, latest_name: str | None) -> dict[str, Any]:
    m = v.manifest
    target = m.get("target")
    urls = m.get("urls") or m.get("url")
    state = "latest" if v.name == latest_name else ("incomplete" if latest_name and v.name > latest_name else "")
    return {
        "version": v.name,
        "published_at": m.get("published_at"),
        "user": m.get("user"),
        "target": target if isinstance(target, str) else (json.dumps(target, ensure_ascii=False) if target else None),
        "urls": urls if isinstance(urls, list) else ([urls] if urls else []),
        "rows": m.get("row_count", v.register.get("row_count")),
        "fingerprint": v.fingerprint,
        "latest": v.name == latest_name,
        "state": state,
    }


def _acts(items: list[dict[str, Any]]) -> None:
    """Acts beside placements (the journal), oldest first."""
    if not any(i["type"] == "act" for i in items):
        click.echo("Приказы об утверждении перечня не записаны (perechen approve --record).")
        return
    click.echo("Приказы и размещения (журнал изменений):")
    for i in items:
        shown = ru_date_text(str(i["at"])[:10])
        mark = "приказ    " if i["type"] == "act" else "размещение"
        extra = f" (проект {i['draft']})" if i["type"] == "act" else ""
        click.echo(f"  {shown}  {mark}  {i['text']}{extra}")
    click.echo("")


@click.command("history", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@config_option
@guarded(json_flag="fmt")
def command(fmt: str, config_path: Path | None) -> None:
    """Приказы об утверждении перечня и размещения, затем опубликованные версии: когда, кем, куда, сколько
    точек, отпечаток данных; * — текущая (LATEST).

    Версии хранятся в output/published/<дата_время>/ и не удаляются: это история перечня.
    """
    from .. import api

    cfg = load_config(config_path)
    listing = api.history(cfg)
    acts = api.approval_history(cfg)
    latest_name, damaged = listing.latest, listing.damaged
    rows = [_row(v, latest_name) for v in listing.versions]
    if fmt == "json":
        echo_json(json.dumps({"latest": latest_name, "versions": rows, "damaged": damaged, "approvals": acts},
                             ensure_ascii=False, indent=2))
        return
    root = listing.root
    _acts(acts)
    if not rows and not damaged:
        click.echo(f"Опубликованных версий нет ({root}).")
        return
    click.echo(f"Опубликованные версии ({root}):")
    head = ("", "Версия", "Время", "Пользователь", "Цель", "Строк", "Отпечаток")
    table = [head]
    for r in rows:
        when = ru_datetime_text(r["published_at"], seconds=True)
        table.append(("*" if r["latest"] else "", r["version"], when, r["user"] or "—", r["target"] or "—",
                      str(r["rows"] if r["rows"] is not None else "—"), (r["fingerprint"] or "")[:16]))
    widths = [max(len(str(line[i])) for line in table) for i in range(len(head))]
    for line in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    if latest_name:
        click.echo(f"* — текущая опубликованная версия (LATEST): {latest_name}.")
    else:
        click.echo("LATEST не указывает ни на одну версию: следующее сравнение будет как с пустым перечнем.")
    for d in damaged:
        click.echo(f"Повреждена: {d['version']} — {d['message']}")
    if any(r["state"] == "incomplete" for r in rows):
        click.echo("Версии новее LATEST записаны, но не стали текущими (публикация прервана до переключения "
                   "LATEST); повторная публикация завершит её.")
