"""An agency's profile (issue 14 §1): ``perechen profile new DIR`` and ``perechen rules --rules DIR --check``."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from perechen.cli import main
from perechen.profiles import BASE_FIELDS, GUIDE_NAME, RUNTIME_FIELDS, new_profile
from perechen.rules import PACKAGE_RULES, Rules

EXTRA_KIND = ("{ value = \"региональный портал\", channel = \"цифровая\", written = true, clause = \"4.1.5\", "
              "aliases = [\"портал\"] },\n")


def _run(*args: str) -> Any:
    res = CliRunner().invoke(main, list(args))
    assert "Traceback" not in res.output, res.output
    return res


def add_kind_profile(folder: Path) -> Path:
    """A profile whose order has a fifth digital kind (4.1.5) and whose kind list has it."""
    new_profile(folder)
    order = (folder / "poryadok.txt").read_text(encoding="utf-8")
    order = order.replace("- 4.1.4. система учёта заявок;",
                          "- 4.1.4. система учёта заявок;\n- 4.1.5. региональный портал;")
    (folder / "poryadok.txt").write_text(order, encoding="utf-8")
    lists = (folder / "lists.toml").read_text(encoding="utf-8")
    anchor = "  # Дополнительные виды"
    assert anchor in lists
    (folder / "lists.toml").write_text(lists.replace(anchor, "  " + EXTRA_KIND + anchor, 1), encoding="utf-8")
    return folder


def _renumber_text(text: str) -> str:
    """Section 5 of the order becomes section 6 (a new section 5 «Контроль» is put before it)."""
    text = re.sub(r"(?m)^(\s*(?:-\s*)?)5\.(\d)", r"\g<1>6.\2", text)
    return text.replace("6. Заключительные положения",
                        "5. Контроль\n\n5.1. Контроль за ведением Перечня осуществляет руководитель.\n\n"
                        "6. Заключительные положения")


def renumbered_profile(folder: Path, *, fix_references: bool = True) -> Path:
    """A profile whose order numbers the final provisions 6.x (п. 6.4 is the 10-working-day term)."""
    new_profile(folder)
    p = folder / "poryadok.txt"
    p.write_text(_renumber_text(p.read_text(encoding="utf-8")), encoding="utf-8")
    if fix_references:
        for name in ("checks.toml", "lists.toml", "schema.toml"):
            f = folder / name
            f.write_text(re.sub(r'clause = "5\.(\d)', r'clause = "6.\1', f.read_text(encoding="utf-8")),
                         encoding="utf-8")
    return folder


def test_new_profile_is_the_default_with_an_instruction_and_checks_clean(tmp_path: Path) -> None:
    folder = tmp_path / "профиль"
    res = _run("profile", "new", str(folder))
    assert res.exit_code == 0, res.output
    assert "Профиль создан" in res.output
    for name in ("poryadok.txt", "schema.toml", "lists.toml", "checks.toml", "file_errors.toml", "calendar.toml"):
        assert (folder / name).read_bytes() == (PACKAGE_RULES / name).read_bytes()
    guide = (folder / GUIDE_NAME).read_text(encoding="utf-8")
    assert "perechen rules --rules" in guide and "[kinds]" in guide and "channel" in guide
    assert not (folder / "__init__.py").exists()
    res = _run("rules", "--rules", str(folder), "--check")
    assert res.exit_code == 0, res.output
    assert "Ошибок нет" in res.output and "Отличий от встроенного профиля нет" in res.output
    doc = json.loads(_run("rules", "--rules", str(folder), "--check", "--format", "json").stdout)
    assert doc["valid"] is True and doc["problems"] == [] and doc["clauses"] > 50
    assert doc["differences"]["kinds_added"] == [] and doc["differences"]["order_text_changed"] is False


def test_new_profile_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "мой.txt").write_text("x", encoding="utf-8")
    res = _run("profile", "new", str(folder))
    assert res.exit_code == 2
    assert "непустая папка" in res.output and str(folder) in res.output
    assert sorted(p.name for p in folder.iterdir()) == ["мой.txt"]


def test_check_without_rules_option_checks_the_default_profile(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    res = _run("rules", "--check")
    assert res.exit_code == 0, res.output
    assert str(PACKAGE_RULES) in res.output


def test_a_profile_with_an_extra_kind_is_valid_and_the_kind_is_listed_as_a_difference(tmp_path: Path) -> None:
    folder = add_kind_profile(tmp_path / "p")
    assert "региональный портал" in Rules.load(folder).lists["kinds"].values
    res = _run("rules", "--rules", str(folder), "--check")
    assert res.exit_code == 0, res.output
    assert "виды точек добавлены: региональный портал" in res.output
    assert "текст порядка (poryadok.txt) другой" in res.output
    doc = json.loads(_run("rules", "--rules", str(folder), "--check", "--format", "json").stdout)
    assert doc["differences"]["kinds_added"] == ["региональный портал"]


def test_an_order_numbered_differently_needs_its_references_renumbered(tmp_path: Path) -> None:
    stale = renumbered_profile(tmp_path / "stale", fix_references=False)
    res = _run("rules", "--rules", str(stale), "--check", "--format", "json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc["valid"] is False
    cited = {p["message"] for p in doc["problems"]}
    assert any("п. 5.4, которого нет в тексте порядка" in m for m in cited), cited
    assert any(p["file"] == "lists.toml" and p["key"].startswith("statuses.items") for p in doc["problems"])
    text = _run("rules", "--rules", str(stale), "--check").output
    assert "Ошибки профиля:" in text and "schema.toml, ключ «columns.changed_on.clause»" in text

    fixed = renumbered_profile(tmp_path / "fixed")
    res = _run("rules", "--rules", str(fixed), "--check", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["differences"]["order_text_changed"] and doc["problems"] == []


def test_kind_without_channel_bad_messages_and_changed_severity_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    new_profile(folder)
    lists = (folder / "lists.toml").read_text(encoding="utf-8")
    lines = lists.splitlines(keepends=True)
    arm = next(i for i, line in enumerate(lines) if 'clause = "4.1.3"' in line)
    lines[arm] = lines[arm].replace('channel = "цифровая", ', "", 1)
    epgu = next(i for i, line in enumerate(lines) if 'value = "ЕПГУ"' in line)
    lines[epgu] = lines[epgu].replace('channel = "цифровая"', 'channel = "онлайн-канал"', 1)
    lists = "".join(lines)
    (folder / "lists.toml").write_text(lists, encoding="utf-8")
    checks = (folder / "checks.toml").read_text(encoding="utf-8")
    checks = checks.replace('message = "Столбец «{value}» не предусмотрен',
                            'message = "Столбец «{value}» ({колонка}) не предусмотрен', 1)
    checks = checks.replace('message = "На листе нет столбца «{header}»',
                            'message = "На листе нет столбца «{header»', 1)
    checks = checks.replace('code = "duplicate-column"\nkind = "reader"\nseverity = "error"',
                            'code = "duplicate-column"\nkind = "reader"\nseverity = "warning"', 1)
    (folder / "checks.toml").write_text(checks, encoding="utf-8")
    res = _run("rules", "--rules", str(folder), "--check", "--format", "json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    by_key = {p["key"]: p["message"] for p in doc["problems"]}
    arm = next(k for k in by_key if k.startswith("kinds.items[") and "АРМ ГС" in by_key[k])
    assert "не указан канал" in by_key[arm]
    assert any("«онлайн-канал», которого нет в справочнике каналов" in m for m in by_key.values())
    assert any("«{колонка}» программа не подставляет" in m for m in by_key.values())
    assert any("непарная фигурная скобка" in m for m in by_key.values())
    assert {"code": "duplicate-column", "default": "error", "profile": "warning"} in doc["differences"]["severities"]


def test_a_profile_that_cannot_be_read_exits_2_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    new_profile(folder)
    (folder / "lists.toml").write_text("[kinds\n", encoding="utf-8")
    res = _run("rules", "--rules", str(folder), "--check")
    assert res.exit_code == 2
    assert "lists.toml" in res.output and "Traceback" not in res.output
    res = _run("rules", "--rules", str(tmp_path / "нет"), "--check", "--format", "json")
    assert res.exit_code == 2
    assert json.loads(res.stdout)["file_error"]["code"] == "rules_broken"


def test_profile_without_order_text_is_a_problem(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    new_profile(folder)
    (folder / "poryadok.txt").unlink()
    res = _run("rules", "--rules", str(folder), "--check")
    assert res.exit_code == 1
    assert "нет текста порядка" in res.output


def test_the_message_fields_are_those_the_check_functions_pass() -> None:
    """RUNTIME_FIELDS must follow perechen.checks: every keyword a check passes to a finding's message."""
    import perechen.checks as checks

    passed: set[str] = set()
    for path in Path(checks.__file__).parent.glob("*.py"):  # the checks package: every kind's module
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "finding":
                passed |= {k.arg for k in node.keywords if k.arg}
    passed -= {"cell", "value"}
    assert passed, "the walk found no check module"
    assert passed <= RUNTIME_FIELDS | BASE_FIELDS, passed - (RUNTIME_FIELDS | BASE_FIELDS)


def test_rules_lists_the_rules_of_the_profile_given(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    new_profile(folder)
    checks = (folder / "checks.toml").read_text(encoding="utf-8")
    (folder / "checks.toml").write_text(checks.replace('title = "Неизвестный столбец"', 'title = "Лишний столбец"', 1),
                                        encoding="utf-8")
    doc = json.loads(_run("rules", "--rules", str(folder), "--format", "json").stdout)
    assert Path(doc["rules_dir"]) == folder.resolve()
    assert any(r["title"] == "Лишний столбец" for r in doc["rules"])
