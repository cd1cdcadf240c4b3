"""The Mini App in the offline console: the same page and API on 127.0.0.1, opened by a link signed with the
console's own offline token (core.offline.OFFLINE_TOKEN) for the console's current user.

Telegram hands a Mini App its init data in the URL fragment (`#tgWebAppData=…`), which browsers never send to
the server; the console's link does the same, and the console serves a small stand-in for Telegram's
telegram-web-app.js (static/console-telegram.js) that reads it. A production bot checks init data with its
real token, so a console link never opens it, and the stand-in is served only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from webapp.auth import sign

STAND_IN = "static/console-telegram.js"


@dataclass
class LocalServer:
    server: Any
    base: str
    token: str

    def link(self, telegram_id: int, first_name: str = "") -> str:
        return f"{self.base}/app/#tgWebAppData={quote(sign(telegram_id, self.token, first_name), safe='')}"

    async def stop(self) -> None:
        self.server.stop()
        await self.server.close_all_connections()


async def start_local(application: Any, port: int = 0) -> LocalServer:
    """The Mini App on 127.0.0.1 (a free port unless given), beside the console's offline Application."""
    import tornado.web
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    from webapp.server import routes

    app = tornado.web.Application(
        routes(application, application.bot_data["services"], telegram_script=STAND_IN),
        log_function=lambda handler: None,
    )
    server = HTTPServer(app)
    sockets = bind_sockets(port, "127.0.0.1")
    server.add_sockets(sockets)
    return LocalServer(server, f"http://127.0.0.1:{sockets[0].getsockname()[1]}", application.bot.token)
