"""Files that ship inside the package: the rules and the sample workbook, found with importlib.resources.

Never a path relative to the checkout or the current folder: a wheel installed anywhere, an sdist build and an
editable install all answer here (the top-level rules/ and workbook/ folders are the packages
``perechen._rules`` and ``perechen._workbook``; see setup.py).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .models import RulesError


def _folder(package: str) -> Path:
    try:
        root = files(package)
    except ModuleNotFoundError:
        raise RulesError("rules_broken", f"В установке perechen нет встроенных данных ({package}); "
                                         "переустановите пакет.") from None
    if not isinstance(root, Path):  # a zip import: not how pip installs a wheel; say so instead of failing later
        raise RulesError("rules_broken", f"Встроенные данные perechen ({package}) лежат не в папке: {root}; "
                                         "установите пакет обычным образом (pip install).")
    return root


def rules_dir() -> Path:
    """The rules that ship with perechen (the top-level rules/ folder of the source)."""
    return _folder("perechen._rules")


def sample_workbook() -> Path:
    """The sample register used by ``perechen nightly --demo`` and the wheel check."""
    return _folder("perechen._workbook") / "perechen.xlsx"
