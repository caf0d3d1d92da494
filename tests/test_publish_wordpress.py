"""`perechen publish` to a real WordPress (Debian's package, php -S, MariaDB on 127.0.0.1).

Publish; republish unchanged (nothing written: no revision, no attachment); change a row (page and files
replaced, no duplicates; the public page shows it); faults (server down, 500s before and after WordPress did
the work, timeouts, a stripped Authorization header) and the process killed at every step — the baseline
never moves on failure and the next run leaves no duplicates; the password never shows.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from perechen import store
from perechen.cli import main
from perechen.config import Config, TargetConfig
from perechen.opendata import META_NAME, XLSX_NAME, read_csv
from perechen.publish import publish_workbook
from perechen.targets.base import PublishFailed
from tests.test_publish import Killed, kill_at, recorder, state_rows

pytestmark = pytest.mark.servers

PW_ENV = "PERECHEN_TEST_WP_PASSWORD"
SLUG = "perechen-tochek-vzaimodeystviya"
PLACED = dt.date(2024, 2, 26)  # the first placement: data-20240226 (versions are named by placement, issue 11 item 15)
FILES_V1 = {"data-20240226-structure-20240226.csv", "structure-20240226.csv", XLSX_NAME, META_NAME}
ROOT = Path(__file__).resolve().parent.parent


def wp_target(wp: Any, **kw: Any) -> TargetConfig:
    base: dict[str, Any] = {"type": "wordpress", "url": wp.url, "user": wp.user, "password_env": PW_ENV,
                            "timeout": 5.0, "retries": 2, "backoff": 0.05}
    base.update(kw)
    return TargetConfig(**base)


@pytest.fixture
def wp_cfg(tmp_path: Path, wordpress: Any, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv(PW_ENV, wordpress.app_password)
    return Config(base_dir=tmp_path, targets={"wp": wp_target(wordpress)})


def media_names(wp: Any) -> Counter[str]:
    return Counter(str(m["source_url"]).rsplit("/", 1)[-1] for m in wp.list_media())


def assert_no_duplicates(wp: Any, expected: set[str]) -> None:
    names = media_names(wp)
    assert set(names) == expected and all(n == 1 for n in names.values()), names
    files = [p.name for p in wp.upload_files()]
    assert sorted(files) == sorted(expected), files
    pages = wp.list_pages(slug=SLUG)
    assert len(pages) == 1 and pages[0]["status"] == "publish", pages


def public_page(wp: Any) -> str:
    page = wp.list_pages(slug=SLUG)[0]
    r = wp.get(page["link"])
    assert r.status_code == 200
    return str(r.text)


def writes(wp: Any) -> list[tuple[str, str]]:
    return [(r["method"], r["uri"]) for r in wp.writes_log()]


def test_publish_republish_change(wp_cfg: Config, wordpress: Any, make_workbook: Any,
                                  good_rows: list[dict[str, Any]], good_info: dict[str, str]) -> None:
    wp = wordpress
    wb = make_workbook(good_rows, good_info)
    t0 = time.monotonic()
    res = publish_workbook(wb, wp_cfg, target="wp", today=PLACED)
    first_s = time.monotonic() - t0
    assert res.status == "published"
    assert_no_duplicates(wp, FILES_V1)
    assert Counter(m for m, _ in writes(wp)) == Counter({"POST": 5})
    assert all(r["uri"].startswith("/wp-json/") for r in wp.requests_log() if "rest_route" in r["uri"]
               or "/wp-json/" in r["uri"]), "the API root came from the Link header"
    for m in wp.list_media():
        assert str(m["source_url"]).isascii()
        assert any("а" <= ch <= "я" for ch in m["title"]["raw"].lower()), m["title"]["raw"]
        assert "perechen-publish" in m["description"]["raw"]
    html = public_page(wp)
    assert good_info["agency"] in html and "Дата актуализации" in html and "26.02.2024" in html
    assert res.page_url == wp.list_pages(slug=SLUG)[0]["link"]
    page_id = wp.list_pages(slug=SLUG)[0]["id"]
    revisions = len(wp.page_revisions(page_id))
    version1 = res.version
    assert store.latest_name(wp_cfg.output_dir) == version1

    # Unchanged: nothing written at all.
    wp.clear_request_log()
    t0 = time.monotonic()
    again = publish_workbook(wb, wp_cfg, target="wp", today=PLACED)
    unchanged_s = time.monotonic() - t0
    assert again.status == "unchanged" and writes(wp) == []
    assert len(wp.page_revisions(page_id)) == revisions
    assert_no_duplicates(wp, FILES_V1)
    assert store.latest_name(wp_cfg.output_dir) == version1

    # One row changed, placed on 20.11.2026: a new data version, the rest replaced; nothing duplicated.
    wp.clear_request_log()
    rows = copy.deepcopy(good_rows)
    rows[1]["name"] = "Электронная почта Службы: gtn@example.test"
    rows[1]["changed_on"] = dt.date(2026, 11, 18)
    t0 = time.monotonic()
    changed = publish_workbook(make_workbook(rows, good_info), wp_cfg, target="wp", today=dt.date(2026, 11, 20))
    changed_s = time.monotonic() - t0
    assert changed.status == "published" and changed.changes["changed"] == ["ТВ-02"]
    files_v2 = FILES_V1 | {"data-20261120-structure-20240226.csv"}
    assert_no_duplicates(wp, files_v2)
    ops = Counter(a.op for a in changed.writes)
    assert ops == Counter({"replace": 2, "upload": 1, "update_page": 1}), changed.writes  # meta.csv, xlsx; data
    assert {a.name for a in changed.actions if a.op == "keep"} == {"data-20240226-structure-20240226.csv",
                                                                     "structure-20240226.csv"}
    assert len(wp.page_revisions(page_id)) == revisions + 1
    html = public_page(wp)
    assert "Электронная почта Службы: gtn@example.test" in html and "20.11.2026" in html
    meta_url = changed.urls[META_NAME]
    meta = {r["property"]: r["value"] for r in read_csv(wp.get(meta_url).content)}
    assert meta["data-20240226-structure-20240226"].startswith(wp.url + "/wp-content/uploads/")
    assert meta["data-20261120-structure-20240226"] == changed.urls["data-20261120-structure-20240226.csv"]
    assert store.latest_name(wp_cfg.output_dir) == changed.version != version1

    # Another edit placed the same day: a data version is never overwritten (issue 11 item 15; it was replaced in
    # place before) — the second version of the day carries the time, the earlier one keeps its URL.
    wp.clear_request_log()
    rows[1]["name"] = "Электронная почта Службы (ред. 3)"
    third = publish_workbook(make_workbook(rows, good_info), wp_cfg, target="wp", today=dt.date(2026, 11, 20),
                             now=lambda: dt.datetime(2026, 11, 20, 15, 0, 0))
    assert third.urls["data-20261120-structure-20240226.csv"] == changed.urls["data-20261120-structure-20240226.csv"]
    assert_no_duplicates(wp, files_v2 | {"data-20261120T150000-structure-20240226.csv"})
    assert "Электронная почта Службы (ред. 3)" in public_page(wp)
    print(f"\nWordPress publish: first {first_s:.2f} s, unchanged {unchanged_s:.2f} s, one row changed "
          f"{changed_s:.2f} s")


def test_dry_run_reads_only(wp_cfg: Config, wordpress: Any, make_workbook: Any, good_rows: list[dict[str, Any]],
                            good_info: dict[str, str]) -> None:
    first = publish_workbook(make_workbook(good_rows, good_info), wp_cfg, target="wp", dry_run=True, today=PLACED)
    assert Counter(a.op for a in first.writes) == Counter({"upload": 4, "create_page": 1})
    assert wordpress.writes_log() == [] and not wordpress.list_media()
    publish_workbook(make_workbook(good_rows, good_info), wp_cfg, target="wp", today=PLACED)
    wordpress.clear_request_log()
    rows = copy.deepcopy(good_rows)
    rows[3]["name"] = "Система учёта заявок (новая)"
    res = publish_workbook(make_workbook(rows, good_info), wp_cfg, target="wp", dry_run=True,
                           today=dt.date(2026, 11, 20))
    assert res.status == "dry_run" and res.exit_code == 0
    # A new data version is uploaded beside the old one, never over it (issue 11 item 15).
    assert {(a.op, a.name) for a in res.writes} == {("upload", "data-20261120-structure-20240226.csv"),
                                                    ("replace", XLSX_NAME), ("replace", META_NAME),
                                                    ("update_page", SLUG)}
    assert wordpress.writes_log() == []
    assert "Система учёта заявок (новая)" not in public_page(wordpress)


def test_page_slug_taken_is_found_again(wp_cfg: Config, wordpress: Any, master_copy: Path) -> None:
    """An attachment already owns the slug: WordPress names our page «…-2»; reruns find it, never a second one."""
    r = wordpress.rest("POST", "wp/v2/media", files={"file": ("x.csv", b"a,b\r\n", "text/csv")},
                       data={"title": "x", "slug": SLUG})
    assert r.status_code == 201 and r.json()["slug"] == SLUG
    first = publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert first.page_url and first.page_url.rstrip("/").endswith(SLUG + "-2")
    assert any("уже занят" in w for w in first.warnings)
    wordpress.clear_request_log()
    again = publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert again.status == "unchanged" and writes(wordpress) == []
    assert len([p for p in wordpress.list_pages()]) == 1


def test_api_found_through_rest_route_fallback(wp_cfg: Config, wordpress: Any, master_copy: Path) -> None:
    rule = wordpress.inject_fault(r"^/wp-json/", 404, count=None)
    res = publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert res.status == "published"
    assert wordpress.fault_hits(rule) >= 1
    api = [r["uri"] for r in wordpress.requests_log() if r["fault"] is None and "rest_route" in r["uri"]]
    assert api and not [r for r in wordpress.requests_log() if r["fault"] is None and "/wp-json/" in r["uri"]]
    assert_no_duplicates(wordpress, FILES_V1)


@pytest.mark.parametrize("route,after", [("wp/v2/media", False), ("wp/v2/media", True), ("wp/v2/pages", True)])
def test_500_once_is_retried_without_duplicates(wp_cfg: Config, wordpress: Any, master_copy: Path, route: str,
                                                after: bool) -> None:
    rule = wordpress.inject_fault(route, 500, count=1, method="POST", after=after)
    res = publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert res.status == "published" and wordpress.fault_hits(rule) == 1
    assert_no_duplicates(wordpress, FILES_V1)


def test_persistent_500_fails_then_rerun_completes(wp_cfg: Config, wordpress: Any, master_copy: Path) -> None:
    wordpress.inject_fault("wp/v2/pages", 500, count=None, method="POST")
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert e.value.step == "создание страницы" and "500" in e.value.reason and "Попыток: 3" in e.value.reason
    assert store.latest_name(wp_cfg.output_dir) is None
    assert set(media_names(wordpress)) == FILES_V1, "the files went up before the page"
    wordpress.clear_faults()
    wordpress.clear_request_log()
    res = publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert res.status == "published"
    assert [a.op for a in res.writes] == ["create_page"]
    assert writes(wordpress) == [("POST", "/wp-json/wp/v2/pages")]
    assert_no_duplicates(wordpress, FILES_V1)


def test_server_down_then_back(wp_cfg: Config, wordpress: Any, master_copy: Path) -> None:
    wordpress.stop_web()
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert e.value.step == "подключение к WordPress" and "недоступен" in e.value.reason
    assert store.latest_name(wp_cfg.output_dir) is None
    wordpress.start_web()
    assert publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED).status == "published"
    assert_no_duplicates(wordpress, FILES_V1)


def test_timeouts(tmp_path: Path, wordpress: Any, master_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PW_ENV, wordpress.app_password)
    cfg = Config(base_dir=tmp_path, targets={"wp": wp_target(wordpress, timeout=1.0, retries=2)})
    # A slow upload: the answer times out but WordPress finishes it — it must not be uploaded twice.
    rule = wordpress.inject_delay(r"wp/v2/media", 1.2, count=1, method="POST")
    res = publish_workbook(master_copy, cfg, target="wp", today=PLACED)
    assert res.status == "published" and wordpress.fault_hits(rule) == 1
    time.sleep(0.5)
    assert_no_duplicates(wordpress, FILES_V1)
    # A server that never answers in time: bounded retries, then the step is named.
    wordpress.inject_delay(r"wp/v2/pages", 3.0, count=None, method="GET")
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, cfg, target="wp", today=PLACED)
    assert "не ответил за 1 с" in e.value.reason and e.value.step == "поиск страницы"
    assert store.latest_name(cfg.output_dir) == res.version


def test_stripped_authorization_header(wp_cfg: Config, wordpress: Any, master_copy: Path) -> None:
    wordpress.strip_authorization(True)
    with pytest.raises(PublishFailed) as e:
        publish_workbook(master_copy, wp_cfg, target="wp", today=PLACED)
    assert e.value.step == "подключение к WordPress"
    assert "401" in e.value.reason and "Authorization" in e.value.reason and "CGIPassAuth" in e.value.reason
    assert wordpress.app_password not in e.value.message
    assert not wordpress.list_media() and not wordpress.list_pages()


def test_password_never_appears(tmp_path: Path, wordpress: Any, master_copy: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    password = wordpress.app_password
    monkeypatch.setenv(PW_ENV, password)
    monkeypatch.chdir(tmp_path)
    toml = tmp_path / "perechen.toml"
    toml.write_text(f'[targets.wp]\ntype = "wordpress"\nurl = "{wordpress.url}"\nuser = "{wordpress.user}"\n'
                    f'password_env = "{PW_ENV}"\ntimeout = 2\nretries = 1\nbackoff = 0\n', encoding="utf-8")
    outputs: list[str] = []
    runner = CliRunner()

    def run(*args: str) -> int:
        r = runner.invoke(main, ["publish", str(master_copy), "--config", str(toml), "--target", "wp", *args])
        outputs.extend([r.stdout, r.stderr, repr(r.exception)])
        return r.exit_code

    wordpress.strip_authorization(True)
    assert run() == 2 and run("--format", "json") == 2
    wordpress.clear_faults()
    wordpress.inject_fault("wp/v2/media", 500, count=None, method="POST")
    assert run("--format", "json") == 2
    wordpress.clear_faults()
    wordpress.stop_web()
    assert run() == 2
    wordpress.start_web()
    assert run("--dry-run") == 0 and run() == 0 and run("--format", "json") == 0
    monkeypatch.setenv(PW_ENV, password[:-4] + "abcd")
    assert run() == 2
    try:
        monkeypatch.setenv(PW_ENV, password)
        publish_workbook(master_copy, Config(base_dir=tmp_path, targets={"wp": wp_target(wordpress, retries=0)}),
                         target="wp", on_step=kill_at("wordpress:verify"))
    except Killed as e:
        outputs.append(repr(e))
    compact = password.replace(" ", "")
    for text in outputs:
        assert password not in text and compact not in text
    scanned = 0
    for p in tmp_path.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            assert password.encode() not in data and compact.encode() not in data, p
            scanned += 1
    assert scanned > 5 and list((tmp_path / "output" / "logs").glob("publish-*.log"))


@pytest.mark.slow
def test_killed_at_each_step(wp_cfg: Config, wordpress: Any, make_workbook: Any, good_rows: list[dict[str, Any]],
                             good_info: dict[str, str]) -> None:
    """Die at every step that touches WordPress or the store (check/render are covered by test_publish)."""
    wp = wordpress
    day0 = dt.date(2026, 1, 1)
    publish_workbook(make_workbook(good_rows, good_info), wp_cfg, target="wp", today=PLACED)
    steps: list[str] = []
    publish_workbook(make_workbook(state_rows(good_rows, 0), good_info), wp_cfg, target="wp", on_step=recorder(steps),
                     today=day0)
    assert {"wordpress:connect", "wordpress:page:update", "wordpress:verify", "commit"} <= set(steps)
    assert [s for s in steps if s.startswith("wordpress:delete:")], steps
    files = FILES_V1 | {f"data-{day0:%Y%m%d}-structure-20240226.csv"}
    for i, recorded in enumerate([s for s in steps if s not in ("check", "render")], start=1):
        # Each state is placed on its own day, so it is its own data version (issue 11 item 15).
        day = day0 + dt.timedelta(days=i)
        step = recorded.replace(f"{day0:%Y%m%d}", f"{day:%Y%m%d}")
        wb = make_workbook(state_rows(good_rows, i), good_info)
        before = store.latest_name(wp_cfg.output_dir)
        with pytest.raises(Killed):
            publish_workbook(wb, wp_cfg, target="wp", on_step=kill_at(step), today=day)
            pytest.fail(f"step {step} not reached")
        assert store.latest_name(wp_cfg.output_dir) == before, step
        res = publish_workbook(wb, wp_cfg, target="wp", today=day)
        assert res.status == "published", step
        files.add(f"data-{day:%Y%m%d}-structure-20240226.csv")
        assert_no_duplicates(wp, files)
        assert f"(редакция {i})" in public_page(wp)


CHILD = """
import os, sys
from pathlib import Path
from perechen.config import load_config
from perechen.publish import publish_workbook

def hook(step):
    if step == sys.argv[3]:
        os._exit(137)  # like SIGKILL: no cleanup, no finally

publish_workbook(Path(sys.argv[1]), load_config(Path(sys.argv[2])), target="wp", on_step=hook)
sys.exit(0)
"""


@pytest.mark.parametrize("step", ["wordpress:upload:meta.csv", "wordpress:verify"])
def test_process_killed_between_upload_and_verification(tmp_path: Path, wordpress: Any, make_workbook: Any,
                                                         good_rows: list[dict[str, Any]], good_info: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    monkeypatch.setenv(PW_ENV, wordpress.app_password)
    toml = tmp_path / "perechen.toml"
    toml.write_text(f'[targets.wp]\ntype = "wordpress"\nurl = "{wordpress.url}"\nuser = "{wordpress.user}"\n'
                    f'password_env = "{PW_ENV}"\n', encoding="utf-8")
    wb1 = make_workbook(good_rows, good_info)
    wb2 = make_workbook(state_rows(good_rows, 1), good_info)
    cfg = Config(base_dir=tmp_path, targets={"wp": wp_target(wordpress)})
    first = publish_workbook(wb1, cfg, target="wp", today=PLACED)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "scripts"), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", CHILD, str(wb2), str(toml), step], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 137, done.stderr[-2000:]
    assert store.latest_name(cfg.output_dir) == first.version, "the baseline did not move"
    wordpress.clear_request_log()
    res = publish_workbook(wb2, cfg, target="wp")
    assert res.status == "published" and res.version != first.version
    if step == "wordpress:verify":
        assert writes(wordpress) == [], "everything was already up: the rerun only verifies and records"
    assert_no_duplicates(wordpress, FILES_V1 | {f"data-{res.updated:%Y%m%d}-structure-20240226.csv"})
    assert "(редакция 1)" in public_page(wordpress)
    doc = json.loads((cfg.output_dir / "published" / res.version / "manifest.json").read_text(encoding="utf-8"))
    assert doc["target"] == "wp" and doc["page_url"] == res.page_url


@pytest.mark.browser
def test_public_page_in_a_real_browser(wp_cfg: Config, wordpress: Any, make_workbook: Any,
                                       good_rows: list[dict[str, Any]], good_info: dict[str, str],
                                       tmp_path: Path) -> None:
    from tests.browser import check_page, require_browser

    require_browser()
    rows = copy.deepcopy(good_rows)
    rows[0]["name"] = "<script>window.__pwned = 'script'</script>"
    rows[1]["name"] = '<img src="x" onerror="window.__pwned = \'onerror\'">'
    rows[2]["name"] = "[embed]http://example.com/x[/embed] [gallery]"
    res = publish_workbook(make_workbook(rows, good_info), wp_cfg, target="wp")
    assert res.status == "published" and res.page_url
    result = check_page(res.page_url, zoom=2.0, screenshot=tmp_path / "wp-page.png")
    assert result.js_flag is None, f"an injected script ran on the public page: {result.js_flag!r}"
    assert not result.dialogs
    ours = [v for v in result.serious
            if any("perechen-register" in " ".join(map(str, n.get("target", []))) or
                   "perechen-register" in str(n.get("html", "")) for n in v.get("nodes", []))]
    assert not ours, result.describe(ours)
    html = public_page(wordpress)
    assert "&lt;script&gt;" in html and "[gallery]" not in html and "&#91;gallery&#93;" in html
