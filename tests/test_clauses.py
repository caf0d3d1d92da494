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
    # «Проверил» and who fills it are the agency's record of 2.1–2.1.3 (checked-by-self, checked-by-empty:
    # source = "agency"); the order assigns the roles but names no column and does not forbid one person both.
    "2.1": NotFromRegister("роли ответственного и уполномоченного лица; столбец «Проверил» — правило Службы"),
    "2.1.1": NotFromRegister("организация работы в Службе"),
    # The check itself is the authorised person's; the tool's help (columns, spellings, a review term) is
    # the agency's own rules (source = "agency"), which cite no clause.
    "2.1.2": NotFromRegister("проверку проводит уполномоченное лицо; perechen check ему помогает"),
    "2.1.3": NotFromRegister("включение сведений — уполномоченное лицо; запись «Проверил» — правило Службы"),
    "2.2": ByRules(("area-no-key", "key-value")),
    "2.3": NotFromRegister("на основании чего выявлять точки; вид основания в книге — правило Службы"),
    "2.3.1": NotFromRegister("какие документы анализировать: вид документа проверяет basis-document"),
    "2.3.2": NotFromRegister("какие акты анализировать: вид документа проверяет basis-document"),
    "2.4": ByRules(("basis-action-is-document",)),
    "2.5": ByRules(("needs-value", "required-empty")),
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
    "2.8.4": ByRules(("offline-no-accessibility", "digital-no-accessibility")),
    "3": Heading,
    "3.1": ByRules(("channel-value", "kind-channel")),
    "3.1.1": ByList("channels", ("channel-value", "kind-channel")),
    "3.1.2": ByList("channels", ("channel-value", "kind-channel")),
    # Written interaction is a key touchpoint: area-no-key counts it as key, written-not-key tells the clerk.
    "3.2": ByRules(("written-not-key", "area-no-key")),
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
    "5.2": NotFromRegister("размещение на официальном сайте: perechen publish; лист «Сведения» — правило Службы"),
    "5.3": NotFromRegister("случаи актуализации видны при сравнении версий: perechen diff; код точки — правило Службы"),
    "5.3.1": NotFromRegister("новая точка видна только при сравнении версий: perechen diff"),
    "5.3.2": NotFromRegister("смена вида точки видна только при сравнении версий: perechen diff"),
    "5.3.3": NotFromRegister("смена потребностей видна только при сравнении версий: perechen diff"),
    "5.3.4": NotFromRegister("исключение видно при сравнении версий: perechen diff; статус строки — правило Службы"),
    "5.4": NotFromRegister("срок размещения на официальном сайте: perechen diff / nightly; дата — правило Службы"),
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


# What each clause cited by a rule says that makes it require what the rule checks: words of the clause's
# own text (rules/poryadok.txt). A finding that cites a clause for something else fails here.
CLAIMS: dict[str, tuple[str, str]] = {
    "area-no-key": ("2.2", "В рамках каждого направления деятельности и (или) взаимодействия должны быть "
                           "определены ключевые"),
    "key-value": ("2.2", "ключевые точки взаимодействия"),
    "basis-action-is-document": ("2.4", "не на основании документа, а на основании распорядительного действия "
                                        "(поручения, резолюции, иного действия)"),
    "needs-value": ("2.5", "необходимо определить удовлетворяемые потребности клиента"),
    "other-needs-empty": ("2.5.6", "другие удовлетворяемые потребности клиента"),
    "duplicate-kind": ("2.7", "не подлежат дублированию"),
    "duplicate-name": ("2.7", "не подлежат дублированию"),
    "process-no-digital": ("2.8.2", "являются преимущественными каналами взаимодействия"),
    "process-no-offline": ("2.8.3", "в офлайн-каналах в виде альтернативных способов"),
    "offline-no-accessibility": ("2.8.4", "с проблемами со здоровьем, ограниченно или временно нетрудоспособных, "
                                          "с низкими навыками использования цифровых технологий, в том числе в "
                                          "силу возраста"),
    "digital-no-accessibility": ("2.8.4", "с низкими навыками использования цифровых технологий"),
    "channel-value": ("3.1", "В зависимости от канала взаимодействия точки взаимодействия подразделяются на"),
    "kind-channel": ("3.1", "В зависимости от канала взаимодействия точки взаимодействия подразделяются на"),
    "written-not-key": ("3.2", "Ключевыми точками взаимодействия с клиентом являются"),
    "written-features-value": ("3.2.1", "Письменное взаимодействие"),
    "written-features-missing": ("3.2.1", "Письменное взаимодействие"),
    "kind-value": ("4", "Перечень точек взаимодействия"),
}


def test_each_rule_is_in_the_table_under_its_clause(rules: Rules) -> None:
    for c in rules.checks:
        if c.source == "agency":
            assert not c.clause, c.code
            continue
        assert c.clause, c.code
        if c.clause.split(".")[0] not in {"2", "3", "4", "5"}:
            continue
        how = CLAUSES[c.clause]
        assert isinstance(how, (ByRules, ByList)) and c.code in how.codes, (
            f"правило {c.code} ссылается на п. {c.clause}, но в таблице оно там не указано")


def test_each_cited_clause_says_what_the_rule_requires(rules: Rules, order: dict[str, str]) -> None:
    cited = {c.code: c.clause for c in rules.checks if c.source == "order"}
    assert set(cited) == set(CLAIMS), "у каждого правила Порядка есть слова пункта, на которых оно держится"
    for code, (clause, words) in CLAIMS.items():
        assert cited[code] == clause, code
        assert words in order[clause], f"{code}: п. {clause} не говорит «{words}»"


def test_required_empty_cites_the_order_only_where_the_order_requires_the_column(rules: Rules,
                                                                                 order: dict[str, str]) -> None:
    chk = rules.check("required-empty")
    assert chk.source == "agency" and not chk.clause
    assert chk.params["order_clauses"] == {"needs": "2.5"}
    assert "необходимо определить удовлетворяемые потребности" in order["2.5"]


def test_agency_rules_say_so_and_never_claim_the_order(rules: Rules) -> None:
    agency = [c for c in rules.checks if c.source == "agency"]
    # The conventions the issue names are the agency's, not the order's.
    for code in ("missing-column", "unknown-column", "duplicate-column", "merged-cells", "list-spelling",
                 "review-overdue", "code-pattern", "code-duplicate", "basis-document", "basis-action",
                 "required-empty", "info-field-empty", "duplicate-note-column",
                 # QA: a definition (1.3.1) or a role (2.1–2.1.3) does not require a column or a list
                 "checked-by-empty", "checked-by-self", "clients-value", "basis-kind-value"):
        assert rules.check(code).source == "agency", code
    for c in agency:
        text = c.message + str(c.params)
        assert "ведения перечня в Службе" in text, c.code
        assert "нарушение Порядка" not in text and f"п. {c.clause}" not in text, c.code


def test_each_rule_clause_exists_in_the_order(rules: Rules, order: dict[str, str]) -> None:
    missing = {c.code: c.clause for c in rules.checks if c.source == "order" and c.clause not in order}
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
