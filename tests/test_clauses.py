"""The Порядок, clause by clause (sections 2–5): each clause checkable from the register has a rule, and
each rule points at a clause that exists in the order (parsed from rules/poryadok.txt)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from perechen.poryadok import clause_title, clauses, parse_order
from perechen.rules import Rules
from tests.conftest import ROOT

SEED = ROOT.parent / "shared" / "seed" / "000_9eb3a263f299cad0.txt"


@dataclass(frozen=True)
class ByRules:
    """Checked by these rules (rules/checks.toml codes)."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class ByList:
    """An item of a reference list (rules/lists.toml) that carries this clause; its rules check it."""

    list_name: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class NotFromRegister:
    """Not checkable from the register itself — why, and where it is handled if anywhere."""

    why: str


Heading = NotFromRegister("заголовок раздела")

CLAUSES: dict[str, ByRules | ByList | NotFromRegister] = {
    "2": Heading,
    "2.1": ByRules(("required-empty", "status-value", "checked-by-self", "workbook-open")),
    "2.1.1": NotFromRegister("организация работы в Службе"),
    "2.1.2": ByRules(("required-empty", "list-spelling", "review-overdue", "missing-column", "duplicate-column",
                      "unknown-column", "mixed-script", "formula-no-value", "error-value", "merged-cells",
                      "hidden-rows")),
    "2.1.3": ByRules(("checked-by-empty",)),
    "2.2": ByRules(("area-no-key", "key-value")),
    "2.3": ByRules(("basis-document", "basis-kind-value")),
    "2.3.1": NotFromRegister("какие документы анализировать: вид документа проверяет basis-document"),
    "2.3.2": NotFromRegister("какие акты анализировать: вид документа проверяет basis-document"),
    "2.4": ByRules(("basis-action",)),
    "2.5": ByRules(("needs-value",)),
    "2.5.1": ByList("needs", ("needs-value",)),
    "2.5.2": ByList("needs", ("needs-value",)),
    "2.5.3": ByList("needs", ("needs-value",)),
    "2.5.4": ByList("needs", ("needs-value",)),
    "2.5.5": ByList("needs", ("needs-value",)),
    "2.5.6": ByList("needs", ("needs-value", "other-needs-empty")),
    "2.6": NotFromRegister("избегать формального подхода — оценивает человек"),
    "2.6.1": NotFromRegister("выявление точек — оценивает человек"),
    "2.6.2": NotFromRegister("учёт не только итоговых точек — оценивает человек"),
    "2.7": ByRules(("duplicate-kind", "duplicate-name")),
    "2.8": NotFromRegister("вводная часть принципов 2.8.1–2.8.4"),
    "2.8.1": NotFromRegister("простота и лёгкость взаимодействия — оценивает человек"),
    "2.8.2": ByRules(("process-no-digital",)),
    "2.8.3": ByRules(("process-no-offline",)),
    "2.8.4": ByRules(("offline-no-accessibility",)),
    "3": Heading,
    "3.1": ByRules(("channel-value", "kind-channel")),
    "3.1.1": ByList("channels", ("channel-value", "kind-channel")),
    "3.1.2": ByList("channels", ("channel-value", "kind-channel")),
    # Written interaction is a key touchpoint: the rule kind written_key exists but ships switched off in
    # rules/checks.toml («Ключевая» marks an area's main touchpoint, 2.2); 3.2.1's functions are checked.
    "3.2": NotFromRegister("правило written-not-key выключено в rules/checks.toml; функции — п. 3.2.1"),
    "3.2.1": ByRules(("written-features-missing", "written-features-value")),
    "4": ByRules(("kind-value",)),
    "4.1": ByRules(("kind-channel",)),
    "4.1.1": ByList("kinds", ("kind-value", "kind-channel")),
    "4.1.2": ByList("kinds", ("kind-value", "kind-channel")),
    "4.1.3": ByList("kinds", ("kind-value", "kind-channel")),
    "4.1.4": ByList("kinds", ("kind-value", "kind-channel")),
    "4.2": ByRules(("kind-channel",)),
    "4.2.1": ByList("kinds", ("kind-value", "kind-channel")),
    "4.2.2": ByList("kinds", ("kind-value", "kind-channel")),
    "4.2.3": ByList("kinds", ("kind-value", "kind-channel")),
    "4.2.4": ByList("kinds", ("kind-value", "kind-channel")),
    "5": Heading,
    "5.1": NotFromRegister("форму утверждающего документа Служба определяет сама"),
    "5.2": ByRules(("info-sheet-missing",)),  # publication itself: perechen publish
    "5.3": ByRules(("code-duplicate", "code-pattern")),
    "5.3.1": NotFromRegister("новая точка видна только при сравнении версий: perechen diff"),
    "5.3.2": NotFromRegister("смена вида точки видна только при сравнении версий: perechen diff"),
    "5.3.3": NotFromRegister("смена потребностей видна только при сравнении версий: perechen diff"),
    "5.3.4": ByList("statuses", ("status-value",)),
    "5.4": ByRules(("date-invalid", "date-future")),  # the 10-working-day deadline: perechen diff / nightly
}


@pytest.fixture(scope="module")
def order() -> dict[str, str]:
    return {n: c.text for n, c in clauses(ROOT / "rules").items()}


def test_the_table_lists_exactly_the_clauses_of_sections_2_to_5(order: dict[str, str]) -> None:
    in_order = {n for n in order if n.split(".")[0] in {"2", "3", "4", "5"}}
    assert set(CLAUSES) == in_order


def test_each_checkable_clause_has_existing_rules(rules: Rules) -> None:
    for number, how in CLAUSES.items():
        if isinstance(how, NotFromRegister):
            assert how.why, number
            continue
        for code in how.codes:
            assert rules.has_check(code), f"п. {number}: нет правила {code}"
        if isinstance(how, ByList):
            items = [i for i in rules.lists[how.list_name].items if i.clause == number]
            assert items, f"п. {number}: в справочнике {how.list_name} нет значения с этим пунктом"


def test_each_rule_is_in_the_table_under_its_clause(rules: Rules) -> None:
    for c in rules.checks:
        assert c.clause, c.code
        if c.clause.split(".")[0] not in {"2", "3", "4", "5"}:
            continue
        how = CLAUSES[c.clause]
        assert isinstance(how, (ByRules, ByList)) and c.code in how.codes, (
            f"правило {c.code} ссылается на п. {c.clause}, но в таблице оно там не указано")


def test_each_rule_clause_exists_in_the_order(rules: Rules, order: dict[str, str]) -> None:
    missing = {c.code: c.clause for c in rules.checks if c.clause not in order}
    assert not missing


def test_list_and_column_clauses_exist_in_the_order(rules: Rules, order: dict[str, str]) -> None:
    for name, rl in rules.lists.items():
        assert rl.clause in order, name
        for item in rl.items:
            assert item.clause is None or item.clause in order, (name, item.value)
    for col in rules.schema.columns:
        assert col.clause is None or col.clause in order, col.field


def test_clause_titles_come_from_the_text() -> None:
    assert clause_title("2.7").startswith("В случае если взаимодействие с клиентом осуществляется в несколько этапов")
    assert clause_title("4.1.3") == "автоматизированное рабочее место государственного служащего (далее – АРМ ГС)"
    assert clause_title("9.9") == "" and clause_title(None) == ""


def test_order_items_of_the_prikaz_are_not_clauses_of_the_poryadok() -> None:
    text = (ROOT / "rules" / "poryadok.txt").read_text(encoding="utf-8")
    parsed = parse_order(text)
    assert parsed["1"].text == "Общие положения"  # not «Утвердить порядок…» of the Приказ itself
    assert len([n for n in parsed if "." not in n]) == 5


@pytest.mark.skipif(not SEED.is_file(), reason="the shared seed is not available here")
def test_the_copy_is_the_order_as_published() -> None:
    assert (ROOT / "rules" / "poryadok.txt").read_bytes() == Path(SEED).read_bytes()
