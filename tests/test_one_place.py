"""Issue 10: one Jinja factory, one locks module, one atomic write — no module grows its own again.

The behaviour of each lives with its module's tests (test_jinja, test_nightly_lock, test_fsutil); this only
keeps the tools themselves in their one place. Dates: tests/test_dates.py; errors: tests/test_errors.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scripts" / "perechen"

# What may only appear in one module (a module path under perechen → the names it alone may use).
ONLY_IN: dict[str, tuple[str, set[str]]] = {
    # Environment, loaders, Undefined: perechen.jinja.environment(); jinja_compiled/ is Jinja's own code for the
    # templates shipped compiled (made and loaded by perechen.jinja), importing jinja2.runtime as Jinja writes it.
    "jinja2": ("jinja.py", {"jinja_compiled/"}),
    "filelock": ("locks.py", set()),
    "fcntl": ("locks.py", set()),
    "msvcrt": ("locks.py", set()),
    "mkstemp": ("fsutil.py", set()),
    "NamedTemporaryFile": ("fsutil.py", set()),
    # os.replace: fsutil.replace (retried while Windows holds the file); moving a damaged journal aside is a
    # rename, not a write.
    "os.replace": ("fsutil.py", {"journal_rebuild.py"}),
}


def _uses(tree: ast.AST) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name.split(".")[0], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module.split(".")[0], node.lineno))
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.append((f"{node.value.id}.{node.attr}", node.lineno))
            found.append((node.attr, node.lineno))
        elif isinstance(node, ast.Name):
            found.append((node.id, node.lineno))
    return found


def test_each_tool_lives_in_one_module() -> None:
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for name, line in _uses(ast.parse(path.read_text(encoding="utf-8"))):
            if name in ONLY_IN:
                home, also = ONLY_IN[name]
                if rel != home and rel not in also and not any(
                        a.endswith("/") and rel.startswith(a) for a in also):  # "folder/": the files in it
                    stray.append(f"{rel}:{line}: {name} (belongs in {home})")
    assert stray == [], "\n".join(stray)


def test_the_walk_sees_what_it_guards() -> None:
    seen = {name for name, _ in _uses(ast.parse((PACKAGE / "fsutil.py").read_text(encoding="utf-8")))}
    assert {"mkstemp", "os.replace"} <= seen
    seen = {name for name, _ in _uses(ast.parse((PACKAGE / "jinja.py").read_text(encoding="utf-8")))}
    assert "jinja2" in seen
