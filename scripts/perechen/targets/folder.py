"""A static copy of everything in a local folder (default ``output/site/``)."""

from __future__ import annotations

from pathlib import Path

from ..fsutil import atomic_write, os_reason
from ..models import PerechenError
from ..opendata import PAGE_NAME
from .base import Action, Outcome, SiteContent, SiteFile, Target, sha256


class FolderTarget(Target):
    kind = "folder"

    @property
    def folder(self) -> Path:
        return self.config.path(self.cfg.path) if self.cfg.path else self.config.output_dir / "site"

    @property
    def location(self) -> str:
        return str(self.folder)

    def _current(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise self.fail(f"чтение {self.folder / name}", f"файл не читается: {os_reason(e)}.") from None

    def _action(self, f: SiteFile) -> Action:
        cur = self._current(f.name)
        if cur is None:
            return Action("write", f.name)
        return Action("keep", f.name) if cur == f.content else Action("replace", f.name)

    def plan(self, site: SiteContent) -> list[Action]:
        return [self._action(f) for f in site.relative_files()]

    def publish(self, site: SiteContent) -> Outcome:
        files = site.relative_files()
        actions = []
        for i, f in enumerate(files, start=1):
            act = self._action(f)
            if act.writes:
                self.ctx.step(f"folder:write:{f.name}")
                try:
                    atomic_write(self.folder / f.name, f.content)
                except PerechenError as e:
                    raise self.fail(f"запись {f.name}", e.message) from None
            actions.append(act)
            self.ctx.tick("Публикация: файлы", i, len(files))
        self.ctx.step("folder:verify")
        for f in files:
            got = self._current(f.name)
            if got is None or sha256(got) != f.sha256:
                raise self.fail(f"проверка {f.name}", f"файл {self.folder / f.name} отличается от записанного.")
        urls = {f.name: str(self.folder / f.name) for f in files}
        return Outcome(actions=actions, urls=urls, page_url=str(self.folder / PAGE_NAME),
                       files={f.name: f.content for f in files if f.name not in _history(site)})


def _history(site: SiteContent) -> set[str]:
    return {v.name for v in site.pub.history if v.name != site.pub.data_name}
