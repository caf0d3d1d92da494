"""Imports in scripts/perechen point one way, down the layers of issue 10, and never form a cycle.

Every import counts: module level, inside functions, under ``if TYPE_CHECKING``, ``from . import x``, and the
package ``__init__`` an import runs first. A new module must be given its layer in LAYERS below (the test names it
otherwise).
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scripts" / "perechen"

# Top to bottom. A module may import its own layer and the layers below it; within a layer, no cycles.
# Names are module paths under perechen; a package name covers its submodules.
LAYERS: list[tuple[str, set[str]]] = [
    ("click", {"cli", "__main__", "commands"}),
    ("facade", {"api"}),
    ("region", {"region", "region_render"}),
    ("nightly", {"nightly", "nightly_log", "nightly_text", "summary", "mail", "dashboard"}),
    ("publish", {"publish", "targets", "approval", "compliance", "clock"}),
    ("stages", {"stages", "template"}),
    ("diff / store / renderers", {"diff", "diff_text", "store", "retention", "journal", "journal_rebuild", "annotate",
                                  "renderers", "opendata", "act_docx"}),
    ("checks / reader", {"checks", "reader", "ods", "canonical", "report", "presentation"}),
    ("foundations", {"", "models", "errors", "rules", "config", "text", "dates", "workdays", "calendar", "fsutil",
                     "locks", "jinja", "jinja_compiled", "cells", "poryadok", "bundled", "check_params", "remote",
                     "console", "printing", "xlsx_plain", "profiles"}),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int | None:
    for i, (_, names) in enumerate(LAYERS):
        for n in names:
            if module == n or (n and module.startswith(n + ".")):
                return i
    return None


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported perechen module, line) for every import statement anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "perechen" or alias.name.startswith("perechen."):
                    found.append((alias.name.removeprefix("perechen").lstrip("."), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and (node.module == "perechen" or node.module.startswith("perechen.")):
                target = node.module.removeprefix("perechen").lstrip(".")
            else:
                continue
            for alias in node.names:  # `from . import x` imports the submodule x when there is one
                sub = f"{target}.{alias.name}" if target else alias.name
                found.append((sub if sub in MODULES else target, node.lineno))
    # Importing a.b.c runs a/__init__ and a/b/__init__ first: those are edges too (a cycle may pass through a
    # package's __init__), except the importer's own packages, which are already being imported.
    own = {".".join(module.split(".")[:i]) for i in range(len(module.split(".")))}
    for target, line in list(found):
        parts = target.split(".")
        found += [(p, line) for i in range(1, len(parts)) if (p := ".".join(parts[:i])) in MODULES and p not in own]
    return [(m, line) for m, line in found if m != module]


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}"


def test_every_module_has_a_layer() -> None:
    missing = sorted(m or "perechen (__init__)" for m in MODULES if _layer(m) is None)
    assert not missing, f"modules without a layer (add them to LAYERS in tests/test_layers.py): {missing}"


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, imports in GRAPH.items():
        own = _layer(module)
        for target, line in imports:
            theirs = _layer(target)
            if own is not None and theirs is not None and theirs < own:
                upward.append(f"{_where(module, line)}: perechen.{module} ({LAYERS[own][0]}) imports "
                              f"perechen.{target} ({LAYERS[theirs][0]}), a layer above it")
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def test_no_import_cycle() -> None:
    edges = {m: sorted({t for t, _ in imports if t in MODULES}) for m, imports in GRAPH.items()}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in edges[m]:
            if state.get(t) == 1:
                loop = [*stack[stack.index(t):], t]
                lines = []
                for a, b in itertools.pairwise(loop):
                    line = next(ln for tt, ln in GRAPH[a] if tt == b)
                    lines.append(f"{_where(a, line)}: perechen.{a} imports perechen.{b}")
                cycles.append("\n  ".join(lines))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n  " + "\n\n  ".join(cycles)


def test_no_dynamic_import_hides_an_edge() -> None:
    """importlib.import_module / __import__ would take an import out of this test's sight (the old cli did)."""
    hidden = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if name in {"import_module", "__import__"}:
                    hidden.append(f"{_where(module, node.lineno)}: {name}()")
    assert not hidden, "dynamic imports (import the module by name instead):\n" + "\n".join(hidden)


def test_the_walk_sees_function_level_and_relative_imports() -> None:
    """The test itself: a function-level ``from . import x`` and ``from ..x import y`` are both edges."""
    assert any(t == "api" for t, _ in GRAPH["commands.check"])  # `from .. import api` inside
    assert any(t == "commands._common" for t, _ in GRAPH["commands.check"])  # `from ._common import …`
    assert any(t == "diff" for t, _ in GRAPH["stages"])  # `from . import diff, store` inside diff_workbook
    assert any(t == "ods" for t, _ in GRAPH["reader.files"])  # `from .. import ods` inside _open_ods
    assert any(t == "reader.files" for t, _ in GRAPH["reader"])  # a package's __init__: `from .files import …`
    assert any(t == "renderers" for t, _ in GRAPH["stages"])  # `from .renderers.x import …` runs renderers/__init__
    assert _layer("targets.base") == _layer("publish") and _layer("") == len(LAYERS) - 1


# Inside reader/ and checks/ (README «Layout»): each module imports only the ones after it in its list.
PACKAGE_ORDER = {
    "reader": ["reader", "reader.register", "reader.chunks", "reader.values", "reader.owner", "reader.files",
               "reader.guards",
               "reader.extent", "reader.package", "reader.scan"],
    "checks": ["checks", "checks.fields", "checks.basis", "checks.dates", "checks.cross", "checks.runner",
               "checks.context"],
}


def test_package_modules_import_down_their_list() -> None:
    for package, order in PACKAGE_ORDER.items():
        assert sorted(m for m in MODULES if m == package or m.startswith(package + ".")) == sorted(order)
        upward = [f"{_where(m, line)}: perechen.{m} imports perechen.{t}"
                  for m in order for t, line in GRAPH[m] if t in order and order.index(t) < order.index(m)]
        assert not upward, f"{package}/ imports against README's order:\n" + "\n".join(upward)
