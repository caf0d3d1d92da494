"""The templates shipped compiled (perechen.jinja.PRECOMPILED) are what their templates compile to now, and a page
rendered from one is the page the template compiles to; a stale or foreign module is never used.

After editing such a template, rewrite its module: ``.venv/bin/python tests/test_jinja_compiled.py``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import jinja2
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from perechen import jinja  # noqa: E402


def _sets() -> dict[str, jinja.TemplateSet]:
    """Every template set of the package by name (importing the modules that define them)."""
    for module in ("renderers.check", "renderers.diff", "region_render", "compliance", "opendata", "dashboard"):
        importlib.import_module(f"perechen.{module}")
    import gc

    return {o.name: o for o in gc.get_objects() if isinstance(o, jinja.TemplateSet)}


def _module_path(set_name: str, name: str) -> Path:
    return (ROOT / "scripts" / jinja.compiled_module(set_name, name).replace(".", "/")).with_suffix(".py")


def write() -> None:
    sets = _sets()
    for set_name, name in jinja.PRECOMPILED:
        path = _module_path(set_name, name)
        path.write_text(jinja.compiled_source(sets[set_name], name), encoding="utf-8", newline="\n")
        print(f"written {path.relative_to(ROOT)}")


def _shipped_hashes(set_name: str, name: str) -> dict[str, str]:
    """TEMPLATE_SHA256 and ENVIRONMENT_SHA256 as the shipped module states them."""
    text = _module_path(set_name, name).read_text(encoding="utf-8")
    return dict(re.findall(r"^(TEMPLATE_SHA256|ENVIRONMENT_SHA256) = '([0-9a-f]+)'$", text, re.M))


def _skip_if_other_jinja(set_name: str, name: str) -> None:
    """Another Jinja release (or environment) than the modules were made for: perechen compiles the template itself,
    as before (slower, same page), so this is not an error of the code — only the speed-up is lost until the modules
    are made again. A template edited without remaking its module still fails (its text hash)."""
    env = jinja.environment(_sets()[set_name])
    if _shipped_hashes(set_name, name).get("ENVIRONMENT_SHA256") != jinja.fingerprint(env):
        pytest.skip(f"the compiled {name} was made for another Jinja ({jinja2.__version__} here): remake it with "
                    ".venv/bin/python tests/test_jinja_compiled.py")


@pytest.mark.parametrize(("set_name", "name"), jinja.PRECOMPILED)
def test_shipped_module_is_current(set_name: str, name: str) -> None:
    path = _module_path(set_name, name)
    assert path.is_file(), f"{path} is missing: run .venv/bin/python tests/test_jinja_compiled.py"
    env = jinja.environment(_sets()[set_name])
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    made_from = _shipped_hashes(set_name, name).get("TEMPLATE_SHA256")
    assert made_from == jinja._source_hash(source), (
        f"{name} was edited after {path.name} was made: run .venv/bin/python tests/test_jinja_compiled.py")
    _skip_if_other_jinja(set_name, name)
    want = jinja.compiled_source(_sets()[set_name], name)
    assert path.read_text(encoding="utf-8") == want, (
        f"{path.name} is not what {name} compiles to now: run .venv/bin/python tests/test_jinja_compiled.py")


# The page rendered from a shipped module, beside the template compiled here: the check report (the modules of the
# others are held equal to their templates' code above; tests/test_region.py renders the dashboard through them).
@pytest.mark.parametrize(("set_name", "name"), [("check-report", "report.html.j2")])
def test_precompiled_template_is_used_and_renders_alike(set_name: str, name: str) -> None:
    _skip_if_other_jinja(set_name, name)
    template_set = _sets()[set_name]
    env = jinja.environment(template_set)
    shipped = env.get_template(name)
    assert Path(shipped.filename or "") == _module_path(set_name, name)  # from the module, not compiled here
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    compiled = env.from_string(source)
    context = _context(name)
    assert shipped.render(**context) == compiled.render(**context)


def _context(name: str) -> dict[str, object]:
    """A rendering of the check report page with findings (the one template shipped compiled so far)."""
    assert name == "report.html.j2"
    import datetime as dt

    from perechen.config import Config
    from perechen.renderers import check as pages
    from perechen.rules import Rules
    from perechen.stages import check_workbook

    captured: dict[str, object] = {}
    rules = Rules.load()
    report = check_workbook(ROOT / "workbook" / "perechen.xlsx", Config(), rules=rules, write_reports=False,
                            today=dt.date(2025, 6, 2))
    real = pages.get_template

    class _Capture:
        def render(self, **kw: object) -> str:
            captured.update(kw)
            return ""

    pages.get_template = lambda *a, **k: _Capture()  # type: ignore[assignment]
    try:
        pages.render_html(report, rules, now=dt.datetime(2025, 6, 2, 12, 0))
    finally:
        pages.get_template = real  # type: ignore[assignment]
    assert captured
    return captured


@pytest.mark.parametrize(("set_name", "name"), jinja.PRECOMPILED)
def test_every_shipped_module_is_loaded(set_name: str, name: str) -> None:
    _skip_if_other_jinja(set_name, name)
    env = jinja.environment(_sets()[set_name])
    assert Path(env.get_template(name).filename or "") == _module_path(set_name, name)


def test_stale_module_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module made from another text of the template (or for another Jinja) is passed over: compiled anew."""
    set_name, name = jinja.PRECOMPILED[0]
    template_set = _sets()[set_name]
    env = jinja.environment(template_set)
    monkeypatch.setattr(jinja, "_source_hash", lambda source: "another text")
    assert env.loader is not None
    template = env.loader.load(env, name, env.make_globals(None))
    assert Path(template.filename or "") != _module_path(set_name, name)
    monkeypatch.undo()
    monkeypatch.setattr(jinja, "fingerprint", lambda environment: "another jinja")
    template = env.loader.load(env, name, env.make_globals(None))
    assert Path(template.filename or "") != _module_path(set_name, name)


if __name__ == "__main__":
    write()
