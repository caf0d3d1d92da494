"""The text of the Порядок (rules/poryadok.txt): clause numbers and their wording.

Used to show a clause's title next to a rule (``perechen rules``, reports) and by the tests that
check every rule points at a clause that exists in the order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ORDER_FILE = "poryadok.txt"
# The Порядок itself starts after this heading; the numbered items above it belong to the Приказ.
_START = re.compile(r"^\s*ПОРЯДОК\s+ВЕДЕНИЯ", re.MULTILINE)
_CLAUSE = re.compile(r"^\s*(?:[-*•]\s*)?(\d{1,2}(?:\.\d{1,2})*)\.\s+(\S.*)$")
_MARKUP = re.compile(r"\*\*|__")


@dataclass(frozen=True)
class Clause:
    number: str
    text: str

    @property
    def title(self) -> str:
        """The clause's wording, shortened to its first sentence (at most ~100 characters)."""
        t = self.text.rstrip(" ;,.")
        if len(t) <= 100:
            return t
        cut = t[:100]
        sp = cut.rfind(" ")
        return (cut[:sp] if sp > 60 else cut) + "…"


def parse_order(text: str) -> dict[str, Clause]:
    """Clause number -> Clause, for every numbered item of the Порядок (sections 1–5 and their items)."""
    m = _START.search(text)
    body = text[m.start():] if m else text
    out: dict[str, Clause] = {}
    for line in body.splitlines():
        cm = _CLAUSE.match(_MARKUP.sub("", line))
        if cm:
            out.setdefault(cm.group(1), Clause(cm.group(1), cm.group(2).strip()))
    return out


def order_path(rules_dir: Path | None = None) -> Path:
    from .rules import PACKAGE_RULES

    if rules_dir is not None and (Path(rules_dir) / ORDER_FILE).is_file():
        return Path(rules_dir) / ORDER_FILE
    return PACKAGE_RULES / ORDER_FILE


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Clause]:
    try:
        return parse_order(Path(path).read_text(encoding="utf-8"))
    except OSError:
        return {}


def clauses(rules_dir: Path | None = None) -> dict[str, Clause]:
    """The clauses of the order in rules_dir (or the bundled copy); empty if the text is not found."""
    return _load(str(order_path(rules_dir)))


def clause_title(number: str | None, rules_dir: Path | None = None) -> str:
    if not number:
        return ""
    c = clauses(rules_dir).get(number)
    return c.title if c else ""
