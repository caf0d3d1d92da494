"""Real servers on 127.0.0.1 for perechen's tests: WordPress, WebDAV and SMTP.

The fixtures live in :mod:`tests.servers.plugin` (load it with
``pytest_plugins = ["tests.servers.plugin"]``); the classes can also be used directly.
"""

from tests.servers._util import REQUIRE_ENV, ServerUnavailable
from tests.servers.smtp import ReceivedMessage, SMTPServer
from tests.servers.webdav import WebDAVServer
from tests.servers.wordpress import WordPressServer

__all__ = [
    "REQUIRE_ENV",
    "ReceivedMessage",
    "SMTPServer",
    "ServerUnavailable",
    "WebDAVServer",
    "WordPressServer",
]
