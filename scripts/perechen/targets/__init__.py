"""Publication targets: folder, wordpress, webdav, bundle (see perechen.publish)."""

from __future__ import annotations

from ..config import Config, TargetConfig
from .base import RunContext, Target

KINDS = ("folder", "wordpress", "webdav", "bundle")


def make_target(name: str, cfg: TargetConfig, config: Config, ctx: RunContext) -> Target:
    from .base import PublishFailed

    if cfg.type == "folder":
        from .folder import FolderTarget
        return FolderTarget(name, cfg, config, ctx)
    if cfg.type == "bundle":
        from .bundle import BundleTarget
        return BundleTarget(name, cfg, config, ctx)
    if cfg.type == "wordpress":
        from .wordpress import WordPressTarget
        return WordPressTarget(name, cfg, config, ctx)
    if cfg.type == "webdav":
        from .webdav import WebDAVTarget
        return WebDAVTarget(name, cfg, config, ctx)
    raise PublishFailed("настройка", f"неизвестный тип цели публикации «{cfg.type}» (допустимо: {', '.join(KINDS)}).",
                        target=name)
