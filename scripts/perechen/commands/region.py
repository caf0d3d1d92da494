"""``perechen region``: the regional project office's run over every agency of region.toml (perechen.region).

Exit codes: 0 — every agency clean; 1 — an agency with rule errors, an overdue change (п. 5.4) or a workbook,
profile or settings file that could not be read (its entry carries ``file_error``); 2 — the run cannot start
(region.toml missing or broken: the message names the file and the key).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from ..console import echo_json
from ._common import CONTEXT, collector_off_for_good, end_at_once, guarded, today_option


def render_text(result: object) -> str:
    from ..region import RegionResult, state_lines

    assert isinstance(result, RegionResult)
    lines = [f"Регион: {result.name}. Органов: {len(result.agencies)}; точек: {result.rows}; "
             f"ошибок: {result.errors}."]
    for a in result.agencies:
        lines.append("")
        lines.append(f"{a.name} [{a.id}]")
        lines += [f"  {line}" for line in state_lines(a)]
    lines.append("")
    if "html" in result.files:
        lines.append(f"Сводная страница: {result.files['html']}")
    if "opendata_datapackage" in result.files:
        lines.append(f"Открытые данные: {result.files['opendata_datapackage'].parent}")
    for m in result.mail:
        to = ", ".join(m["to"])
        lines.append(f"Письмо {to}: " + ("отправлено" if m["ok"] else f"не отправлено — {m['error']}"))
    return "\n".join(lines)


@click.command("region", context_settings=CONTEXT)
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Файл настроек региона (по умолчанию $PERECHEN_REGION, иначе ./region.toml).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@click.option("--no-mail", is_flag=True, help="Не отправлять письма.")
@today_option
@guarded(json_flag="fmt")
def command(config_path: Path | None, fmt: str, no_mail: bool, today: dt.datetime | None) -> None:
    """Сводка проектного офиса по всем органам региона (region.toml): проверка перечня каждого органа,
    изменения, ждущие размещения, и срок по п. 5.4, последний документ об утверждении; сводная страница,
    открытые данные региона и письма уполномоченным лицам органов.

    Коды выхода: 0 — замечаний нет; 1 — у органа ошибки, просрочка размещения или нечитаемая книга;
    2 — запуск невозможен (region.toml не найден или с ошибкой).
    """
    collector_off_for_good()  # the imports before the workers start (the facade's first) create no garbage worth a pass
    from .. import api

    cfg = api.load_region(config_path)
    result = api.region(cfg, today=today.date() if today else None, send_mail=not no_mail)
    if fmt == "json":
        echo_json(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(result))
    end_at_once()  # everything is written, mailed and closed; the teardown of the modules would add ~50 ms
    sys.exit(result.exit_code)
