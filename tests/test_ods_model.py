"""The .ods size guard's model of calamine (perechen.ods) never places cells short of where calamine does.

Random tables of repeated rows and cells — values, text, text:s runs, formulas, empty and covered cells —
are read by python-calamine itself; the model's height and width must cover calamine's grid, and its
amplified-text count must cover the characters calamine builds beyond those in the file.
"""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perechen import ods
from tests.corpus import make_corpus as mc

CELL_KINDS = ["empty", "float", "string", "text", "spaces", "formula", "formula_value", "covered", "type_only"]


def _cell(kind: str, reps: int, n: int) -> str:
    rep = f' table:number-columns-repeated="{reps}"' if reps > 1 else ""
    if kind == "empty":
        return f"<table:table-cell{rep}/>"
    if kind == "float":
        return (f'<table:table-cell{rep} office:value-type="float" office:value="{n}"><text:p>{n}</text:p>'
                "</table:table-cell>")
    if kind == "string":
        return f'<table:table-cell{rep} office:value-type="string" office:string-value="s{n}"/>'
    if kind == "text":
        return (f'<table:table-cell{rep} office:value-type="string"><text:p>т{n}</text:p><text:p>x</text:p>'
                "</table:table-cell>")
    if kind == "spaces":
        return (f'<table:table-cell{rep} office:value-type="string"><text:p>a<text:s text:c="{n}"/>b</text:p>'
                "</table:table-cell>")
    if kind == "formula":
        return f'<table:table-cell{rep} table:formula="of:=1+{n}"/>'
    if kind == "formula_value":
        return f'<table:table-cell{rep} table:formula="of:=1" office:value-type="float" office:value="1"/>'
    if kind == "covered":
        return f'<table:covered-table-cell{rep} office:value-type="float" office:value="{n}"/>'
    return f'<table:table-cell{rep} office:value-type="float"/>'  # type_only: no value at all


rows_strategy = st.lists(
    st.tuples(st.integers(1, 4),  # rows repeated
              st.lists(st.tuples(st.sampled_from(CELL_KINDS), st.integers(1, 5), st.integers(0, 30)), max_size=6)),
    max_size=8)


def _grid(data: bytes) -> list[list[Any]]:
    import python_calamine as pc

    return pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(
        skip_empty_area=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy)
def test_model_covers_calamines_grid(rows: list[tuple[int, list[tuple[str, int, int]]]]) -> None:
    body = "".join(
        (f'<table:table-row table:number-rows-repeated="{rr}">' if rr > 1 else "<table:table-row>")
        + "".join(_cell(k, reps, n) for k, reps, n in cells) + "</table:table-row>"
        for rr, cells in rows)
    content = mc.ods_content(body)
    model = ods.scan_content(content).tables[0]
    grid = _grid(mc.ods_zip(content))
    height = len(grid)
    width = max((len(r) for r in grid), default=0)
    assert model.height >= height, (model.height, height, body)
    assert model.width >= width, (model.width, width, body)
    built = sum(len(v) for r in grid for v in r if isinstance(v, str))
    assert built <= len(content) + model.amplified_chars, (built, model.amplified_chars, body)
