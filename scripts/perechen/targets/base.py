"""What every publication target shares: the content to publish, actions, steps, failures."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from ..config import Config, TargetConfig
from ..models import PerechenError
from ..opendata import (
    DATAPACKAGE_NAME,
    FRAGMENT_NAME,
    META_NAME,
    PAGE_NAME,
    XLSX_NAME,
    Publication,
    render_data_csv,
    render_datapackage,
    render_fragment,
    render_meta_csv,
    render_page,
    render_structure_csv,
    render_xlsx,
)
from ..text import ru_date

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "zip": "application/zip",
    "txt": "text/plain; charset=utf-8",
}

StepHook = Callable[[str], None]
ProgressFn = Callable[[str, int, int], None]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SiteFile:
    name: str  # ASCII file name
    content: bytes
    title: str  # Russian title (CMS media title)

    @property
    def sha256(self) -> str:
        return sha256(self.content)

    @property
    def mime(self) -> str:
        return MIME.get(self.name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


@dataclass
class Action:
    """One thing a target did (or, in a dry run, would do)."""

    op: str  # upload | replace | delete | keep | create_page | update_page | keep_page | mkdir | write
    name: str
    detail: str = ""

    @property
    def writes(self) -> bool:
        return self.op not in ("keep", "keep_page")

    def to_dict(self) -> dict[str, str]:
        return {"op": self.op, "name": self.name, "detail": self.detail}

    def describe(self) -> str:
        verbs = {
            "upload": "загрузить файл", "replace": "заменить файл", "delete": "удалить",
            "keep": "без изменений:", "create_page": "создать страницу", "update_page": "обновить страницу",
            "keep_page": "страница без изменений:", "mkdir": "создать папку", "write": "записать",
        }
        text = f"{verbs.get(self.op, self.op)} {self.name}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class Outcome:
    """What a target reports after a verified publication."""

    actions: list[Action]
    urls: dict[str, str]  # file name -> where it is now (URL or path)
    page_url: str | None
    files: dict[str, bytes]  # what was published, for the store (name -> bytes)
    warnings: list[str] = field(default_factory=list)


class PublishFailed(PerechenError):
    """A step of the publication failed; the baseline did not move."""

    def __init__(self, step: str, reason: str, *, target: str = "", code: str = "publish_failed") -> None:
        self.step = step
        self.reason = reason
        self.target = target
        where = f" на «{target}»" if target else ""
        if step == "настройка":
            message = (f"Публикация{where} невозможна: {reason} Исправьте настройки (perechen.toml, "
                       "переменные окружения).")
        else:
            message = (f"Публикация{where} не завершена: шаг «{step}» — {reason} Опубликованная версия (LATEST) "
                       "не изменилась. Устраните причину и запустите perechen publish ещё раз: уже загруженные "
                       "файлы повторно не загружаются, дубликатов не будет.")
        super().__init__(code, message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "step": self.step, "reason": self.reason}


class TransientError(PerechenError):
    """A network or server failure worth another attempt (after a pause); never leaves the HTTP client.

    ``uncertain``: the request may still be running on the server (the answer timed out), so a write may
    land later.
    """

    def __init__(self, reason: str, *, uncertain: bool = False) -> None:
        super().__init__("transient", reason)
        self.reason = reason
        self.uncertain = uncertain


@dataclass
class RunContext:
    """Hooks of one run: step notifications (tests, logs), progress on a TTY, a log of lines."""

    on_step: StepHook | None = None
    progress: ProgressFn | None = None
    log: Callable[[str], None] | None = None
    secrets: list[str] = field(default_factory=list)

    def step(self, step_id: str) -> None:
        if self.log is not None:
            self.log(f"шаг {step_id}")
        if self.on_step is not None:
            self.on_step(step_id)

    def note(self, line: str) -> None:
        if self.log is not None:
            self.log(redact(line, self.secrets))

    def tick(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (and its form without spaces, as in Application Passwords) with ***."""
    for s in secrets:
        if not s:
            continue
        for form in {s, s.replace(" ", "")}:
            if len(form) >= 4:
                text = text.replace(form, "***")
    return text


class SiteContent:
    """Everything a publication puts on a site, rendered from one :class:`Publication`.

    The files that do not point at other files are rendered once; meta.csv and the page depend on the
    links (URLs on a CMS, relative names in a folder) and are rendered by the target when it knows them.
    """

    def __init__(self, pub: Publication, *, public_url: str | None = None) -> None:
        self.pub = pub
        # Where the site serves the files of a folder/WebDAV/bundle target ([targets.X] public_url): meta.csv
        # then names each data and structure file by its public URL, as the recommendations ask.
        self.public_url = public_url.rstrip("/") + "/" if public_url else None

    @cached_property
    def data_csv(self) -> bytes:
        return render_data_csv(self.pub)

    @cached_property
    def structure_csv(self) -> bytes:
        return render_structure_csv(self.pub)

    @cached_property
    def xlsx(self) -> bytes:
        return render_xlsx(self.pub)

    @cached_property
    def datapackage(self) -> bytes:
        return render_datapackage(self.pub, self.data_csv)

    def data_files(self) -> list[SiteFile]:
        """Earlier data versions (open-data history), then the current one."""
        pub = self.pub
        out = [SiteFile(v.name, v.content, f"Открытые данные: {pub.page_title.lower()}, версия "
                                             f"{v.version[6:8]}.{v.version[4:6]}.{v.version[0:4]}")
               for v in sorted(pub.history, key=lambda v: v.version) if v.name != pub.data_name]
        out.append(SiteFile(pub.data_name, self.data_csv,
                            f"Открытые данные: {pub.page_title.lower()}, версия {ru_date(pub.updated)}"))
        return out

    def static_files(self, *, with_json: bool) -> list[SiteFile]:
        """The files whose content does not depend on where the others are."""
        out = self.data_files()
        out.append(SiteFile(self.pub.structure_name, self.structure_csv,
                            "Открытые данные: структура набора «Перечень точек взаимодействия»"))
        out.append(SiteFile(XLSX_NAME, self.xlsx, f"{self.pub.page_title} (XLSX)"))
        if with_json:
            out.append(SiteFile(DATAPACKAGE_NAME, self.datapackage,
                                "Описание набора открытых данных (Frictionless Data Package)"))
        return out

    def meta(self, links: dict[str, str]) -> SiteFile:
        return SiteFile(META_NAME, render_meta_csv(self.pub, links),
                        "Открытые данные: паспорт набора «Перечень точек взаимодействия»")

    def fragment(self, links: dict[str, str], sizes: dict[str, int]) -> str:
        return render_fragment(self.pub, links, sizes)

    def page(self, links: dict[str, str], sizes: dict[str, int]) -> str:
        return render_page(self.pub, links, sizes)

    def relative_files(self) -> list[SiteFile]:
        """The whole site as files in one folder, linked by relative names; the page comes last."""
        files = self.static_files(with_json=True)
        rel = {f.name: f.name for f in files}
        rel[META_NAME] = META_NAME
        if self.public_url:
            meta = self.meta({**rel, **{f.name: self.public_url + quote(f.name) for f in files}})
        else:
            meta = self.meta(rel)
        files.append(meta)
        sizes = {f.name: len(f.content) for f in files}
        files.append(SiteFile(FRAGMENT_NAME, self.fragment(rel, sizes).encode("utf-8"),
                              "Фрагмент страницы для вставки в CMS"))
        files.append(SiteFile(PAGE_NAME, self.page(rel, sizes).encode("utf-8"), self.pub.page_title))
        return files


class Target(ABC):
    """A place the register is published to. ``plan`` only reads; ``publish`` writes and verifies."""

    kind = "target"

    def __init__(self, name: str, cfg: TargetConfig, config: Config, ctx: RunContext) -> None:
        self.name = name
        self.cfg = cfg
        self.config = config
        self.ctx = ctx

    @abstractmethod
    def plan(self, site: SiteContent) -> list[Action]:
        """What publishing would change, reading the target and writing nothing."""

    @abstractmethod
    def publish(self, site: SiteContent) -> Outcome:
        """Bring the target to the site's content, then read everything back and compare."""

    @property
    def location(self) -> str:
        return self.cfg.url or self.cfg.path or ""

    def fail(self, step: str, reason: str) -> PublishFailed:
        return PublishFailed(step, redact(reason, self.ctx.secrets), target=self.name)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
