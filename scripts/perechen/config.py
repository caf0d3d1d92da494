"""perechen.toml: where the workbook is, where output goes, publication targets, mail.

Secrets never live here: a setting ending in ``_env`` names the environment variable that holds it.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .models import FileError, RulesError
from .remote import RemoteSettings, cache_file, is_url

CONFIG_NAME = "perechen.toml"
DEFAULT_WORKBOOK = "workbook/perechen.xlsx"  # relative to the folder of perechen.toml, or the current folder
CONFIG_ENV = "PERECHEN_CONFIG"  # the settings file when --config is not given (scheduled tasks)


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetConfig(_M):
    type: str = "folder"  # folder | wordpress | webdav | bundle
    path: str | None = None  # folder / bundle
    url: str | None = None  # wordpress site root / webdav folder URL
    user: str | None = None
    password_env: str | None = None
    page_slug: str = "perechen-tochek-vzaimodeystviya"
    page_title: str = "Перечень точек взаимодействия с клиентом"
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5  # seconds before the first retry; doubles with each retry
    verify_tls: bool = True
    # folder / webdav / bundle: the public address where the site serves these files (meta.csv names them by it)
    public_url: str | None = None


class PublishConfig(_M):
    auto: bool = False
    target: str = "folder"
    dataset_code: str = "touchpoints"
    # meta.csv «valid»: months after the placement of a data version until which it is declared current. The
    # order sets no review period; 12 months is the agency's yearly review of its registers (the open-data
    # passport's usual horizon) — and a nightly run republishes as soon as the content changes.
    valid_months: int = Field(default=12, ge=1, le=120)


class MailConfig(_M):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"  # none | starttls | tls
    user: str | None = None
    password_env: str | None = None
    sender: str = "perechen@localhost"
    keeper: str | None = None  # the person responsible for the register (overrides «Сведения»)
    responsible: dict[str, str] = {}  # «Ответственный» -> e-mail
    timeout: float = 30.0
    attach_workbook: bool = True
    max_attachment_mb: float = 10.0  # a larger annotated workbook is not attached; the mail names its path
    cafile: str | None = None  # extra CA bundle (PEM) to trust for the SMTP server; verification stays on


class NightlyConfig(_M):
    lock_max_age_hours: float = 6.0  # a run holding the lock longer is called hung in the «уже выполняется» message
    chart_runs: int = 30  # runs shown in the dashboard chart and run list
    history_keep: int = 1000  # lines kept in output/reports/history.jsonl
    log_max_kb: int = 1024  # output/logs/nightly.log is rotated at this size …
    log_backups: int = 5  # … keeping this many old files


class RetentionConfig(_M):
    """Old report folders in output/reports/ are removed by the nightly run (perechen.retention).

    A folder goes only when it is older than ``reports_keep_days`` AND not among the newest
    ``reports_keep_count``. Published versions (output/published/) and approvals/acts are never removed.
    """

    reports_keep_days: int = Field(default=90, ge=0)  # 0: keep every report folder
    reports_keep_count: int = Field(default=60, ge=0)


class ApprovalConfig(_M):
    """How changes of the Перечень are approved (issue 12; пп. 2.1.3, 5.1, 5.4 of the order).

    ``"inclusion"``: the authorised person's inclusion or exclusion is the change; what is «включено» is
    published. ``"act"``: every change is approved by an act (``perechen approve``); publish and the nightly
    place the last approved draft's frozen rows.
    """

    mode: Literal["inclusion", "act"] = "inclusion"


class Config(_M):
    workbook: str = DEFAULT_WORKBOOK
    output: str = "output"
    rules: str | None = None
    review_days: int | None = None
    publish: PublishConfig = PublishConfig()
    targets: dict[str, TargetConfig] = Field(default_factory=lambda: {"folder": TargetConfig()})
    mail: MailConfig = MailConfig()
    nightly: NightlyConfig = NightlyConfig()
    remote: RemoteSettings = RemoteSettings()  # a workbook given as https://… (perechen.remote)
    retention: RetentionConfig = RetentionConfig()
    approval: ApprovalConfig = ApprovalConfig()

    # Filled by load(): the folder relative paths are resolved against.
    base_dir: Path = Path(".")
    source: Path | None = None

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def workbook_path(self) -> Path:
        """The workbook; for a URL, its downloaded copy in output/.remote/ (see fetch_workbook)."""
        return cache_file(self.workbook, self.output_dir) if is_url(self.workbook) else self.path(self.workbook)

    def fetch_workbook(self) -> Path:
        """workbook_path, after bringing a server's workbook up to date (a conditional GET; FileError on failure).

        Without perechen.toml and without workbook/perechen.xlsx here (a fresh install, an empty folder) the
        message says how to name a workbook, make one, or see the demonstration, instead of only «не найден».
        """
        if not is_url(self.workbook):
            path = self.workbook_path
            if self.source is None and self.workbook == DEFAULT_WORKBOOK and not path.exists():
                raise FileError("not_found", (
                    f"Книга не указана, а в папке {self.base_dir.resolve()} нет ни {CONFIG_NAME}, ни книги "
                    f"{DEFAULT_WORKBOOK}. Укажите книгу после команды (например: perechen check перечень.xlsx) "
                    f"или в {CONFIG_NAME} (workbook = \"…\"; --config ФАЙЛ — настройки из другой папки). "
                    "Новая пустая книга: perechen init перечень.xlsx; книга-пример: "
                    "perechen init --example пример.xlsx; демонстрация на книге-примере: "
                    "perechen nightly --demo."), path)
            return path
        from . import remote
        from .rules import Rules

        message = Rules.load(self.rules_dir).file_error
        return remote.fetch(self.workbook, self.remote.model_copy(update={
            "cafile": str(self.path(self.remote.cafile)) if self.remote.cafile else None}), self.output_dir, message)

    @property
    def output_dir(self) -> Path:
        return self.path(self.output)

    @property
    def rules_dir(self) -> Path | None:
        """``rules = …`` from perechen.toml; else a rules/ folder beside perechen.toml; else None (the bundled rules).

        Relative to the settings file, never to the current folder (a scheduled task starts in System32).
        """
        if self.rules:
            return self.path(self.rules)
        beside = self.base_dir / "rules"
        return beside if (beside / "schema.toml").is_file() else None

    def target(self, name: str | None = None) -> TargetConfig:
        name = name or self.publish.target
        if name in self.targets:
            return self.targets[name]
        if name in {"folder", "bundle"}:
            return TargetConfig(type=name)
        raise RulesError("config_broken", f"В {self.source or CONFIG_NAME} нет цели публикации «{name}» "
                                          f"(раздел [targets.{name}]).")


def _line_col(e: tomllib.TOMLDecodeError) -> tuple[int, int] | None:
    m = re.search(r"line (\d+), column (\d+)", str(e))
    return (int(m.group(1)), int(m.group(2))) if m else None


def _where(e: tomllib.TOMLDecodeError) -> str:
    lc = _line_col(e)  # tomllib's own text is English: only the position reaches the clerk
    return f" в строке {lc[0]}, позиция {lc[1]}" if lc else ""


def _backslash_hint(path: Path, e: tomllib.TOMLDecodeError) -> str:
    """A Windows path in double quotes is the usual cause: in TOML a backslash there starts an escape."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    lc = _line_col(e)
    line = lines[lc[0] - 1] if lc and 0 < lc[0] <= len(lines) else ""
    if "\\" not in line:
        return ""
    return (" В строке есть обратная косая черта «\\»: внутри двойных кавычек TOML считает её началом спецсимвола. "
            "Путь Windows пишите в одинарных кавычках, например workbook = '\\\\server\\share\\perechen.xlsx' "
            "или workbook = 'C:\\perechen\\perechen.xlsx', либо с прямой чертой: \"C:/perechen/perechen.xlsx\".")


def load_config(path: str | Path | None = None) -> Config:
    """Load perechen.toml (explicit path, else $PERECHEN_CONFIG, else ./perechen.toml, else defaults relative to cwd).

    Every relative path inside is resolved against the folder of the settings file.
    """
    if path is None and os.environ.get(CONFIG_ENV):
        path = os.environ[CONFIG_ENV]
    if path is None:
        cand = Path.cwd() / CONFIG_NAME
        if not cand.is_file():
            return Config(base_dir=Path.cwd())
        path = cand
    p = Path(path)
    try:
        with p.open("rb") as f:
            raw: dict[str, Any] = tomllib.load(f)
    except FileNotFoundError:
        raise RulesError("config_broken", f"Файл настроек {p} не найден.", p) from None
    except tomllib.TOMLDecodeError as e:
        raise RulesError("config_broken", f"Ошибка в файле настроек {p}: синтаксическая ошибка TOML{_where(e)}."
                                          f"{_backslash_hint(p, e)}", p) from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise RulesError("config_broken", f"Ошибка в файле настроек {p}: ключ «{loc}»: {err['msg']}.", p) from None
    cfg.base_dir = p.resolve().parent
    cfg.source = p
    return cfg
