"""The one place Jinja environments are made.

Every page perechen writes (the check report, diff.html, the dashboard, the published table) is rendered
from the templates shipped inside the package (``perechen/templates``, found by ``importlib`` through
Jinja's :class:`~jinja2.PackageLoader`, so any install works — not only a checkout). Every environment has
autoescape on and :class:`~jinja2.StrictUndefined`: a name a template uses but the caller did not pass is an
error, never an empty string on a clerk's page.

A renderer describes what is particular to its pages once, as a module-level :class:`TemplateSet`
(whitespace handling, a ``finalize`` hook, filters, globals); :func:`environment` builds the environment
for a set once per process and caches it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jinja2 is imported only when a page is rendered (perechen check --format json never does)
    from jinja2 import Environment, Template

PACKAGE = "perechen"
TEMPLATES = "templates"


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
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader(PACKAGE, TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=template_set.trim_blocks, lstrip_blocks=template_set.trim_blocks,
                      keep_trailing_newline=template_set.keep_trailing_newline,
                      finalize=template_set.finalize)
    env.filters.update(template_set.filters)
    env.globals.update(template_set.globals)
    return env


def get_template(name: str, template_set: TemplateSet = DEFAULT) -> Template:
    """A template of ``perechen/templates`` from the environment of ``template_set``."""
    return environment(template_set).get_template(name)
