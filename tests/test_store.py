"""The store of published versions: canonical data, commit/LATEST, crash safety, baselines from .xlsx."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from perechen import canonical, store
from perechen.reader import read_register
from perechen.rules import Rules


def _canon(rules: Rules, make_workbook: Any, rows: list[dict[str, Any]], info: dict[str, str] | None = None,
           ) -> dict[str, Any]:
    return canonical.canonical_register(read_register(make_workbook(rows, info), rules), rules)


# -- canonical form ----------------------------------------------------------------------------------------


def test_canonical_register_has_every_field_and_only_included_rows(rules: Rules, make_workbook: Any,
                                                                   good_rows: list[dict[str, Any]]) -> None:
    good_rows[1]["status"] = "исключено"
    good_rows[2]["status"] = "на проверке"
    data = _canon(rules, make_workbook, good_rows)
    codes = [r["code"] for r in data["rows"]]
    assert codes == ["ТВ-01", "ТВ-04", "ТВ-05", "ТВ-06", "ТВ-07", "ТВ-08"]
    assert data["row_count"] == 6
    assert data["schema_version"] == rules.schema.version
    fields = [c.field for c in rules.schema.columns]
    assert data["fields"] == fields
    for r in data["rows"]:
        assert list(r) == fields
        assert r["changed_on"] == "2024-02-26"
        assert isinstance(r["needs"], list)
    assert set(data["info"]) == {f.key for f in rules.schema.info.fields}
    assert len(data["fingerprint"]) == 64


def test_canonical_form_ignores_spelling_order_and_spacing(rules: Rules, make_workbook: Any,
                                                           good_rows: list[dict[str, Any]]) -> None:
    base = _canon(rules, make_workbook, good_rows)
    variant = [dict(r) for r in good_rows]
    # needs in another order, an alias spelling, extra spaces; status and channel by alias
    variant[0]["needs"] = ("  получение результата рассмотрения обратной связи ;\n"
                           "обратная связь;результат, ответ, разъяснение")
    variant[0]["status"] = "включена"
    variant[0]["channel"] = "цифровой"
    variant[1]["name"] = "  Электронная   почта Службы "
    variant[2]["changed_on"] = "26.02.2024"
    again = _canon(rules, make_workbook, variant)
    assert again["rows"] == base["rows"]
    assert again["fingerprint"] == base["fingerprint"]


def test_canonical_multi_keeps_unknown_values_after_known(rules: Rules) -> None:
    v = canonical.canonical_value(rules, "needs",
                                  "Ещё что-то; консультация; получение консультации; обратная связь; Альфа")
    assert v == ["получение консультации", "предоставление обратной связи", "Альфа", "Ещё что-то"]
    assert canonical.canonical_value(rules, "needs", None) == []
    assert canonical.canonical_value(rules, "changed_on", dt.date(2025, 1, 9)) == "2025-01-09"
    assert canonical.canonical_value(rules, "changed_on", "не дата") == "не дата"
    assert canonical.canonical_value(rules, "note", "   ") is None


def test_fingerprint_is_deterministic_and_sensitive(rules: Rules, make_workbook: Any,
                                                    good_rows: list[dict[str, Any]]) -> None:
    a = _canon(rules, make_workbook, good_rows)
    b = _canon(rules, make_workbook, good_rows)
    assert a == b
    good_rows[4]["note"] = "новое примечание"
    c = _canon(rules, make_workbook, good_rows)
    assert c["fingerprint"] != a["fingerprint"]


# -- commit, LATEST, history ---------------------------------------------------------------------------------


def _data(rules: Rules, make_workbook: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _canon(rules, make_workbook, rows)


def test_commit_writes_folder_manifest_and_latest(tmp_path: Path, rules: Rules, make_workbook: Any,
                                                  good_rows: list[dict[str, Any]]) -> None:
    out = tmp_path / "output"
    data = _data(rules, make_workbook, good_rows)
    files = {"page.html": "<p>перечень</p>".encode(), "opendata/data.csv": b"code\n"}
    assert store.latest(out) is None
    assert store.list_versions(out) == []
    v = store.commit_version(out, data, files, {"target": "folder", "urls": ["file:///x"]},
                             now=dt.datetime(2026, 3, 2, 10, 15, 0))
    assert v.name == "2026-03-02_101500"
    assert (out / "published" / "LATEST").read_text(encoding="utf-8").strip() == v.name
    man = json.loads((v.path / "manifest.json").read_text(encoding="utf-8"))
    assert man["target"] == "folder" and man["urls"] == ["file:///x"]
    assert man["version"] == v.name
    assert man["fingerprint"] == data["fingerprint"]
    assert man["row_count"] == 8
    assert man["published_at"] == "2026-03-02T10:15:00"
    for name, content in files.items():
        assert (v.path / name).read_bytes() == content
        assert man["files"][name]["sha256"] == hashlib.sha256(content).hexdigest()
    reg_bytes = (v.path / "register.json.gz").read_bytes()
    assert man["files"]["register.json.gz"]["sha256"] == hashlib.sha256(reg_bytes).hexdigest()
    assert json.loads(gzip.decompress(reg_bytes)) == v.register and not (v.path / "register.json").exists()
    cur = store.latest(out)
    assert cur is not None and cur.name == v.name and cur.is_latest
    assert cur.rows_by_code["ТВ-03"]["kind"] == "автоматизированное рабочее место государственного служащего (АРМ ГС)"
    assert cur.fingerprint == data["fingerprint"]


def test_second_commit_in_same_second_gets_suffix_and_history_keeps_both(
        tmp_path: Path, rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]]) -> None:
    out = tmp_path / "output"
    data = _data(rules, make_workbook, good_rows)
    t = dt.datetime(2026, 3, 2, 10, 15, 0)
    a = store.commit_version(out, data, {}, {}, now=t)
    b = store.commit_version(out, data, {}, {}, now=t)
    c = store.commit_version(out, data, {}, {}, now=t + dt.timedelta(days=1))
    assert (a.name, b.name, c.name) == ("2026-03-02_101500", "2026-03-02_101500-2", "2026-03-03_101500")
    versions = store.list_versions(out)
    assert [v.name for v in versions] == [a.name, b.name, c.name]
    assert [v.is_latest for v in versions] == [False, False, True]


def test_bad_file_names_are_refused(tmp_path: Path, rules: Rules, make_workbook: Any,
                                    good_rows: list[dict[str, Any]]) -> None:
    data = _data(rules, make_workbook, good_rows)
    for bad in ("../evil", "/abs", "manifest.json", "register.json", "register.json.gz", ".hidden"):
        with pytest.raises(store.StoreError):
            store.commit_version(tmp_path, data, {bad: b"x"}, {})
    assert store.latest(tmp_path) is None


def test_crash_before_latest_moves_keeps_previous_baseline(tmp_path: Path, rules: Rules, make_workbook: Any,
                                                           good_rows: list[dict[str, Any]],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault between writing the version folder and moving LATEST (os.replace raises)."""
    out = tmp_path / "output"
    first = store.commit_version(out, _data(rules, make_workbook, good_rows), {}, {},
                                 now=dt.datetime(2026, 3, 2, 10, 0, 0))
    good_rows[0]["note"] = "изменение"
    changed = _data(rules, make_workbook, good_rows)

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(store.StoreError) as ei:
        store.commit_version(out, changed, {"page.html": b"x"}, {}, now=dt.datetime(2026, 3, 3, 10, 0, 0))
    assert "Базовой осталась прежняя версия" in ei.value.message
    monkeypatch.undo()
    cur = store.latest(out)
    assert cur is not None and cur.name == first.name
    assert cur.fingerprint != changed["fingerprint"]
    # No stray LATEST temp file is left behind.
    assert not [p for p in (out / "published").iterdir() if p.name.startswith((".tmp-LATEST", ".LATEST."))]
    # A rerun completes the job: the new version becomes LATEST.
    again = store.commit_version(out, changed, {"page.html": b"x"}, {}, now=dt.datetime(2026, 3, 3, 10, 0, 0))
    assert store.latest(out).name == again.name  # type: ignore[union-attr]


def test_crash_while_writing_files_leaves_temp_folder_that_is_ignored_then_cleaned(
        tmp_path: Path, rules: Rules, make_workbook: Any, good_rows: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "output"
    first = store.commit_version(out, _data(rules, make_workbook, good_rows), {}, {},
                                 now=dt.datetime(2026, 3, 2, 10, 0, 0))
    # Simulate a process killed in the middle of a commit: a half-written temp folder stays behind.
    leftover = out / "published" / ".tmp-abc123"
    leftover.mkdir()
    (leftover / "register.json").write_text("{\"rows\": [", encoding="utf-8")
    assert [v.name for v in store.list_versions(out)] == [first.name]
    assert store.latest(out).name == first.name  # type: ignore[union-attr]

    # A write error in the middle of a commit: the temp folder is removed, LATEST unchanged.
    calls = {"n": 0}
    real_write = store._write

    def failing_write(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(store, "_write", failing_write)
    with pytest.raises(store.StoreError) as ei:
        store.commit_version(out, _data(rules, make_workbook, good_rows), {"a.html": b"1", "b.html": b"2"}, {})
    assert "Базовая версия не изменилась" in ei.value.message
    monkeypatch.undo()
    assert store.latest(out).name == first.name  # type: ignore[union-attr]
    assert not leftover.exists(), "the next commit cleans leftover temp folders"
    assert [p.name for p in (out / "published").iterdir() if p.name.startswith(".tmp-")] == []


def test_damaged_store_is_a_clear_error(tmp_path: Path, rules: Rules, make_workbook: Any,
                                        good_rows: list[dict[str, Any]]) -> None:
    out = tmp_path / "output"
    v = store.commit_version(out, _data(rules, make_workbook, good_rows), {}, {})
    reg = v.path / "register.json.gz"
    reg.write_bytes(gzip.compress(gzip.decompress(reg.read_bytes()).replace("ТВ-01".encode(), "ТВ-99".encode())))
    with pytest.raises(store.StoreError, match="контрольная сумма"):
        store.latest(out)
    (out / "published" / "LATEST").write_text("../../etc\n", encoding="utf-8")
    with pytest.raises(store.StoreError, match="повреждён"):
        store.latest(out)
    (out / "published" / "LATEST").write_text("2020-01-01_000000\n", encoding="utf-8")
    with pytest.raises(store.StoreError, match="не найдена"):
        store.latest(out)


def test_baseline_from_old_xlsx_equals_canonical_data(rules: Rules, make_workbook: Any,
                                                      good_rows: list[dict[str, Any]], tmp_path: Path) -> None:
    wb = make_workbook(good_rows)
    base = store.load_baseline(wb, rules)
    assert base.register == canonical.canonical_register(read_register(wb, rules), rules)
    assert base.manifest["source"] == "xlsx"
    assert set(base.rows_by_code) == {f"ТВ-0{i}" for i in range(1, 9)}
    v = store.commit_version(tmp_path / "o", base.register, {}, {})
    assert store.load_baseline(v.path, rules).fingerprint == base.fingerprint
    assert store.load_baseline(v.path / "register.json.gz", rules).fingerprint == base.fingerprint
    with pytest.raises(store.StoreError):
        store.load_baseline(tmp_path / "nope", rules)


def test_master_workbook_untouched(master_copy: Path, rules: Rules, tmp_path: Path) -> None:
    base = store.load_baseline(master_copy, rules)
    store.commit_version(tmp_path / "o", base.register, {}, {})


def test_register_is_stored_compressed_and_old_versions_still_read(tmp_path: Path, rules: Rules, make_workbook: Any,
                                                                  good_rows: list[dict[str, Any]]) -> None:
    """Issue 13 §6: register.json.gz; a version published before compression (register.json) still loads."""
    out = tmp_path / "output"
    data = _data(rules, make_workbook, good_rows * 20)
    new = store.commit_version(out, data, {}, {}, now=dt.datetime(2026, 3, 2, 10, 0, 0))
    plain = len(json.dumps(new.register, ensure_ascii=False, indent=1).encode("utf-8"))
    assert (new.path / "register.json.gz").stat().st_size * 5 < plain

    # An old version folder, as perechen wrote it before: register.json with its sha256 in the manifest.
    old = out / "published" / "2026-01-01_090000"
    old.mkdir()
    raw = gzip.decompress((new.path / "register.json.gz").read_bytes())
    (old / "register.json").write_bytes(raw)
    man = json.loads((new.path / "manifest.json").read_text(encoding="utf-8"))
    man["files"] = {"register.json": {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}}
    man["version"] = old.name
    (old / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    versions = store.list_versions(out)
    assert [v.name for v in versions] == [old.name, new.name]
    assert versions[0].register == versions[1].register
    assert store.load_baseline(old / "register.json", rules).fingerprint == new.fingerprint
    (old / "register.json").write_bytes(raw.replace("ТВ-01".encode(), "ТВ-99".encode()))
    with pytest.raises(store.StoreError, match="контрольная сумма"):
        store.load_version(old)
