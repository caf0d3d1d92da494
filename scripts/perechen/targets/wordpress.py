"""WordPress through its REST API with an Application Password.

* The API root comes from the ``Link: <…>; rel="https://api.w.org/"`` header of the site; when that is
  missing or does not answer, ``?rest_route=/`` is used (it works without pretty permalinks).
* Files (.xlsx, the open-data CSVs) are media attachments with ASCII file names and Russian titles. Each
  attachment carries a marker in its description: ``perechen-publish slug=<page slug> file=<name>
  sha256=<sha256 of the file> data=<data fingerprint>``. An attachment whose marker names the same file and
  sha256 is left alone; a changed file is replaced (the old attachment deleted with ``force=true``, then the
  new one uploaded, so the URL stays the same); extra copies are deleted.
* The page is found by its slug (any status) and written only when its raw content, title or status differ,
  so an unchanged register makes no new revision.
* Uploads are made so that a retry or a rerun never duplicates them: after a failure the attachments are
  listed again and a file already there (with the right sha256) is not uploaded again.
* Verification reads every file back from its public URL and the page both through the API (raw content)
  and from its public address (the data fingerprint in the HTML).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from ..config import Config, TargetConfig
from ..opendata import META_NAME, page_fingerprint, wordpress_content
from .base import Action, Outcome, PublishFailed, RunContext, SiteContent, SiteFile, Target, sha256
from .http import Http, check_url, converge

MARKER = "perechen-publish"
_MARKER_RE = re.compile(MARKER + r"\s+slug=(\S+)\s+file=(\S+)\s+sha256=([0-9a-f]{64})")
API_REL = "https://api.w.org/"
PAGE_FILE = "page.html"


class WordPressTarget(Target):
    kind = "wordpress"

    def __init__(self, name: str, cfg: TargetConfig, config: Config, ctx: RunContext) -> None:
        super().__init__(name, cfg, config, ctx)
        self.site_url = check_url(cfg.url, f"сайта WordPress цели «{name}»").rstrip("/") + "/"
        if not cfg.user:
            raise self.fail("настройка", f"для цели «{name}» не указан user (пользователь WordPress).")
        if not cfg.password_env:
            raise self.fail("настройка", f"для цели «{name}» не указан password_env — имя переменной окружения "
                                        "с паролем приложения WordPress.")
        password = os.environ.get(cfg.password_env)
        if not password:
            raise self.fail("настройка", f"переменная окружения {cfg.password_env} (пароль приложения WordPress "
                                        "для цели «" + name + "») не задана или пуста.")
        ctx.secrets.append(password)
        self.slug = cfg.page_slug
        self.http = Http(timeout=cfg.timeout, retries=cfg.retries, backoff=cfg.backoff, verify=cfg.verify_tls,
                         ctx=ctx, auth=(cfg.user, password), target=name)
        self.http.on_auth_error = self._auth_message
        self.api_root: str | None = None
        self.public = requests.Session()  # public reads (verification) go without credentials
        self.public.headers["User-Agent"] = "perechen-publish"
        self.public.verify = cfg.verify_tls
        self.capabilities: dict[str, Any] = {}
        self.warnings: list[str] = []

    def close(self) -> None:
        self.http.close()
        self.public.close()

    @property
    def location(self) -> str:
        return self.site_url

    # ------------------------------------------------------------------------------------------ API plumbing
    def _auth_message(self, resp: requests.Response) -> str:
        code = ""
        try:
            data = resp.json()
            code = str(data.get("code", "")) if isinstance(data, dict) else ""
        except ValueError:
            pass
        env = self.cfg.password_env
        if resp.status_code == 401 and code in ("incorrect_password", "invalid_username", "invalid_email"):
            return (f"WordPress отклонил вход (HTTP 401, {code}): неверное имя пользователя «{self.cfg.user}» "
                    f"или пароль приложения в переменной {env}.")
        if resp.status_code == 401 and code.startswith("application_passwords_disabled"):
            return (f"на сайте отключены пароли приложений (HTTP 401, {code}). Включите их или используйте "
                    "другого пользователя.")
        if resp.status_code == 401:
            return (f"WordPress не принял вход (HTTP 401{', ' + code if code else ''}). Проверьте пользователя "
                    f"«{self.cfg.user}» и пароль приложения в переменной {env}. Если они верны, сервер, вероятно, "
                    "отбрасывает заголовок Authorization (частая настройка Apache с PHP-CGI/FastCGI): добавьте "
                    "в .htaccess сайта строку «CGIPassAuth On» или «SetEnvIf Authorization \"(.*)\" "
                    "HTTP_AUTHORIZATION=$1».")
        return (f"у пользователя «{self.cfg.user}» нет прав на это действие (HTTP 403{', ' + code if code else ''}). "
                "Нужна роль «Редактор» или выше: загрузка файлов и публикация страниц.")

    def route(self, route: str) -> str:
        assert self.api_root is not None
        route = route.lstrip("/")
        parts = urlsplit(self.api_root)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "rest_route" in query:
            query["rest_route"] = "/" + route
            return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="/"), ""))
        return self.api_root.rstrip("/") + "/" + route

    def connect(self) -> None:
        """Find the API root, then check the credentials and the user's rights."""
        if self.api_root is not None:
            return
        step = "подключение к WordPress"
        self.ctx.step("wordpress:connect")
        candidates: list[str] = []
        resp = self.http.request("GET", self.site_url, step=step, ok=range(200, 400))
        link = resp.links.get(API_REL, {}).get("url")
        if link:
            candidates.append(link)
        candidates.append(self.site_url + "?rest_route=/")
        last = ""
        for cand in candidates:
            self.api_root = cand
            try:
                r = self.http.request("GET", self.route(""), step=step, ok=range(200, 600))
            except PublishFailed as e:
                last = e.reason
                continue
            if r.status_code == 200 and _is_wp_root(r):
                break
            last = f"по адресу {cand} нет REST API WordPress (ответ {r.status_code})."
        else:
            self.api_root = None
            raise self.fail(step, f"не найден REST API WordPress на {self.site_url}: {last}")
        r = self.http.request("GET", self.route("wp/v2/users/me"), step=step, params={"context": "edit"})
        me = r.json()
        caps = me.get("capabilities") if isinstance(me, dict) else None
        self.capabilities = caps if isinstance(caps, dict) else {}
        missing = [c for c in ("upload_files", "publish_pages", "edit_published_pages", "delete_posts")
                   if self.capabilities and not self.capabilities.get(c)]
        if missing:
            raise self.fail(step, f"у пользователя «{self.cfg.user}» нет прав: {', '.join(missing)}. Нужна роль "
                                  "«Редактор» или выше.")
        if self.capabilities and not self.capabilities.get("unfiltered_html"):
            raise self.fail(step, f"у пользователя «{self.cfg.user}» нет права unfiltered_html: WordPress вырезал бы "
                                  "из страницы оформление таблиц. Используйте учётную запись редактора или "
                                  "администратора сайта (и не задавайте DISALLOW_UNFILTERED_HTML).")

    def _get_all(self, route: str, params: dict[str, Any], step: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            r = self.http.request("GET", self.route(route), step=step,
                                  params={**params, "per_page": 100, "page": page})
            data = r.json()
            if not isinstance(data, list):
                raise self.fail(step, "WordPress вернул не список.")
            items.extend(d for d in data if isinstance(d, dict))
            total = int(r.headers.get("X-WP-TotalPages", "1") or 1)
            if page >= total:
                return items
            page += 1

    # ------------------------------------------------------------------------------------------ state
    def our_media(self, step: str = "чтение списка файлов на сайте") -> dict[str, list[dict[str, Any]]]:
        """Our attachments by file name (the marker in the description), oldest first."""
        items = self._get_all("wp/v2/media", {"context": "edit", "search": MARKER, "orderby": "id",
                                              "order": "asc"}, step)
        out: dict[str, list[dict[str, Any]]] = {}
        for m in items:
            desc = m.get("description")
            raw = desc.get("raw", "") if isinstance(desc, dict) else ""
            mm = _MARKER_RE.search(raw or "")
            if mm and mm.group(1) == self.slug:
                m["_file"], m["_sha"] = mm.group(2), mm.group(3)
                out.setdefault(mm.group(2), []).append(m)
        return out

    def find_page(self, step: str = "поиск страницы") -> dict[str, Any] | None:
        pages = self._get_all("wp/v2/pages", {"context": "edit", "status": "any", "slug": self.slug}, step)
        pages = [p for p in pages if p.get("slug") == self.slug]
        if not pages:
            # WordPress may have given our page «<slug>-2» (the slug was taken): find it by its content.
            found = self._get_all("wp/v2/pages", {"context": "edit", "status": "any",
                                                  "search": "data-perechen-fingerprint"}, step)
            pages = [p for p in found if str(p.get("slug", "")).startswith(self.slug + "-")
                     and "data-perechen-fingerprint=" in str((p.get("content") or {}).get("raw", ""))]
        if not pages:
            return None
        pages.sort(key=lambda p: (p.get("status") != "publish", int(p.get("id", 0))))
        return pages[0]

    def marker(self, f: SiteFile, data_fp: str) -> str:
        return f"{MARKER} slug={self.slug} file={f.name} sha256={f.sha256} data={data_fp}"

    @staticmethod
    def _title(m: dict[str, Any]) -> str:
        t = m.get("title")
        return str(t.get("raw", "")) if isinstance(t, dict) else ""

    def _matches(self, m: dict[str, Any], f: SiteFile) -> bool:
        return m.get("_sha") == f.sha256 and self._title(m) == f.title and bool(m.get("source_url"))

    def _file_actions(self, f: SiteFile, media: dict[str, list[dict[str, Any]]]) -> list[Action]:
        existing = media.get(f.name, [])
        good = [m for m in existing if self._matches(m, f)]
        if good:
            acts = [Action("keep", f.name)]
            acts += [Action("delete", f.name, f"дубликат, вложение {m.get('id')}") for m in good[1:]]
            acts += [Action("delete", f.name, f"устаревшая копия, вложение {m.get('id')}")
                     for m in existing if m not in good]
            return acts
        if existing:
            return [Action("replace", f.name, f"вложение {existing[0].get('id')}")] + [
                Action("delete", f.name, f"дубликат, вложение {m.get('id')}") for m in existing[1:]]
        return [Action("upload", f.name)]

    def _page_action(self, page: dict[str, Any] | None, title: str, content: str) -> Action:
        if page is None:
            return Action("create_page", self.slug, title)
        if _page_equal(page, title, content):
            return Action("keep_page", self.slug)
        return Action("update_page", self.slug, f"страница {page.get('id')}")

    # ------------------------------------------------------------------------------------------ plan
    def plan(self, site: SiteContent) -> list[Action]:
        self.connect()
        media = self.our_media()
        page = self.find_page()
        files = site.static_files(with_json=False)
        actions: list[Action] = []
        links: dict[str, str] = {}
        for f in files:
            acts = self._file_actions(f, media)
            actions += acts
            existing = media.get(f.name, [])
            if existing:
                links[f.name] = str(existing[0]["source_url"])
            else:
                links[f.name] = self._guess_url(f.name)
        meta = site.meta(links)
        actions += self._file_actions(meta, media)
        old_meta = media.get(META_NAME)
        links[META_NAME] = str(old_meta[0]["source_url"]) if old_meta else self._guess_url(META_NAME)
        sizes = {f.name: len(f.content) for f in [*files, meta]}
        content = wordpress_content(site.fragment(links, sizes))
        actions.append(self._page_action(page, site.pub.page_title, content))
        return actions

    def _guess_url(self, name: str) -> str:
        return self.site_url + "wp-content/uploads/" + name

    # ------------------------------------------------------------------------------------------ publish
    def publish(self, site: SiteContent) -> Outcome:
        self.connect()
        media = self.our_media()
        files = site.static_files(with_json=False)
        total = len(files) + 3
        done = 0
        actions: list[Action] = []
        links: dict[str, str] = {}
        ids: dict[str, int] = {}
        fp = site.pub.fingerprint
        for f in files:
            url, mid, acts = self._ensure(f, media, fp)
            links[f.name], ids[f.name] = url, mid
            actions += acts
            done += 1
            self.ctx.tick("Публикация: файлы", done, total)
        meta = site.meta(links)
        url, mid, acts = self._ensure(meta, media, fp)
        links[META_NAME], ids[META_NAME] = url, mid
        actions += acts
        done += 1
        self.ctx.tick("Публикация: файлы", done, total)
        all_files = [*files, meta]
        sizes = {f.name: len(f.content) for f in all_files}
        content = wordpress_content(site.fragment(links, sizes))
        page, act = self._ensure_page(site.pub.page_title, content)
        actions.append(act)
        actions += self._dedupe(ids)
        done += 1
        self.ctx.tick("Публикация: файлы", done, total)
        page_url = self.verify(all_files, links, page, site.pub.page_title, content, fp)
        done += 1
        self.ctx.tick("Публикация: файлы", done, total)
        published = {f.name: f.content for f in all_files if f.name in (site.pub.data_name, site.pub.structure_name,
                                                                          META_NAME) or f.name.endswith(".xlsx")}
        published[PAGE_FILE] = content.encode("utf-8")
        urls = dict(links)
        urls[PAGE_FILE] = page_url
        return Outcome(actions=actions, urls=urls, page_url=page_url, files=published, warnings=self.warnings)

    def _ensure(self, f: SiteFile, media: dict[str, list[dict[str, Any]]], fp: str) -> tuple[str, int, list[Action]]:
        """Make exactly one attachment of ours hold ``f``; returns its URL, id and what was done."""
        existing = media.get(f.name, [])
        good = [m for m in existing if self._matches(m, f)]
        actions: list[Action] = []
        if good:
            keep = good[0]
            for m in existing:
                if m is not keep:
                    self._delete(m, f.name)
                    actions.append(Action("delete", f.name, f"дубликат, вложение {m.get('id')}"))
            actions.insert(0, Action("keep", f.name))
            media[f.name] = [keep]
            return str(keep["source_url"]), int(keep["id"]), actions
        for m in existing:
            self._delete(m, f.name)
        created = self._upload(f, fp)
        media[f.name] = [created]
        actions.append(Action("replace" if existing else "upload", f.name))
        return str(created["source_url"]), int(created["id"]), actions

    def _dedupe(self, ids: dict[str, int]) -> list[Action]:
        """Delete copies of our files that a slow, timed-out upload may have added after all."""
        actions = []
        for name, items in self.our_media().items():
            if name in ids:
                for m in items:
                    if int(m["id"]) != ids[name]:
                        self._delete(m, name)
                        actions.append(Action("delete", name, f"дубликат, вложение {m.get('id')}"))
        return actions

    def _delete(self, m: dict[str, Any], name: str) -> None:
        step = f"удаление старого файла {name} (вложение {m.get('id')})"
        self.ctx.step(f"wordpress:delete:{name}")
        self.http.request("DELETE", self.route(f"wp/v2/media/{int(m['id'])}"), step=step,
                          params={"force": "true"}, ok=(200, 410, 404))

    def _upload(self, f: SiteFile, fp: str) -> dict[str, Any]:
        step = f"загрузка файла {f.name}"
        self.ctx.step(f"wordpress:upload:{f.name}")
        marker = self.marker(f, fp)

        def action() -> dict[str, Any]:
            r = self.http.once("POST", self.route("wp/v2/media"), step=step, ok=(200, 201),
                               files={"file": (f.name, f.content, f.mime.split(";")[0])},
                               data={"title": f.title, "description": marker})
            data = r.json()
            if not isinstance(data, dict) or not data.get("id"):
                raise self.fail(step, "WordPress не вернул сведения о загруженном файле.")
            data["_file"], data["_sha"] = f.name, f.sha256
            return data

        def check() -> dict[str, Any] | None:
            found = [m for m in self.our_media(step).get(f.name, []) if m.get("_sha") == f.sha256]
            return found[0] if found else None

        created: dict[str, Any] = converge(self.http, step, action, check)
        got = str(created.get("source_url") or "")
        if got and not got.rsplit("/", 1)[-1] == f.name:
            self.ctx.note(f"WordPress сохранил {f.name} под именем {got.rsplit('/', 1)[-1]} "
                          "(файл с таким именем уже есть в медиатеке, загружен не perechen)")
        return created

    def _ensure_page(self, title: str, content: str) -> tuple[dict[str, Any], Action]:
        page = self.find_page()
        body = {"title": title, "content": content, "status": "publish"}
        if page is not None and _page_equal(page, title, content):
            return page, Action("keep_page", self.slug)

        def check() -> dict[str, Any] | None:
            p = self.find_page(step)
            return p if p is not None and _page_equal(p, title, content) else None

        if page is None:
            step = "создание страницы"
            self.ctx.step("wordpress:page:create")

            def create() -> dict[str, Any]:
                r = self.http.once("POST", self.route("wp/v2/pages"), step=step, ok=(200, 201),
                                   json={**body, "slug": self.slug})
                return dict(r.json())

            created: dict[str, Any] = converge(self.http, step, create, check)
            if created.get("slug") not in (None, self.slug):
                self.warnings.append(f"WordPress дал странице адрес «{created.get('slug')}» вместо «{self.slug}»: "
                                     "этот адрес уже занят другой записью или файлом сайта.")
            return created, Action("create_page", self.slug, title)
        step = f"обновление страницы {page.get('id')}"
        self.ctx.step("wordpress:page:update")
        pid = int(page["id"])

        def update() -> dict[str, Any]:
            r = self.http.once("POST", self.route(f"wp/v2/pages/{pid}"), step=step, ok=(200,), json=body,
                               params={"context": "edit"})
            return dict(r.json())

        updated: dict[str, Any] = converge(self.http, step, update, check)
        return updated, Action("update_page", self.slug, f"страница {pid}")

    # ------------------------------------------------------------------------------------------ verify
    def verify(self, files: list[SiteFile], links: dict[str, str], page: dict[str, Any], title: str,
               content: str, fp: str) -> str:
        self.ctx.step("wordpress:verify")
        for f in files:
            step = f"проверка файла {f.name} на сайте"
            got = self._public_get(links[f.name], step, f.sha256[:12])
            if sha256(got.content) != f.sha256:
                raise self.fail(step, f"файл по адресу {links[f.name]} отличается от загруженного "
                                      "(контрольная сумма sha256 не совпадает).")
        step = "проверка страницы"
        pid = int(page["id"])
        r = self.http.request("GET", self.route(f"wp/v2/pages/{pid}"), step=step, params={"context": "edit"})
        current = r.json()
        if not _page_equal(current, title, content):
            stored = current.get("content") if isinstance(current, dict) else None
            raw = str(stored.get("raw") or "") if isinstance(stored, dict) else ""
            if "<style" in content and "<style" not in raw:
                raise self.fail(step, "WordPress вырезал из страницы оформление таблиц (<style>): учётной записи "
                                      f"«{self.cfg.user}» не разрешено размещать HTML без фильтрации (право "
                                      "unfiltered_html; его отнимают DISALLOW_UNFILTERED_HTML в wp-config.php и сеть "
                                      "сайтов WordPress, где оно есть только у суперадминистратора). Данные перечня "
                                      "на странице есть, но без оформления. Публикуйте от имени администратора "
                                      "сайта или попросите разрешить этой учётной записи unfiltered_html.")
            raise self.fail(step, "WordPress сохранил страницу не в том виде, в каком она была отправлена "
                                  "(вероятно, содержимое изменил фильтр или плагин сайта).")
        link = str(current.get("link") or "")
        if not link:
            raise self.fail(step, "WordPress не сообщил адрес страницы.")
        html = self._public_get(link, step, fp[:12]).text
        if page_fingerprint(html) != fp:
            raise self.fail(step, f"страница {link} показывает не ту версию перечня (возможно, её отдаёт кэш "
                                  "сайта; очистите кэш и повторите).")
        return link

    def _public_get(self, url: str, step: str, bust: str) -> requests.Response:
        sep = "&" if "?" in url else "?"
        target = f"{url}{sep}perechen={bust}"
        saved = self.http.session
        self.http.session = self.public
        try:
            return self.http.request("GET", target, step=step)
        finally:
            self.http.session = saved


def _page_equal(page: dict[str, Any], title: str, content: str) -> bool:
    c = page.get("content")
    t = page.get("title")
    raw_c = c.get("raw") if isinstance(c, dict) else None
    raw_t = t.get("raw") if isinstance(t, dict) else None
    return raw_c == content and raw_t == title and page.get("status") == "publish"


def _is_wp_root(r: requests.Response) -> bool:
    try:
        data = r.json()
    except ValueError:
        return False
    return isinstance(data, dict) and "wp/v2" in (data.get("namespaces") or [])
