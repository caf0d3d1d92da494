"""The one place Jinja environments are made.

Every page perechen writes (the check report, diff.html, the dashboard, the published table) is rendered
from the templates shipped inside the package (``perechen/templates``, found by ``importlib`` through
Jinja's :class:`~jinja2.PackageLoader`, so any install works — not only a checkout). Every environment has
autoescape on and :class:`~jinja2.StrictUndefined`: a name a template uses but the caller did not pass is an
error, never an empty string on a clerk's page.

A renderer describes what is particular to its pages once, as a module-level :class:`TemplateSet`
(whitespace handling, a ``finalize`` hook, filters, globals); :func:`environment` builds the environment
for a set once per process and caches it.

Compiling a template (Jinja's lexer, parser and code generator) costs far more than running it: ~15 ms of CPU
for the check report's page, paid by every process that renders it — ``perechen region`` before its workers
fork. The templates listed in :data:`PRECOMPILED` are therefore also shipped compiled: Jinja's own output for
them (:func:`compiled_source`), as modules of :mod:`perechen.jinja_compiled` that an install compiles to
bytecode like any module. Such a module is used only while it was made from the very template text and for an
environment that compiles alike (:func:`fingerprint`: the Jinja version, the set's options, its filters and
tests); otherwise the template is compiled as before. ``tests/test_jinja_compiled.py`` holds the modules equal
to what the templates compile to now, and rewrites them: ``.venv/bin/python tests/test_jinja_compiled.py``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jinja2 is imported only when a page is rendered (perechen check --format json never does)
    from jinja2 import BaseLoader, Environment, Template

PACKAGE = "perechen"
TEMPLATES = "templates"
COMPILED = "perechen.jinja_compiled"  # the package of the shipped compiled templates

# (template set, template) shipped compiled: the check report, which perechen region compiles before its workers
# fork, and the region's dashboard, which its main process compiles while they read (two processes on two cores).
PRECOMPILED: tuple[tuple[str, str], ...] = (("check-report", "report.html.j2"), ("region", "region.html"),
                                            ("region", "region-parts.html"))


@dataclass(frozen=True, eq=False)
class TemplateSet:
    """What one family of pages needs from its environment.

    Compared and hashed by identity: define each set once, at module level, and the cache holds one
    environment per set.
    """

    name: str
    trim_blocks: bool = True  # trim_blocks and lstrip_blocks together
    keep_trailing_newline: bool = False
    finalize: Callable[[Any], Any] | None = None
    filters: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    globals: Mapping[str, Any] = field(default_factory=dict)


DEFAULT = TemplateSet("default")


@functools.cache
def environment(template_set: TemplateSet = DEFAULT) -> Environment:
    """The environment of ``template_set``: package templates, autoescape, StrictUndefined (cached)."""
    from jinja2 import Environment, StrictUndefined

    env = Environment(loader=_loader(template_set.name), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=template_set.trim_blocks, lstrip_blocks=template_set.trim_blocks,
                      keep_trailing_newline=template_set.keep_trailing_newline,
                      finalize=template_set.finalize)
    env.filters.update(template_set.filters)
    env.globals.update(template_set.globals)
    return env


def get_template(name: str, template_set: TemplateSet = DEFAULT) -> Template:
    """A template of ``perechen/templates`` from the environment of ``template_set``."""
    return environment(template_set).get_template(name)


def compiled_module(set_name: str, name: str) -> str:
    """The module of :mod:`perechen.jinja_compiled` holding ``name`` of the set ``set_name`` compiled."""
    key = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in f"{set_name}__{name}")
    return f"{COMPILED}.{key}"


def fingerprint(env: Environment) -> str:
    """What Jinja's code for a template depends on besides its text: the Jinja version and the environment's
    syntax, whitespace, finalize, autoescape, filter and test names."""
    import jinja2

    fin = env.finalize
    parts = [getattr(jinja2, "__version__", "?"), env.block_start_string, env.block_end_string,
             env.variable_start_string, env.variable_end_string, env.comment_start_string, env.comment_end_string,
             repr(env.line_statement_prefix), repr(env.line_comment_prefix), repr(env.trim_blocks),
             repr(env.lstrip_blocks), repr(env.newline_sequence), repr(env.keep_trailing_newline),
             repr(env.optimized), repr(env.is_async),
             repr(env.autoescape) if isinstance(env.autoescape, bool) else "callable",
             "" if fin is None else f"{getattr(fin, '__module__', '')}.{getattr(fin, '__qualname__', repr(fin))}",
             ",".join(sorted(env.filters)), ",".join(sorted(env.tests)), ",".join(sorted(env.extensions))]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def compiled_source(template_set: TemplateSet, name: str) -> str:
    """The text of :func:`compiled_module` for ``name``: Jinja's Python code for the template, after the hashes of
    the template's text and of the environment it was compiled for."""
    env = environment(template_set)
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    code = env.compile(source, name, raw=True, defer_init=True)  # importable: `environment` is read when it runs
    return (f"# Made by tests/test_jinja_compiled.py from perechen/templates/{name} (template set "
            f"\"{template_set.name}\") — do not edit;\n"
            "# perechen.jinja uses it only while both hashes below still hold, else compiles the template itself.\n"
            "# ruff: noqa\n"
            "# mypy: ignore-errors\n"
            f"TEMPLATE_SHA256 = {_source_hash(source)!r}\n"
            f"ENVIRONMENT_SHA256 = {fingerprint(env)!r}\n"
            f"{code}\n")


@functools.cache
def _loader_class() -> type[BaseLoader]:
    from jinja2 import PackageLoader

    class _Loader(PackageLoader):
        """The package's templates; one of :data:`PRECOMPILED` from its shipped module while that is current."""

        def __init__(self, set_name: str) -> None:
            super().__init__(PACKAGE, TEMPLATES)
            self.set_name = set_name

        def load(self, environment: Environment, name: str,
                 globals: MutableMapping[str, Any] | None = None) -> Template:
            if (self.set_name, name) in PRECOMPILED:
                template = _precompiled(environment, self, self.set_name, name, globals or {})
                if template is not None:
                    return template
            return super().load(environment, name, globals)

    return _Loader


def _loader(set_name: str) -> BaseLoader:
    return _loader_class()(set_name)  # type: ignore[call-arg]


def _precompiled(environment: Environment, loader: BaseLoader, set_name: str, name: str,
                 globals: MutableMapping[str, Any]) -> Template | None:
    """The template from its shipped module, or None when that is missing or was made from another text or for an
    environment that compiles otherwise. The module's code is read (its bytecode, as for an import) and run as Jinja
    runs the code it compiles (``Template.from_code``: a namespace of its own, holding the environment)."""
    source, _, uptodate = loader.get_source(environment, name)
    spec = importlib.util.find_spec(compiled_module(set_name, name))
    if spec is None or spec.loader is None or not hasattr(spec.loader, "get_code"):
        return None
    code = spec.loader.get_code(spec.name)
    if code is None:
        return None
    try:
        template = environment.template_class.from_code(environment, code, globals, uptodate)
    except Exception:  # e.g. another Jinja without a name the module imports from jinja2.runtime: compile instead
        return None
    made = template.root_render_func.__globals__  # the namespace the module's code ran in
    if (made.get("TEMPLATE_SHA256") != _source_hash(source)
            or made.get("ENVIRONMENT_SHA256") != fingerprint(environment)):
        return None
    return template
