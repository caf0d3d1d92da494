"""HTTP PUT into a WebDAV folder with basic auth (MKCOL creates missing folders).

Every file is read first: an identical file is left alone, so a rerun writes nothing. PUT and MKCOL are
idempotent, so a failed request is simply retried (bounded, with backoff). The page is written last, after
the files it links to; at the end every file is read back and compared.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from ..config import Config, TargetConfig
from ..opendata import PAGE_NAME
from .base import Action, Outcome, RunContext, SiteContent, SiteFile, Target, sha256
from .http import Http, check_url


class WebDAVTarget(Target):
    kind = "webdav"

    def __init__(self, name: str, cfg: TargetConfig, config: Config, ctx: RunContext) -> None:
        super().__init__(name, cfg, config, ctx)
        self.base = check_url(cfg.url, f"папки WebDAV цели «{name}»").rstrip("/") + "/"
        auth: tuple[str, str] | None = None
        if cfg.user:
            if not cfg.password_env:
                raise self.fail("настройка", f"для цели «{name}» указан user, но не указан password_env — имя "
                                            "переменной окружения с паролем.")
            password = os.environ.get(cfg.password_env)
            if not password:
                raise self.fail("настройка", f"переменная окружения {cfg.password_env} (пароль WebDAV для цели "
                                            f"«{name}») не задана или пуста.")
            ctx.secrets.append(password)
            auth = (cfg.user, password)
        self.http = Http(timeout=cfg.timeout, retries=cfg.retries, backoff=cfg.backoff,
                         verify=cfg.verify_tls, ctx=ctx, auth=auth, target=name)
        self.http.on_auth_error = self._auth_message
        self._folder_ready = False

    def close(self) -> None:
        self.http.close()

    @property
    def location(self) -> str:
        return self.base

    def _auth_message(self, resp: requests.Response) -> str:
        if resp.status_code == 401:
            return (f"сервер WebDAV не принял вход (HTTP 401): проверьте пользователя «{self.cfg.user or ''}» и пароль "
                    f"в переменной {self.cfg.password_env or '(password_env не задан)'}.")
        return f"нет прав на запись в папку WebDAV (HTTP {resp.status_code})."

    def url(self, name: str) -> str:
        return self.base + quote(name)

    def _get(self, name: str, step: str) -> bytes | None:
        r = self.http.request("GET", self.url(name), step=step, ok=(200, 404, 410))
        return r.content if r.status_code == 200 else None

    def _action(self, f: SiteFile, step: str) -> Action:
        cur = self._get(f.name, step)
        if cur is None:
            return Action("upload", f.name)
        return Action("keep", f.name) if cur == f.content else Action("replace", f.name)

    def _exists(self, url: str, step: str) -> bool:
        r = self.http.request("PROPFIND", url, step=step, ok=(207, 200, 404, 405, 409),
                              headers={"Depth": "0"})
        return r.status_code in (207, 200, 405)

    def _missing_folders(self, step: str) -> list[str]:
        """Folders from the base up to the first existing one, deepest last."""
        parts = urlsplit(self.base)
        segs = [s for s in parts.path.split("/") if s]
        missing: list[str] = []
        while segs:
            url = urlunsplit((parts.scheme, parts.netloc, "/" + "/".join(segs) + "/", "", ""))
            if self._exists(url, step):
                break
            missing.insert(0, url)
            segs.pop()
        return missing

    def plan(self, site: SiteContent) -> list[Action]:
        self.ctx.step("webdav:connect")
        step = "чтение папки WebDAV"
        missing = self._missing_folders(step)
        acts = [Action("mkdir", u) for u in missing]
        files = site.relative_files()
        if missing:
            return acts + [Action("upload", f.name) for f in files]
        return acts + [self._action(f, step) for f in files]

    def publish(self, site: SiteContent) -> Outcome:
        self.ctx.step("webdav:connect")
        actions: list[Action] = []
        for url in self._missing_folders("чтение папки WebDAV"):
            self.ctx.step("webdav:mkcol")
            self.http.request("MKCOL", url, step=f"создание папки {url}", ok=(201, 405))
            actions.append(Action("mkdir", url))
        files = site.relative_files()
        for i, f in enumerate(files, start=1):
            step = f"загрузка файла {f.name}"
            act = self._action(f, step)
            if act.writes:
                self.ctx.step(f"webdav:put:{f.name}")
                self.http.request("PUT", self.url(f.name), step=step, ok=(200, 201, 204), data=f.content,
                                  headers={"Content-Type": f.mime})
            actions.append(act)
            self.ctx.tick("Публикация: файлы", i, len(files))
        self.ctx.step("webdav:verify")
        for f in files:
            step = f"проверка файла {f.name}"
            got = self._get(f.name, step)
            if got is None or sha256(got) != f.sha256:
                raise self.fail(step, f"файл {self.url(f.name)} отличается от загруженного "
                                      "(контрольная сумма sha256 не совпадает).")
        history = {v.name for v in site.pub.history if v.name != site.pub.data_name}
        return Outcome(actions=actions, urls={f.name: self.url(f.name) for f in files},
                       page_url=self.url(PAGE_NAME),
                       files={f.name: f.content for f in files if f.name not in history})
