"""``perechen approve``: a draft act approving the Перечень (п. 5.1); ``--record`` records the signed act."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..console import echo_json
from ._common import CONTEXT, EXIT_CANNOT_RUN, EXIT_ERRORS, EXIT_OK, config_option, guarded, load_config, today_option

CASE_LABELS = {
    "added": "новые точки (п. 5.3.1)",
    "kind_changed": "изменён вид точки (п. 5.3.2)",
    "needs_changed": "изменены потребности (п. 5.3.3)",
    "excluded": "исключены (п. 5.3.4)",
    "edited": "уточнены сведения",
}


def _now(today: dt.datetime | None) -> dt.datetime | None:
    """``--today``: that day at the current time of day (simulated runs keep their order)."""
    if today is None:
        return None
    return dt.datetime.combine(today.date(), dt.datetime.now().time()).replace(microsecond=0)


@click.command("approve", context_settings=CONTEXT)
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
@click.option("--record", "record", default=None, metavar="ПРОЕКТ",
              help="Записать подписанный приказ к проекту с этим номером (папка output/approvals/ПРОЕКТ).")
@click.option("--number", default=None, metavar="НОМЕР",
              help="С --record: регистрационный номер приказа, например 31-о.")
@click.option("--date", "date_text", default=None, metavar="ДАТА",
              help="С --record: дата подписания приказа, ДД.ММ.ГГГГ или ГГГГ-ММ-ДД.")
@click.option("--title", default=None, metavar="ТЕКСТ",
              help="С --record: заголовок приказа, если он отличается от заголовка проекта.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Формат вывода.")
@today_option
@config_option
@guarded(json_flag="fmt")
def command(workbook: Path | None, record: str | None, number: str | None, date_text: str | None,
            title: str | None, fmt: str, today: dt.datetime | None, config_path: Path | None) -> None:
    """Подготовить проект приказа об утверждении перечня (п. 5.1 Порядка) или записать подписанный приказ.

    Без --record: строки, которые были бы размещены на официальном сайте (статус «включено»), замораживаются
    как проект в output/approvals/<проект>/: проект приказа (proekt-prikaza.docx, по ГОСТ Р 7.0.97-2016,
    с перечнем или изменениями в приложении), perechen.xlsx и izmeneniya.xlsx для согласования. Первый
    приказ — «Об утверждении перечня …», следующие — «О внесении изменений в перечень …».

    С --record ПРОЕКТ --number N --date ДД.ММ.ГГГГ: записать подписанный приказ ровно к этому проекту.
    Приказ не записывается к неизвестному проекту, к проекту, заменённому более поздним, второй раз, с датой
    в будущем или раньше проекта.

    Коды выхода: 0 — проект подготовлен, приказ записан или перечень не изменился после последнего
    приказа; 1 — в строках, которые утверждаются, есть ошибки (они перечислены); 2 — запуск невозможен
    или приказ не записан.
    """
    from .. import api

    cfg = load_config(config_path)
    if record is not None:
        _record(api, cfg, record, number, date_text, title, fmt, today)
        return
    if number is not None or date_text is not None or title is not None:
        _usage("--number, --date и --title указываются только вместе с --record ПРОЕКТ.", fmt)
    wb = workbook or cfg.fetch_workbook()
    result = api.approve(wb, cfg, now=_now(today))
    if result.status == "refused":
        if fmt == "json":
            echo_json(json.dumps({"draft": None, "status": "refused", "errors": [f.to_dict() for f in result.errors]},
                                 ensure_ascii=False, indent=2))
        else:
            click.echo(f"Проект приказа не подготовлен: в строках, которые утверждаются, и на листе в целом "
                       f"ошибок — {len(result.errors)} ({wb}).")
            for f in result.errors:
                where = f"{f.location}: " if f.location else ""
                click.echo(f"  {where}{f.message}")
            click.echo("Исправьте их (perechen check покажет подробно) и подготовьте проект снова. Ошибки в "
                       "черновиках и строках на проверке проект не задерживают.")
        sys.exit(EXIT_ERRORS)
    if result.status == "unchanged":
        if fmt == "json":
            echo_json(json.dumps({"draft": None, "status": "unchanged", "message": " ".join(result.notes)},
                                 ensure_ascii=False, indent=2))
        else:
            click.echo(" ".join(result.notes))
        sys.exit(EXIT_OK)
    draft = result.draft
    assert draft is not None
    if fmt == "json":
        echo_json(json.dumps(draft.to_json(), ensure_ascii=False, indent=2))
        sys.exit(EXIT_OK)
    for note in result.notes:
        click.echo(note)
    title_text = "об утверждении перечня" if draft.kind == "approve" else "о внесении изменений в перечень"
    click.echo(f"Подготовлен проект приказа {title_text}: {draft.id} (точек в перечне: {len(draft.rows)}).")
    for key, label in CASE_LABELS.items():
        codes = draft.changes.get(key) or []
        if key == "added" and draft.baseline is None:  # nothing placed yet: the approval of the list, not п. 5.3.1
            label = "точки перечня"
        if codes:
            click.echo(f"  {label}: {', '.join(codes[:30])}{' …' if len(codes) > 30 else ''}")
    click.echo(f"Проект приказа: {draft.docx}")
    click.echo(f"Для согласования: {draft.folder / 'perechen.xlsx'}, {draft.folder / 'izmeneniya.xlsx'}")
    click.echo(f"Отпечаток замороженных строк: {draft.fingerprint[:16]}")
    click.echo(f"После подписания: perechen approve --record {draft.id} --number НОМЕР --date ДД.ММ.ГГГГ")
    sys.exit(EXIT_OK)


def _record(api: Any, cfg: Any, draft_id: str, number: str | None, date_text: str | None, title: str | None,
            fmt: str, today: dt.datetime | None) -> None:
    if not number or not date_text:
        _usage("Для --record укажите номер (--number) и дату (--date ДД.ММ.ГГГГ) подписанного приказа.", fmt)
    assert number is not None and date_text is not None
    act = api.record_act(cfg, draft_id, number=number, date_text=date_text, title=title,
                         today=today.date() if today else None, now=_now(today))
    if fmt == "json":
        echo_json(json.dumps({"act": act.id, "draft": act.draft_id, "number": act.number,
                              "date": act.signed_on.isoformat(), "title": act.title}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"Записан {act.citation()} «{act.title}» к проекту {act.draft_id}.")
        if cfg.approval.mode == "act":
            click.echo("Строки этого проекта будут размещены на официальном сайте при следующей публикации "
                       "(perechen publish или ночной запуск).")
    sys.exit(EXIT_OK)


def _usage(message: str, fmt: str) -> None:
    if fmt == "json":
        echo_json(json.dumps({"file_error": {"code": "usage", "message": message}}, ensure_ascii=False))
    click.echo(f"Ошибка: {message}", err=True)
    sys.exit(EXIT_CANNOT_RUN)
