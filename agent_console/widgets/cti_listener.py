"""The phone system's door: a small aiohttp server on the console's own asyncio loop, at Zammad's generic CTI path
`POST /api/v1/cti/<token>` on 127.0.0.1:port or a Unix socket.

Only transport lives here: the rate limit and the token are checked first (a flood or a wrong token costs no
parsing; a wrong token is logged), then the body goes to services.telephony (parse, Desk.handle) and the outcome to
the console (`on_outcome`). Whatever a request holds, it gets an HTTP answer, never a crash of the console.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable

from aiohttp import web

from agent_console.services import telephony

log = logging.getLogger("agent_console.cti")
PATH = "/api/v1/cti/{token}"
MIN_TOKEN = 12  # the token is the endpoint's only secret: a short one is guessed


class CtiListener:
    def __init__(self, desk: telephony.Desk, listen: str, token: str,
                 on_outcome: Callable[[telephony.Outcome], None]) -> None:
        self.desk = desk
        self.listen = listen
        self._token = token.encode()
        self._on_outcome = on_outcome
        self._runner: web.AppRunner | None = None
        self.address = ""

    async def start(self) -> str:
        """Start listening; return the address (host:port, the real port when 0 was asked for, or the path)."""
        if len(self._token) < MIN_TOKEN:
            raise telephony.ListenRefused("call.short_token", chars=MIN_TOKEN)
        app = web.Application(client_max_size=telephony.MAX_BODY)
        app.router.add_post(PATH, self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_here)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        if self.listen.startswith("/"):
            if os.path.exists(self.listen):
                os.unlink(self.listen)  # a socket left by a console that did not close cleanly
            site: web.BaseSite = web.UnixSite(self._runner, self.listen)
            await site.start()
            os.chmod(self.listen, 0o600)  # only this user's programs may post calls
            self.address = self.listen
        else:
            host, _, port = self.listen.rpartition(":")
            site = web.TCPSite(self._runner, host.strip("[]"), int(port))
            await site.start()
            sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - the port the OS chose
            real = sockets[0].getsockname()[1] if sockets else int(port)
            self.address = f"{host}:{real}"
        return self.address

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            if self.listen.startswith("/") and os.path.exists(self.listen):
                os.unlink(self.listen)

    async def _not_here(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "not found: POST events to /api/v1/cti/<token>"}, status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        if not self.desk.limiter.allow():
            return web.json_response({"error": "too many events; slow down"}, status=429,
                                     headers={"Retry-After": str(self.desk.limiter.retry_after())})
        if not hmac.compare_digest(request.match_info["token"].encode(), self._token):
            log.warning("CTI event refused: wrong token from %s", request.remote or "a local socket")
            return web.json_response({"error": "invalid token"}, status=403)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": "the body is too large"}, status=413)
        try:
            event = telephony.parse(body, request.headers.get("Content-Type", ""))
            outcome = self.desk.handle(event)
        except telephony.CtiError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        except Exception as exc:  # noqa: BLE001 - the phone system gets an answer; the console keeps running
            log.exception("CTI event could not be recorded")
            return web.json_response({"error": f"not recorded: {type(exc).__name__}"}, status=503)
        try:
            self._on_outcome(outcome)
        except Exception:  # noqa: BLE001 - the event is recorded; a screen that failed to follow is logged
            log.exception("the console could not show a call")
        return web.json_response(outcome.reply)

