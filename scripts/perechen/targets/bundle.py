"""One zip with everything and a short instruction in Russian, for sites with no API (Госвеб, 1C-Bitrix)."""

from __future__ import annotations

from pathlib import Path

from ..fsutil import atomic_write
from ..models import PerechenError
from ..opendata import FRAGMENT_NAME, META_NAME, PAGE_NAME, XLSX_NAME, make_zip
from ..text import ru_date
from .base import Action, Outcome, SiteContent, Target, sha256

INSTRUCTION_NAME = "instruktsiya.txt"


def instruction(site: SiteContent) -> str:
    pub = site.pub
    return f"""\ufeffПеречень точек взаимодействия с клиентом — файлы для размещения на официальном сайте
{pub.agency}
Дата актуализации: {ru_date(pub.updated)}. Точек взаимодействия: {len(pub.rows)}.

Порядок размещения (п. 5.2 и 5.4 Порядка: в течение 10 рабочих дней со дня изменения перечня):

1. Загрузите в раздел документов (медиатеку) сайта файлы из этого архива, не меняя их имена:
   {XLSX_NAME} — перечень в формате Excel;
   {pub.data_name} — открытые данные (набор);
   {pub.structure_name} — открытые данные (структура);
   {META_NAME} — открытые данные (паспорт набора);
   datapackage.json — описание набора (если сайт принимает файлы JSON).
   Файлы прежних версий data-…csv, если они уже размещены, не удаляйте: это история набора.
2. Создайте или откройте страницу «{pub.page_title}». В редакторе страницы переключитесь
   в режим HTML (исходный код) и вставьте целиком содержимое файла {FRAGMENT_NAME}.
   Если ссылки на файлы на сайте отличаются от имён файлов, исправьте их в тексте страницы.
   На Госвебе вставьте фрагмент в блок «HTML-код»; в 1С-Битрикс — в визуальном редакторе
   на вкладке «HTML».
3. Откройте страницу на сайте и проверьте, что таблицы и ссылки на файлы на месте,
   а дата актуализации — {ru_date(pub.updated)}.

{PAGE_NAME} — та же страница целиком, для просмотра в браузере до размещения.
Отпечаток данных: {pub.fingerprint}
"""


class BundleTarget(Target):
    kind = "bundle"

    @property
    def folder(self) -> Path:
        return self.config.path(self.cfg.path) if self.cfg.path else self.config.output_dir / "bundle"

    @property
    def location(self) -> str:
        return str(self.folder)

    def _zip(self, site: SiteContent) -> tuple[str, bytes]:
        files = {f.name: f.content for f in site.relative_files()}
        files[INSTRUCTION_NAME] = instruction(site).encode("utf-8")
        return f"perechen-{site.pub.data_version}.zip", make_zip(files)

    def plan(self, site: SiteContent) -> list[Action]:
        name, data = self._zip(site)
        path = self.folder / name
        if not path.is_file():
            return [Action("write", name, "архив для размещения на сайте")]
        return [Action("keep", name) if path.read_bytes() == data else Action("replace", name)]

    def publish(self, site: SiteContent) -> Outcome:
        name, data = self._zip(site)
        act = self.plan(site)[0]
        path = self.folder / name
        if act.writes:
            self.ctx.step(f"bundle:write:{name}")
            try:
                atomic_write(path, data)
            except PerechenError as e:
                raise self.fail(f"запись {name}", e.message) from None
        self.ctx.step("bundle:verify")
        if not path.is_file() or sha256(path.read_bytes()) != sha256(data):
            raise self.fail(f"проверка {name}", f"архив {path} отличается от записанного.")
        self.ctx.tick("Публикация: архив", 1, 1)
        return Outcome(actions=[act], urls={name: str(path)}, page_url=None, files={name: data})
