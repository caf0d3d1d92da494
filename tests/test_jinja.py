"""The one Jinja factory: package templates, autoescape, StrictUndefined, one environment per template set."""

from __future__ import annotations

import jinja2
import pytest

from perechen import cells
from perechen.jinja import DEFAULT, TemplateSet, environment, get_template


def test_every_environment_escapes_and_is_strict() -> None:
    env = environment()
    assert env.from_string("{{ x }}").render(x="<script>&") == "&lt;script&gt;&amp;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):  # no silent chaining (ChainableUndefined) either
        env.from_string("{{ x.missing.deeper }}").render(x={})


def test_templates_come_from_the_package() -> None:
    # report.html.j2 ships inside perechen/templates; the loader finds it through importlib, not the cwd.
    assert isinstance(environment().loader, jinja2.PackageLoader)
    assert "report.html.j2" in environment().list_templates()


def test_one_environment_per_template_set() -> None:
    pages = TemplateSet("t", trim_blocks=False, filters={"twice": lambda v: v * 2}, globals={"n": 3})
    assert environment(pages) is environment(pages)
    assert environment(pages) is not environment(DEFAULT)
    assert environment(pages).from_string("{% if 1 %}\n{{ 'a' | twice }}{{ n }}{% endif %}").render() == "\naa3"
    assert environment(DEFAULT).from_string("{% if 1 %}\nb{% endif %}").render() == "b"
    assert "twice" not in environment(DEFAULT).filters
    with pytest.raises(jinja2.TemplateNotFound):
        get_template("no-such.html", pages)


def test_finalize_sees_every_printed_value() -> None:
    shout = TemplateSet("shout", finalize=lambda v: str(v).upper())
    assert environment(shout).from_string("{{ 'a' }}-{{ none }}").render() == "A-NONE"


def test_cell_addresses() -> None:
    assert [cells.col_letter(i) for i in (0, 25, 26, 701, 702, 16_383)] == ["A", "Z", "AA", "ZZ", "AAA", "XFD"]
    assert all(cells.col_index(cells.col_letter(i)) == i for i in range(0, 20_000, 7))
    assert cells.parse_ref("$f$7") == (7, 5)
    assert cells.parse_ref("F7:G8") is None and cells.parse_ref("") is None and cells.parse_ref("XFE1") is None
    assert cells.parse_ref("A1048577") is None
    assert cells.ref_key("B10") == (10, 1) and cells.ref_key("junk") == (0, 0)
    assert cells.quote_sheet("Лист 'A'") == "'Лист ''A'''"
