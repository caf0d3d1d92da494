"""The real-browser harness itself: axe-core, screenshots, payload detection, external requests."""

from __future__ import annotations

import html
import struct
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

try:  # tests/ is a package when the repository root is on sys.path …
    from tests.browser import (
        PageResult,
        browser_available,
        check_page,
        require_browser,
    )
except ImportError:  # … otherwise pytest puts tests/ itself on sys.path
    from browser import (  # type: ignore[no-redef, unused-ignore]
        PageResult,
        browser_available,
        check_page,
        require_browser,
    )

pytestmark = pytest.mark.browser

ACCESSIBLE = """<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Перечень точек взаимодействия</title>
<style>
  body {{ font-family: sans-serif; color: #111; background: #fff; max-width: 60rem; margin: 0 auto;
         padding: 1rem; }}
  table {{ border-collapse: collapse; width: 100%; }}
  th, td {{ border: 1px solid #444; padding: .25rem; text-align: left; overflow-wrap: anywhere; }}
</style>
</head>
<body>
<header><p>Служба гостехнадзора Калининградской области</p></header>
<main>
<h1>Перечень точек взаимодействия с клиентом</h1>
<p>Дата актуализации: 01.12.2025</p>
<table>
  <caption>Цифровые точки взаимодействия</caption>
  <thead><tr><th scope="col">Наименование</th><th scope="col">Вид</th></tr></thead>
  <tbody><tr><td>{cell}</td><td>Портал</td></tr></tbody>
</table>
<form><label for="q">Поиск</label> <input id="q" type="search" name="q"></form>
<p><a href="data-20251201-structure-20251201.csv">Открытые данные (CSV)</a></p>
</main>
</body>
</html>
"""

PAYLOAD = '<script>window.__pwned=1</script><img src="x" alt="" onerror="window.__pwned=2">'


def page(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def check(target: str | Path, *, screenshot: Path | None = None, zoom: float = 1.0) -> PageResult:
    require_browser()
    result = check_page(target, screenshot=screenshot, zoom=zoom)
    print(f"check_page({target}): {result.elapsed_s:.2f} s, node timings {result.timings}")
    return result


def test_browser_available_reports_reason() -> None:
    ok, reason = browser_available()
    assert isinstance(ok, bool)
    assert reason


def test_require_browser_skips_or_fails_by_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERECHEN_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("PERECHEN_REQUIRE_SERVERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium"):
        require_browser()
    monkeypatch.setenv("PERECHEN_REQUIRE_SERVERS", "1")
    with pytest.raises(pytest.fail.Exception, match="PERECHEN_REQUIRE_SERVERS"):
        require_browser()


def test_only_local_targets() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        check_page("https://example.com/")


def test_accessible_page_is_clean_and_screenshot_is_png(tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    result = check(page(tmp_path, "ok.html", ACCESSIBLE.format(cell="ЕПГУ")), screenshot=shot)
    assert result.serious == [], result.describe(result.serious)
    assert result.lang == "ru"
    assert result.title == "Перечень точек взаимодействия"
    assert result.console_errors == []
    assert result.dialogs == []
    assert result.external_requests == []
    assert result.js_flag is None
    assert result.horizontal_scroll_at_200 is False
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1280 and height >= 800


def test_screenshot_at_200_percent_zoom(tmp_path: Path) -> None:
    shot = tmp_path / "zoom.png"
    result = check(page(tmp_path, "ok.html", ACCESSIBLE.format(cell="ЕПГУ")), screenshot=shot, zoom=2.0)
    assert result.serious == [], result.describe(result.serious)
    width, _ = struct.unpack(">II", shot.read_bytes()[16:24])
    assert width == 1280  # 640 CSS px at device scale 2


def test_inaccessible_page_gives_violations(tmp_path: Path) -> None:
    bad = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Плохо</title></head>"
        "<body><p>Поиск</p><input type='text'><img src='data:image/gif;base64,"
        "R0lGODlhAQABAAAAACw=' width='1' height='1'>"
        "<table style='width:1200px'><tr><td>широкая таблица</td></tr></table></body></html>"
    )
    result = check(page(tmp_path, "bad.html", bad))
    ids = {v["id"] for v in result.violations}
    assert {"html-has-lang", "label", "image-alt"} <= ids, result.describe()
    assert {v["id"] for v in result.serious} >= {"html-has-lang", "label"}
    assert all(v["nodes"] and v["help"] for v in result.violations)
    assert result.lang is None
    assert result.horizontal_scroll_at_200 is True
    assert result.scroll_width_at_200 > 640


def test_planted_script_is_detected(tmp_path: Path) -> None:
    planted = ACCESSIBLE.format(cell=PAYLOAD + '<script>alert("XSS")</script>')
    result = check(page(tmp_path, "planted.html", planted))
    assert result.js_flag in (1, 2)
    assert result.dialogs == [{"type": "alert", "message": "XSS"}]


def test_escaped_payload_never_runs(tmp_path: Path) -> None:
    escaped = ACCESSIBLE.format(cell=html.escape(PAYLOAD + '<script>alert("XSS")</script>'))
    result = check(page(tmp_path, "escaped.html", escaped))
    assert result.js_flag is None
    assert result.dialogs == []
    assert result.console_errors == []
    assert result.serious == [], result.describe(result.serious)


def test_external_resources_are_reported_and_blocked(tmp_path: Path) -> None:
    text = ACCESSIBLE.format(cell="ЕПГУ").replace(
        "</head>",
        '<link rel="stylesheet" href="https://cdn.example.org/site.css">'
        '<script src="http://203.0.113.7/counter.js"></script></head>',
    )
    result = check(page(tmp_path, "external.html", text))
    assert sorted(result.external_requests) == [
        "http://203.0.113.7/counter.js",
        "https://cdn.example.org/site.css",
    ]
    # blocked loads appear only in external_requests, not as console noise
    assert result.console_errors == []
    assert result.elapsed_s < 10


@pytest.fixture
def local_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static site on 127.0.0.1 sending a strict Content-Security-Policy."""

    class Handler(SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            self.send_header("Content-Security-Policy", "default-src 'self'; script-src 'none'")
            super().end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_http_page_with_csp_blocks_payload_but_axe_still_runs(local_site: tuple[str, Path]) -> None:
    base, root = local_site
    page(root, "index.html", ACCESSIBLE.format(cell=PAYLOAD).replace('lang="ru"', ""))
    result = check(f"{base}/index.html")
    assert result.status == 200
    assert result.js_flag is None  # CSP stopped the planted script
    assert any("Content Security Policy" in e for e in result.console_errors), result.console_errors
    # axe-core is evaluated through the DevTools protocol, so CSP does not stop it
    assert "html-has-lang" in {v["id"] for v in result.serious}
    assert result.external_requests == []
