"""Проверка HTML-страниц в настоящем браузере (headless Chromium + axe-core).

Тесты вызывают :func:`check_page` для файла или страницы на 127.0.0.1 и получают
:class:`PageResult`: нарушения доступности по axe-core, ошибки консоли, диалоги
(``alert`` и т. п.), запросы к внешним хостам, ``lang``, ``title``, признак
горизонтальной прокрутки при масштабе 200 % и значение ``window.__pwned``
(флаг, который выставляют подложенные в данные скрипты).

Каждый вызов запускает отдельный процесс ``node check_page.mjs`` со свежим пустым
профилем Chromium (``/usr/bin/chromium``, собственный браузер Playwright не
скачивается). Установка: ``.ci/install-browser.sh``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "HARNESS_DIR",
    "BrowserError",
    "PageResult",
    "browser_available",
    "check_layout",
    "check_page",
    "chromium_path",
    "require_browser",
]

HARNESS_DIR = Path(__file__).resolve().parent
SCRIPT = HARNESS_DIR / "check_page.mjs"
NODE_MODULES = HARNESS_DIR / "node_modules"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
SERIOUS_IMPACTS = frozenset({"serious", "critical"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
CALL_TIMEOUT_S = 60.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BrowserError(RuntimeError):
    """Браузер не смог проверить страницу (не запустился, страница не открылась и т. п.)."""


@dataclass(frozen=True)
class PageResult:
    """Итог проверки одной страницы."""

    url: str
    title: str
    lang: str | None
    #: нарушения axe-core: словари с ключами id, impact, help, helpUrl, tags, nodes
    violations: list[dict[str, Any]]
    #: сообщения console.error, исключения страницы, неудавшиеся запросы и ответы 4xx/5xx
    console_errors: list[str]
    #: сработавшие alert/confirm/prompt/beforeunload (и открытые окна, type="popup")
    dialogs: list[dict[str, str]]
    #: запросы не к 127.0.0.1/localhost/file:/data: — браузер их обрывает
    external_requests: list[str]
    #: нужна ли горизонтальная прокрутка при 200 % (окно 1280 px = 640 CSS px)
    horizontal_scroll_at_200: bool
    #: window.__pwned после загрузки (из любого фрейма); None, если не определён
    js_flag: Any
    status: int | None = None
    scroll_width_at_200: int = 0
    browser_version: str | None = None
    #: длительность этапов внутри node (launch_s, load_s, axe_s, screenshot_s, total_s)
    timings: dict[str, float] = field(default_factory=dict)
    #: полное время вызова из Python, с запуском node
    elapsed_s: float = 0.0

    @property
    def serious(self) -> list[dict[str, Any]]:
        """Только нарушения с impact serious или critical."""
        return [v for v in self.violations if v.get("impact") in SERIOUS_IMPACTS]

    def describe(self, violations: list[dict[str, Any]] | None = None) -> str:
        """Короткое описание нарушений для сообщений assert."""
        items = self.violations if violations is None else violations
        lines = []
        for v in items:
            targets = ", ".join(" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:5])
            lines.append(f"{v.get('impact')}: {v.get('id')} — {v.get('help')} [{targets}]")
        return "\n".join(lines) or "нарушений нет"


def chromium_path() -> str:
    """Путь к Chromium: переменная PERECHEN_CHROMIUM или /usr/bin/chromium."""
    return os.environ.get("PERECHEN_CHROMIUM") or DEFAULT_CHROMIUM


def browser_available() -> tuple[bool, str]:
    """Можно ли запустить проверку; при False — причина по-русски."""
    node = shutil.which("node")
    if node is None:
        return False, "не найден node (Node.js ≥ 20); запустите .ci/install-browser.sh"
    chromium = chromium_path()
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        return False, f"не найден Chromium ({chromium}); запустите .ci/install-browser.sh"
    for package in ("playwright-core", "axe-core"):
        if not (NODE_MODULES / package / "package.json").is_file():
            return False, (
                f"не установлен npm-пакет {package} в {HARNESS_DIR}; запустите .ci/install-browser.sh"
            )
    return True, f"Chromium {chromium}, node {node}"


def require_browser() -> None:
    """Для тестов: пропустить тест с причиной, если браузера нет.

    При PERECHEN_REQUIRE_SERVERS=1 (так запускает CI) отсутствие браузера — провал, а не пропуск.
    """
    import pytest

    ok, reason = browser_available()
    if ok:
        return
    if os.environ.get("PERECHEN_REQUIRE_SERVERS") == "1":
        pytest.fail(f"браузер обязателен (PERECHEN_REQUIRE_SERVERS=1), но {reason}", pytrace=False)
    pytest.skip(f"нет браузера: {reason}")


def _target_url(target: str | Path) -> str:
    if isinstance(target, Path):
        return target.resolve().as_uri()
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        if parts.hostname not in LOCAL_HOSTS:
            raise ValueError(f"проверять можно только страницы на 127.0.0.1/localhost, а не {target!r}")
        return target
    if parts.scheme == "file":
        return target
    return Path(target).resolve().as_uri()


def check_page(
    target: str | Path,
    *,
    screenshot: Path | None = None,
    zoom: float = 1.0,
    settle_ms: int = 150,
) -> PageResult:
    """Открыть страницу в headless Chromium и проверить её.

    target — путь к файлу или адрес http://127.0.0.1:…; screenshot — куда сохранить PNG
    всей страницы; zoom — масштаб браузера для axe-core и снимка (окно 1280×800,
    при zoom=2 это 640×400 CSS px); settle_ms — сколько ждать после события load,
    чтобы успели сработать отложенные обработчики.
    """
    if zoom <= 0:
        raise ValueError("zoom должен быть больше нуля")
    url = _target_url(target)
    if url.startswith("file:") and not Path(urlsplit(url).path).exists():
        raise FileNotFoundError(f"нет файла страницы: {target}")
    ok, reason = browser_available()
    if not ok:
        raise BrowserError(reason)
    options = {
        "url": url,
        "screenshot": str(Path(screenshot).resolve()) if screenshot is not None else None,
        "zoom": zoom,
        "chromium": chromium_path(),
        "settle_ms": settle_ms,
    }
    node = shutil.which("node") or "node"
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [node, str(SCRIPT), json.dumps(options)],
            cwd=HARNESS_DIR,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=CALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BrowserError(f"проверка страницы {url} не уложилась в {CALL_TIMEOUT_S:.0f} с") from exc
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise BrowserError(
            f"браузер не смог проверить {url} (код {proc.returncode}): "
            f"{_ANSI.sub('', proc.stderr).strip()[-2000:]}"
        )
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        raise BrowserError(f"непонятный ответ check_page.mjs для {url}: {proc.stdout[-500:]!r}") from exc
    return PageResult(
        url=data["url"],
        title=data["title"],
        lang=data["lang"],
        violations=data["violations"],
        console_errors=data["console_errors"],
        dialogs=data["dialogs"],
        external_requests=data["external_requests"],
        horizontal_scroll_at_200=data["horizontal_scroll_at_200"],
        js_flag=data["js_flag"],
        status=data.get("status"),
        scroll_width_at_200=data.get("scroll_width_at_200", 0),
        browser_version=data.get("browser_version"),
        timings=data.get("timings", {}),
        elapsed_s=elapsed,
    )


LAYOUT_SCRIPT = HARNESS_DIR / "check_layout.mjs"


def check_layout(
    target: str | Path,
    views: list[dict[str, Any]],
    *,
    root: str = ".perechen-register",
    code: str = ".perechen-code",
    cells: str = "th, td",
    axe_scope: str | None = None,
) -> dict[str, Any]:
    """Измерить вёрстку страницы в нескольких видах (ширина окна, масштаб, ширина контейнера).

    views — список словарей {"name", "zoom", "container", "screenshot"}; container (CSS px) сужает
    родителя ``root`` до этой ширины, как колонка темы CMS. Возвращает словарь check_layout.mjs:
    для каждого вида — выбранную вёрстку (table/cards), слова, разорванные внутри, слова шире ячейки,
    коды на нескольких строках, прокрутку документа и фрагмента, нарушения axe-core.
    """
    url = _target_url(target)
    ok, reason = browser_available()
    if not ok:
        raise BrowserError(reason)
    options = {"url": url, "views": views, "root": root, "code": code, "cells": cells,
               "axe_scope": axe_scope, "chromium": chromium_path()}
    node = shutil.which("node") or "node"
    try:
        proc = subprocess.run([node, str(LAYOUT_SCRIPT), json.dumps(options)], cwd=HARNESS_DIR,
                              capture_output=True, text=True, encoding="utf-8",
                              timeout=CALL_TIMEOUT_S * max(1, len(views)), check=False)
    except subprocess.TimeoutExpired as exc:
        raise BrowserError(f"измерение вёрстки {url} не уложилось во время") from exc
    if proc.returncode != 0:
        raise BrowserError(f"браузер не смог измерить {url} (код {proc.returncode}): "
                           f"{_ANSI.sub('', proc.stderr).strip()[-2000:]}")
    try:
        data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError) as exc:
        raise BrowserError(f"непонятный ответ check_layout.mjs для {url}: {proc.stdout[-500:]!r}") from exc
    for view in data["views"]:
        if "error" in view:
            raise BrowserError(f"{url}: {view['error']}")
    return data
