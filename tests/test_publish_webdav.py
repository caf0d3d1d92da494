"""`perechen publish` to a real WebDAV server (wsgidav on 127.0.0.1): idempotence, faults, crashes, secrets."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen import store
from perechen.cli import main
from perechen.config import Config, TargetConfig
from perechen.opendata import PAGE_NAME
from perechen.publish import publish_workbook
from perechen.targets.base import PublishFailed
from tests.test_publish import SITE_FILES, Killed, kill_at, recorder, state_rows

pytestmark = pytest.mark.servers

PW_ENV = "PERECHEN_TEST_WEBDAV_PASSWORD"
FOLDER = "sites/perechen/"


@pytest.fixture
def dav_cfg(tmp_path: Path, webdav: Any, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv(PW_ENV, webdav.password)
    return Config(base_dir=tmp_path, targets={"dav": TargetConfig(
        type="webdav", url=webdav.url + FOLDER, user=webdav.user, password_env=PW_ENV, timeout=2, retries=2,
        backoff=0.05)})


def site_files(webdav: Any) -> dict[str, bytes]:
    return {k[len(FOLDER):]: v for k, v in webdav.files().items() if k.startswith(FOLDER)}


def writes(webdav: Any) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in webdav.requests_log() if r["method"] not in ("GET", "HEAD", "PROPFIND")]


def test_publish_republish_change(dav_cfg: Config, webdav: Any, make_workbook: Any, good_rows: list[dict[str, Any]],
                                  good_info: dict[str, str]) -> None:
    wb = make_workbook(good_rows, good_info)
    res = publish_workbook(wb, dav_cfg, target="dav", today=dt.date(2024, 2, 26))
    assert res.status == "published"
    assert set(site_files(webdav)) == SITE_FILES, "MKCOL made the folders, every file is there"
    assert ("MKCOL", "/dav/sites/") in writes(webdav) and ("MKCOL", "/dav/sites/perechen/") in writes(webdav)
    assert res.page_url == webdav.url + FOLDER + PAGE_NAME

    webdav.clear_request_log()
    again = publish_workbook(wb, dav_cfg, target="dav")
    assert again.status == "unchanged" and writes(webdav) == [], "nothing written on a rerun"

    webdav.clear_request_log()
    rows = copy.deepcopy(good_rows)
    rows[2]["name"] = "АРМ ГС (новая редакция)"
    changed = publish_workbook(make_workbook(rows, good_info), dav_cfg, target="dav", today=dt.date(2026, 11, 20))
    assert changed.status == "published"
    put = {p.rsplit("/", 1)[-1] for m, p in writes(webdav) if m == "PUT"}
    # A new data version beside the old one (issue 11 item 15; the old file was overwritten before).
    assert put == {"data-20261120-structure-20240226.csv", "perechen-tochek-vzaimodeystviya.xlsx", "meta.csv",
                   "datapackage.json", "fragment.html", PAGE_NAME}
    assert "АРМ ГС (новая редакция)" in site_files(webdav)[PAGE_NAME].decode("utf-8")
    assert set(site_files(webdav)) == SITE_FILES | {"data-20261120-structure-20240226.csv"}, "no stray copies"
    assert store.latest_name(dav_cfg.output_dir) == changed.version


def test_dry_run_reads_only(dav_cfg: Config, webdav: Any, master_copy: Path) -> None:
    res = publish_workbook(master_copy, dav_cfg, target="dav", dry_run=True)
    assert res.status == "dry_run"
    assert [a.op for a in res.writes] == ["mkdir", "mkdir"] + ["upload"] * len(SITE_FILES)
    assert writes(webdav) == [] and webdav.files() == {}


def test_server_down_then_back(dav_cfg: Config, webdav: Any, master_copy: Path) -> None:
    webdav.stop()
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, dav_cfg, target="dav")
    assert e.value.step == "чтение папки WebDAV" and "недоступен" in e.value.reason
    assert "Попыток: 3" in e.value.message
    assert store.latest_name(dav_cfg.output_dir) is None
    webdav.start_server()
    assert publish_workbook(master_copy, dav_cfg, target="dav").status == "published"


def test_500_is_retried(dav_cfg: Config, webdav: Any, master_copy: Path) -> None:
    rule = webdav.inject_fault(r"perechen/meta\.csv$", 500, count=2, method="PUT")
    res = publish_workbook(master_copy, dav_cfg, target="dav", today=dt.date(2024, 2, 26))
    assert res.status == "published" and webdav.fault_hits(rule) == 2
    assert set(site_files(webdav)) == SITE_FILES


def test_persistent_500_fails_naming_the_file_then_rerun(dav_cfg: Config, webdav: Any, master_copy: Path) -> None:
    first = publish_workbook(master_copy, dav_cfg, target="dav")
    rows_book = master_copy  # same data: make the site differ instead
    (webdav.root / FOLDER / "meta.csv").write_bytes(b"broken")
    webdav.inject_fault(r"perechen/meta\.csv$", 500, count=None, method="PUT")
    with pytest.raises(PublishFailed) as e:
        publish_workbook(rows_book, dav_cfg, target="dav")
    assert e.value.step == "загрузка файла meta.csv" and "500" in e.value.reason
    assert store.latest_name(dav_cfg.output_dir) == first.version
    webdav.clear_faults()
    res = publish_workbook(rows_book, dav_cfg, target="dav")
    assert [a.name for a in res.writes] == ["meta.csv"]


def test_timeout_is_bounded(dav_cfg: Config, webdav: Any, master_copy: Path) -> None:
    webdav.inject_delay(r"perechen/index\.html$", 3.0, count=None, method="PUT")
    cfg = dav_cfg.model_copy(deep=True)
    cfg.targets["dav"].timeout = 0.5
    cfg.targets["dav"].retries = 1
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, cfg, target="dav")
    assert e.value.step == "загрузка файла index.html" and "не ответил за 0.5 с" in e.value.reason
    assert store.latest_name(cfg.output_dir) is None
    webdav.clear_faults()
    assert publish_workbook(master_copy, cfg, target="dav").status == "published"


def test_wrong_password_is_never_shown(dav_cfg: Config, webdav: Any, master_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    secret = "неверный-Пароль-42"
    monkeypatch.setenv(PW_ENV, secret)
    toml = tmp_path / "perechen.toml"
    toml.write_text(f'[targets.dav]\ntype = "webdav"\nurl = "{webdav.url}{FOLDER}"\nuser = "{webdav.user}"\n'
                    f'password_env = "{PW_ENV}"\nretries = 0\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["publish", str(master_copy), "--config", str(toml), "--target", "dav"])
    assert res.exit_code == 2
    assert "401" in res.stderr and PW_ENV in res.stderr
    assert secret not in res.output
    for p in (tmp_path / "output").rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p


def test_killed_at_each_step(dav_cfg: Config, webdav: Any, make_workbook: Any, good_rows: list[dict[str, Any]],
                             good_info: dict[str, str]) -> None:
    day0 = dt.date(2026, 1, 1)
    publish_workbook(make_workbook(good_rows, good_info), dav_cfg, target="dav", today=day0 - dt.timedelta(days=1))
    steps: list[str] = []
    publish_workbook(make_workbook(state_rows(good_rows, 0), good_info), dav_cfg, target="dav",
                     on_step=recorder(steps), today=day0)
    assert "webdav:verify" in steps and steps[-1] == "commit"
    for i, recorded in enumerate(steps, start=1):
        # Each state is placed on its own day: its own data version (issue 11 item 15).
        day = day0 + dt.timedelta(days=i)
        step = recorded.replace(f"{day0:%Y%m%d}", f"{day:%Y%m%d}")
        wb = make_workbook(state_rows(good_rows, i), good_info)
        before = store.latest_name(dav_cfg.output_dir)
        with pytest.raises(Killed):
            publish_workbook(wb, dav_cfg, target="dav", on_step=kill_at(step), today=day)
            pytest.fail(f"step {step} not reached")
        assert store.latest_name(dav_cfg.output_dir) == before, step
        res = publish_workbook(wb, dav_cfg, target="dav", today=day)
        assert res.status == "published"
        data = {n for n in site_files(webdav) if n.startswith("data-")}
        assert set(site_files(webdav)) - data == {n for n in SITE_FILES if not n.startswith("data-")}
        assert f"data-{day:%Y%m%d}-structure-20240226.csv" in data
        assert f"(редакция {i})" in site_files(webdav)[PAGE_NAME].decode("utf-8")
