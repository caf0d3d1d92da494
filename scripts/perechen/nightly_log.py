"""The nightly job's log ``output/logs/nightly.log``: rotating, in Russian (dates, levels), attached to the
"perechen" logger for the length of one run."""

from __future__ import annotations

import datetime as dt
import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import ClassVar

from .config import Config
from .text import ru_datetime

LOG_NAME = "nightly.log"


class RuLogFormatter(logging.Formatter):
    """nightly.log in Russian: «06.12.2026 01:00:03 сообщение [1234] perechen.nightly: …» (issue 11 item 20)."""

    LEVELS: ClassVar[dict[str, str]] = {"DEBUG": "отладка", "INFO": "сообщение", "WARNING": "внимание",
                                        "ERROR": "ошибка", "CRITICAL": "сбой"}

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelru)-8s [%(process)d] %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return ru_datetime(dt.datetime.fromtimestamp(record.created), seconds=True)  # dates in one place (text.py)

    def format(self, record: logging.LogRecord) -> str:
        record.levelru = self.LEVELS.get(record.levelname, record.levelname)
        return super().format(record)


class _Handler(RotatingFileHandler):
    previous_level = logging.NOTSET  # the "perechen" logger's level before the run, restored after it


def start_logging(log_dir: Path, config: Config) -> tuple[logging.Handler | None, Path | None]:
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_NAME
        h = _Handler(path, maxBytes=max(16, config.nightly.log_max_kb) * 1024,
                     backupCount=max(1, config.nightly.log_backups), encoding="utf-8")
    except OSError:
        return None, None
    h.setFormatter(RuLogFormatter())
    h.setLevel(logging.INFO)
    root = logging.getLogger("perechen")
    root.addHandler(h)
    h.previous_level = root.level
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return h, path


def stop_logging(handler: logging.Handler | None) -> None:
    if handler is None:
        return
    root = logging.getLogger("perechen")
    root.removeHandler(handler)
    if isinstance(handler, _Handler):
        root.setLevel(handler.previous_level)
    handler.close()
