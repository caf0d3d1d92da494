"""`perechen publish` with the folder and bundle targets: refusal, dry run, idempotence, the store, crashes."""

from __future__ import annotations

import copy
import datetime as dt
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen import store
from perechen.cli import main
from perechen.config import Config, TargetConfig, load_config
from perechen.opendata import META_NAME, PAGE_NAME, XLSX_NAME, read_csv
from perechen.publish import PublishResult, publish_workbook, render_text
from perechen.targets.base import PublishFailed

SITE_FILES = {"data-20240226-structure-20240226.csv", "structure-20240226.csv", XLSX_NAME, "datapackage.json",
              META_NAME, "fragment.html", PAGE_NAME}


class Killed(BaseException):
    """Stands for the process being killed at a step: not an Exception, so nothing handles it."""


def kill_at(step: str) -> Callable[[str], None]:
    def hook(s: str) -> None:
        if s == step:
            raise Killed(s)
    return hook


def recorder(into: list[str]) -> Callable[[str], None]:
    return into.append


def latest_name(cfg: Config) -> str | None:
    return store.latest_name(cfg.output_dir)


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def changed_rows(good_rows: list[dict[str, Any]], name: str = "Электронная почта Службы (обновлено)",
                 day: dt.date | None = None) -> list[dict[str, Any]]:
    rows = copy.deepcopy(good_rows)
    rows[1]["name"] = name
    if day is not None:
        rows[1]["changed_on"] = day
    return rows


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return Config(base_dir=tmp_path)


# ------------------------------------------------------------------------------------------------ folder


PLACED = dt.date(2024, 2, 26)  # the day the tests place the bundled register: data-20240226 (issue 11 item 15)


def test_folder_publish_then_nothing_to_do(cfg: Config, master_copy: Path) -> None:
    res = publish_workbook(master_copy, cfg, today=PLACED)
    assert res.status == "published" and res.exit_code == 0
    site = cfg.output_dir / "site"
    assert {p.name for p in site.iterdir()} == SITE_FILES
    assert res.version is not None and latest_name(cfg) == res.version
    version = store.latest(cfg.output_dir)
    assert version is not None
    assert version.fingerprint == res.fingerprint and len(version.rows) == 8
    assert set(version.manifest["files"]) >= SITE_FILES | {"register.json.gz"}
    assert version.manifest["target"] == "folder" and version.manifest["opendata"]["data_file"] == \
        "data-20240226-structure-20240226.csv"
    page = (site / PAGE_NAME).read_text(encoding="utf-8")
    assert "Дата актуализации" in page and "26.02.2024" in page
    before = {p.name: p.stat().st_mtime_ns for p in site.iterdir()}

    again = publish_workbook(master_copy, cfg)  # another day, the same content: the same data version
    assert again.status == "unchanged" and again.version is None and not again.writes
    assert latest_name(cfg) == res.version
    assert {p.name: p.stat().st_mtime_ns for p in site.iterdir()} == before, "nothing rewritten"
    assert "Без изменений" in render_text(again)


def test_change_adds_a_data_version_and_keeps_history(cfg: Config, make_workbook: Any, good_rows: list[dict[str, Any]],
                                                      good_info: dict[str, str]) -> None:
    first = publish_workbook(make_workbook(good_rows, good_info), cfg, today=PLACED)
    rows = changed_rows(good_rows, day=dt.date(2026, 11, 18))  # made on the 18th, placed on the 20th
    second = publish_workbook(make_workbook(rows, good_info), cfg, today=dt.date(2026, 11, 20))
    assert second.status == "published" and second.changes["changed"] == ["ТВ-02"]
    assert second.baseline == first.version and latest_name(cfg) == second.version
    site = cfg.output_dir / "site"
    assert (site / "data-20240226-structure-20240226.csv").is_file(), "the earlier data version stays"
    new = site / "data-20261120-structure-20240226.csv"
    assert "Электронная почта Службы (обновлено)" in {r["name"] for r in read_csv(new.read_bytes())}
    meta = {r["property"]: r["value"] for r in read_csv((site / META_NAME).read_bytes())}
    assert meta["data-20240226-structure-20240226"] == "data-20240226-structure-20240226.csv"
    assert meta["data-20261120-structure-20240226"] == "data-20261120-structure-20240226.csv"
    assert meta["modified"] == "20261120"
    assert meta["provenance"] == "Изменены сведения о точках ТВ-02."
    page = (site / PAGE_NAME).read_text(encoding="utf-8")
    assert "Электронная почта Службы (обновлено)" in page and "20.11.2024" not in page and "20.11.2026" in page
    assert len(store.list_versions(cfg.output_dir)) == 2
    # Publishing the same data again (a rerun) rewrites nothing, meta.csv included.
    third = publish_workbook(make_workbook(rows, good_info), cfg)
    assert third.status == "unchanged" and not third.writes


def test_refused_when_the_workbook_has_rule_errors(cfg: Config, make_workbook: Any, good_rows: list[dict[str, Any]],
                                                   good_info: dict[str, str]) -> None:
    rows = copy.deepcopy(good_rows)
    rows[0]["name"] = None
    res = publish_workbook(make_workbook(rows, good_info), cfg)
    assert res.status == "refused" and res.exit_code == 1
    assert res.errors and all(f.severity.value == "error" for f in res.errors)
    assert not (cfg.output_dir / "site").exists() and latest_name(cfg) is None
    text = render_text(res)
    assert "отклонена" in text and "Наименование точки взаимодействия" in text


def test_refused_when_nothing_is_included(cfg: Config, make_workbook: Any, good_rows: list[dict[str, Any]],
                                          good_info: dict[str, str]) -> None:
    rows = copy.deepcopy(good_rows)
    for r in rows:
        r["status"] = "на проверке"
        r["checked_by"] = None
    res = publish_workbook(make_workbook(rows, good_info), cfg)
    assert res.status == "refused" and res.exit_code == 1
    assert any("«включено»" in r.message for r in res.reasons)
    assert [r.code for r in res.reasons] == ["nothing_included"]


def test_dry_run_touches_nothing(cfg: Config, master_copy: Path) -> None:
    res = publish_workbook(master_copy, cfg, dry_run=True, today=PLACED)
    assert res.status == "dry_run" and res.exit_code == 0
    assert {a.name for a in res.actions if a.op == "write"} == SITE_FILES
    assert not cfg.output_dir.exists(), "a dry run writes nothing, not even a log"
    assert "Пробный запуск" in render_text(res)
    publish_workbook(master_copy, cfg, today=PLACED)
    again = publish_workbook(master_copy, cfg, dry_run=True)
    assert not again.writes and "ничего не изменилось бы" in render_text(again)


def state_rows(good_rows: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    """The i-th of a series of registers that each differ from the previous one (same dates, so the same files
    change every time: data, xlsx, meta.csv with its provenance, the page)."""
    rows = copy.deepcopy(good_rows)
    rows[i % len(rows)]["name"] = f"{rows[i % len(rows)]['name']} (редакция {i})"
    return rows


@pytest.mark.parametrize("kind", ["folder", "bundle"])
def test_killed_at_each_step_leaves_the_baseline_and_a_rerun_finishes(tmp_path: Path, kind: str, make_workbook: Any,
                                                                      good_rows: list[dict[str, Any]],
                                                                      good_info: dict[str, str]) -> None:
    cfg = Config(base_dir=tmp_path, targets={"t": TargetConfig(type=kind)})
    day0 = dt.date(2026, 1, 1)
    publish_workbook(make_workbook(good_rows, good_info), cfg, target="t", today=day0 - dt.timedelta(days=1))
    steps: list[str] = []
    publish_workbook(make_workbook(state_rows(good_rows, 0), good_info), cfg, target="t", on_step=recorder(steps),
                     today=day0)
    assert steps[0] == "check" and steps[-1] == "commit"
    for i, recorded in enumerate(steps, start=1):
        # Each state is placed on its own day: its data version is named by that day (issue 11 item 15).
        day = day0 + dt.timedelta(days=i)
        step = recorded.replace(f"{day0:%Y%m%d}", f"{day:%Y%m%d}")
        wb = make_workbook(state_rows(good_rows, i), good_info)
        before = latest_name(cfg)
        with pytest.raises(Killed):
            publish_workbook(wb, cfg, target="t", on_step=kill_at(step), today=day)
            pytest.fail(f"step {step} was not reached (steps: {steps})")
        assert latest_name(cfg) == before, f"LATEST moved although the run died at {step}"
        res = publish_workbook(wb, cfg, target="t", today=day)
        assert res.status == "published", step
        latest = store.latest(cfg.output_dir)
        assert latest is not None and latest.fingerprint == res.fingerprint


# ------------------------------------------------------------------------------------------------ bundle


def test_bundle_zip_with_instruction(tmp_path: Path, master_copy: Path) -> None:
    cfg = Config(base_dir=tmp_path, targets={"zip": TargetConfig(type="bundle")})
    res = publish_workbook(master_copy, cfg, target="zip", today=PLACED)
    assert res.status == "published"
    path = cfg.output_dir / "bundle" / "perechen-20240226.zip"
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert names == SITE_FILES | {"instruktsiya.txt"}
        text = z.read("instruktsiya.txt").decode("utf-8-sig")
    assert "fragment.html" in text and "Госвеб" in text and "1С-Битрикс" in text
    assert all(n.isascii() for n in names)
    again = publish_workbook(master_copy, cfg, target="zip")
    assert again.status == "unchanged"


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_json_and_exit_codes(tmp_path: Path, master_copy: Path, make_workbook: Any,
                                 good_rows: list[dict[str, Any]], good_info: dict[str, str]) -> None:
    toml = write_toml(tmp_path / "perechen.toml", '[publish]\ntarget = "site"\n\n[targets.site]\ntype = "folder"\n'
                                                  'path = "public"\n')
    runner = CliRunner()
    res = runner.invoke(main, ["publish", str(master_copy), "--config", str(toml), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "published" and doc["target"] == "site" and doc["rows"] == 8
    assert doc["version"] and doc["changed_on_site"] == len(SITE_FILES)
    assert (tmp_path / "public" / PAGE_NAME).is_file()
    res = runner.invoke(main, ["publish", str(master_copy), "--config", str(toml), "--dry-run"])
    assert res.exit_code == 0 and "ничего не изменилось бы" in res.stdout
    rows = copy.deepcopy(good_rows)
    rows[0]["kind"] = "неизвестный вид"
    bad = make_workbook(rows, good_info)
    res = runner.invoke(main, ["publish", str(bad), "--config", str(toml), "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["status"] == "refused" and doc["errors"][0]["code"] == "kind-value"
    assert doc["reason_codes"] == ["rule_errors"] and doc["reasons"][0].startswith("В книге ошибок: 1.")
    res = runner.invoke(main, ["publish", str(master_copy), "--config", str(toml), "--target", "nope"])
    assert res.exit_code == 2 and "нет цели публикации «nope»" in res.stderr
    assert "Traceback" not in res.output


def test_cli_failure_names_the_step(tmp_path: Path, master_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = write_toml(tmp_path / "perechen.toml", '[targets.dav]\ntype = "webdav"\nurl = "http://127.0.0.1:9/dav/"\n'
                                                  'user = "u"\npassword_env = "PERECHEN_TEST_DAV_PW"\n'
                                                  "timeout = 2\nretries = 1\nbackoff = 0\n")
    monkeypatch.setenv("PERECHEN_TEST_DAV_PW", "s3cret-Пароль")
    res = CliRunner().invoke(main, ["publish", str(master_copy), "--config", str(toml), "--target", "dav",
                                    "--format", "json"])
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["status"] == "failed" and doc["error"]["step"] == "чтение папки WebDAV"
    assert "недоступен" in doc["error"]["reason"] and "LATEST" in res.stderr
    assert "s3cret" not in res.output
    assert store.latest_name(load_config(toml).output_dir) is None


def test_cli_missing_password_env(tmp_path: Path, master_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = write_toml(tmp_path / "perechen.toml", '[targets.wp]\ntype = "wordpress"\nurl = "http://127.0.0.1:9/"\n'
                                                  'user = "editor"\npassword_env = "PERECHEN_TEST_NO_SUCH_VAR"\n')
    monkeypatch.delenv("PERECHEN_TEST_NO_SUCH_VAR", raising=False)
    res = CliRunner().invoke(main, ["publish", str(master_copy), "--config", str(toml), "--target", "wp"])
    assert res.exit_code == 2
    assert "PERECHEN_TEST_NO_SUCH_VAR" in res.stderr and "не задана" in res.stderr


def test_url_with_credentials_is_refused(tmp_path: Path, master_copy: Path) -> None:
    cfg = Config(base_dir=tmp_path, targets={"w": TargetConfig(type="webdav", url="http://u:pw@127.0.0.1:9/dav/")})
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, cfg, target="w")
    assert "не должно быть имени пользователя и пароля" in e.value.message and "pw@" not in e.value.message


def test_result_json_contract(cfg: Config, master_copy: Path) -> None:
    res: PublishResult = publish_workbook(master_copy, cfg, today=PLACED)
    doc = json.loads(res.to_json())
    assert set(doc) >= {"status", "target", "target_type", "location", "fingerprint", "rows", "updated", "baseline",
                        "version", "actions", "changed_on_site", "urls", "page_url", "changes", "errors", "warnings",
                        "seconds"}
    assert doc["updated"] == "2024-02-26" and doc["changes"]["added"][0] == "ТВ-01"


def test_tls_certificates_are_verified(tmp_path: Path, master_copy: Path, smtp_cert_dir: Path) -> None:
    """A self-signed HTTPS server is refused: verification stays on, the message says why."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_PROPFIND(self) -> None:
            self.send_response(207)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(smtp_cert_dir / "cert.pem", smtp_cert_dir / "key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/dav/"
        cfg = Config(base_dir=tmp_path, targets={"w": TargetConfig(type="webdav", url=url, timeout=5, retries=0)})
        with pytest.raises(PublishFailed) as e:
            publish_workbook(master_copy, cfg, target="w")
        assert "сертификат TLS" in e.value.reason and "не отключается" in e.value.reason
    finally:
        server.shutdown()
        server.server_close()


def test_a_damaged_old_version_is_skipped_with_a_warning(cfg: Config, make_workbook: Any,
                                                         good_rows: list[dict[str, Any]],
                                                         good_info: dict[str, str]) -> None:
    first = publish_workbook(make_workbook(good_rows, good_info), cfg)
    publish_workbook(make_workbook(changed_rows(good_rows), good_info), cfg)
    assert first.version is not None
    (cfg.output_dir / "published" / first.version / "manifest.json").write_text("{oops", encoding="utf-8")
    res = publish_workbook(make_workbook(changed_rows(good_rows, name="Третья редакция"), good_info), cfg)
    assert res.status == "published"
    assert any(first.version in w for w in res.warnings)
