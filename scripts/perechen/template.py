"""Write a register workbook generated from rules/: the template of ``perechen init`` and the bundled
example register (scripts/make_workbook.py)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .fsutil import atomic_write
from .rules import Rules

HEADER_FILL = "DCE6F1"
INSTRUCTION = "Инструкция"
LISTS_SHEET = "Справочники"
DATA_ROWS = 2000  # rows covered by drop-down lists


def build_workbook(rules: Rules, rows: Sequence[dict[str, Any]] = (), info: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    schema = rules.schema
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = schema.register_spec.sheet
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    thin = Side(style="thin", color="A6A6A6")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    cols = schema.columns
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=1, column=j, value=col.header)
        c.font, c.fill, c.alignment, c.border = bold, fill, Alignment(wrap_text=True, vertical="center"), border
        ws.column_dimensions[get_column_letter(j)].width = col.width
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "B2"
    for i, row in enumerate(rows, start=2):
        for j, col in enumerate(cols, start=1):
            v = row.get(col.field)
            if isinstance(v, list):
                v = "; ".join(v)
            c = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str):
                c.data_type = "s"
            if isinstance(v, dt.date):
                c.number_format = "DD.MM.YYYY"
            c.alignment = wrap
            c.border = border
    last_col = get_column_letter(len(cols))
    ws.auto_filter.ref = f"A1:{last_col}{max(2, len(rows) + 1)}"

    # Reference lists.
    ls = wb.create_sheet(LISTS_SHEET)
    list_cols: dict[str, str] = {}
    j = 0
    for name, rl in rules.lists.items():
        j += 1
        letter = get_column_letter(j)
        list_cols[name] = letter
        h = ls.cell(row=1, column=j, value=rl.title)
        h.font, h.fill = bold, fill
        for i, item in enumerate(rl.items, start=2):
            ls.cell(row=i, column=j, value=item.value).data_type = "s"
        ls.column_dimensions[letter].width = max(18, max(len(x.value) for x in rl.items) + 2)
    ls.freeze_panes = "A2"

    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        rng = f"{letter}2:{letter}{DATA_ROWS + 1}"
        if col.ref_list and not col.multi:
            rl = rules.lists[col.ref_list]
            src = f"'{LISTS_SHEET}'!${list_cols[col.ref_list]}$2:${list_cols[col.ref_list]}${len(rl.items) + 1}"
            dv = DataValidation(type="list", formula1=src, allow_blank=True, showDropDown=False)
            dv.errorTitle = col.header[:32]
            dv.error = f"Выберите значение из списка «{rl.title}» (лист «{LISTS_SHEET}»)."[:255]
            dv.errorStyle = "warning"
            dv.promptTitle = col.header[:32]
            dv.prompt = f"Выберите из списка. П. {col.clause} Порядка."[:255]
            dv.showErrorMessage = True
            dv.showInputMessage = True
            dv.add(rng)
            ws.add_data_validation(dv)
        elif col.multi:
            multi_list = rules.lists[col.ref_list] if col.ref_list else None
            dv = DataValidation(allow_blank=True)
            dv.promptTitle = "Несколько значений"[:32]
            values = "; ".join(x.value for x in multi_list.items) if multi_list else ""
            dv.prompt = (f"Несколько значений через «;» или с новой строки (Alt+Enter). Допустимо: {values}")[:255]
            dv.showInputMessage = True
            dv.showErrorMessage = False
            dv.add(rng)
            ws.add_data_validation(dv)
        elif col.type == "date":
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
            dv.promptTitle = col.header[:32]
            dv.prompt = "Дата в формате ДД.ММ.ГГГГ, не позже сегодняшней."
            dv.error = "Введите дату в формате ДД.ММ.ГГГГ."
            dv.errorStyle = "warning"
            dv.showInputMessage = True
            dv.showErrorMessage = True
            dv.add(rng)
            ws.add_data_validation(dv)
    for i in range(2, DATA_ROWS + 2):
        for j, col in enumerate(cols, start=1):
            if col.type == "date":
                ws.cell(row=i, column=j).number_format = "DD.MM.YYYY"

    # «Сведения».
    si = wb.create_sheet(schema.info.sheet)
    for j, h in enumerate((schema.info.key_header, schema.info.value_header), start=1):
        c = si.cell(row=1, column=j, value=h)
        c.font, c.fill = bold, fill
    info = info or {}
    for i, f in enumerate(schema.info.fields, start=2):
        si.cell(row=i, column=1, value=f.label)
        v = info.get(f.key) or None
        c = si.cell(row=i, column=2, value=v)
        if v is not None:
            c.data_type = "s"
        c.alignment = wrap
    si.column_dimensions["A"].width = 36
    si.column_dimensions["B"].width = 90

    # «Инструкция».
    ins = wb.create_sheet(INSTRUCTION)
    ins.column_dimensions["A"].width = 34
    ins.column_dimensions["B"].width = 16
    ins.column_dimensions["C"].width = 12
    ins.column_dimensions["D"].width = 90
    intro = [
        "Как вести перечень точек взаимодействия",
        "Одна строка листа «Перечень» — одна точка взаимодействия. Ответственный готовит и изменяет строку "
        "(п. 2.1 Порядка) и ставит статус «на проверке»; уполномоченное лицо проверяет полноту сведений, "
        "вписывает себя в «Проверил» и ставит «включено» (пп. 2.1.2, 2.1.3). Строки не удаляют: для "
        "исключения точки ставят статус «исключено» (п. 5.3.4). При внесении изменений в перечень его "
        "актуальная версия размещается на официальном сайте «в течение 10 рабочих дней со дня внесения таких "
        "изменений» (п. 5.4 Порядка). День внесения — день, когда ночная проверка perechen впервые увидела "
        "изменение со статусом «включено», а если изменения утверждаются приказом, — дата приказа; «Дата "
        "изменения» в строке учитывается, только пока такого наблюдения нет.",
        "Значения из справочников выбирайте из выпадающего списка; несколько значений в одной ячейке "
        "разделяйте «;» или переводом строки (Alt+Enter). Не объединяйте ячейки и не вставляйте формулы.",
    ]
    ins.cell(row=1, column=1, value=intro[0]).font = Font(bold=True, size=13)
    for i, text in enumerate(intro[1:], start=2):
        ins.merge_cells(start_row=i, start_column=1, end_row=i, end_column=4)
        c = ins.cell(row=i, column=1, value=text)
        c.alignment = wrap
        ins.row_dimensions[i].height = 110 if i == 2 else 32
    hdr = ["Столбец", "Обязательность", "Пункт Порядка", "Как заполнять"]
    for j, h in enumerate(hdr, start=1):
        c = ins.cell(row=5, column=j, value=h)
        c.font, c.fill = bold, fill
    for i, col in enumerate(cols, start=6):
        req = "обязательно" if col.required else "по условию" if col.field in {"other_needs", "checked_by",
                                                                               "accessibility", "written_features"} \
            else "нет"
        text = col.help
        if col.ref_list:
            rl = rules.lists[col.ref_list]
            text += " Значения: " + "; ".join(x.value for x in rl.items) + "."
        for j, v in enumerate((col.header, req, col.clause or "", text), start=1):
            c = ins.cell(row=i, column=j, value=v)
            c.alignment = wrap
            if isinstance(v, str):
                c.data_type = "s"
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_template(path: Path, rules: Rules, rows: Sequence[dict[str, Any]] = (),
                   info: dict[str, str] | None = None) -> Path:
    return atomic_write(path, build_workbook(rules, rows, info))
