"""Who may talk to `grader serve`: the holder of the token printed at start, from this machine, from its own pages.

- **Token.** A random token in the URL, as Jupyter does. The first visit with `?token=` sets a
  cookie (HttpOnly, SameSite=Strict, named after the port, since cookies ignore ports) and
  redirects to the same URL without the token, so it does not linger in the address bar or in
  a Referer. A script may send `Authorization: token …` instead. Anything else gets 403.
- **Host.** Only the address the server was started on (127.0.0.1 by default): a page on another
  site that resolves its own name to 127.0.0.1 (DNS rebinding) is refused.
- **CSRF.** Every write (anything but GET/HEAD) needs the page's CSRF token in `X-CSRF-Token`
  and, when the browser sends one, an `Origin` of this server. Pages carry the token in a meta tag.
- **Content Security Policy.** Scripts, styles and fonts come from the server itself (the
  package's static folder: no CDN); no inline script; images from the server or `data:`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

CSP = Markup("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# the same, for a <meta> element (which cannot carry frame-ancestors; the header does)
META_CSP = Markup(str(CSP).replace(" frame-ancestors 'none';", ""))
SAFE_METHODS = frozenset({"GET", "HEAD"})
CSRF_HEADER = "x-csrf-token"


@dataclass
class Secrets:
    """The server's two secrets, drawn at start: the token in the printed URL, and the pages' CSRF token."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def cookie_name(port: int) -> str:
    return f"grader_token_{port}"


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    names = {host, f"[{host}]" if ":" in host else host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return frozenset({f"{n}:{port}" for n in names})


class Guard:
    """ASGI middleware in front of every route, static files included."""

    def __init__(self, app: ASGIApp, keys: Secrets, host: str, port: int) -> None:
        self.app = app
        self.keys = keys
        self.port = port
        self.hosts = allowed_hosts(host, port)
        self.cookie = cookie_name(port)

    def _authorised(self, request: Request) -> bool:
        given = request.cookies.get(self.cookie) or ""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("token "):
            given = header[6:].strip()
        return bool(given) and hmac.compare_digest(given, self.keys.token)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._refuse(request)
        if response is not None:
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", str(CSP).encode()), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff"),
                            (b"cache-control", b"no-store")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refuse(self, request: Request) -> Response | None:
        if request.headers.get("host", "") not in self.hosts:
            return PlainTextResponse("this server answers only on the address it printed at start", 403)
        token = request.query_params.get("token")
        if token is not None and request.method in SAFE_METHODS:
            if not hmac.compare_digest(token, self.keys.token):
                return PlainTextResponse("wrong token: open the URL `grader serve` printed", 403)
            query = urlencode([(k, v) for k, v in parse_qsl(request.url.query) if k != "token"])
            target = request.url.path + (f"?{query}" if query else "")
            redirect = RedirectResponse(target, 303)
            redirect.set_cookie(self.cookie, self.keys.token, httponly=True, samesite="strict", path="/")
            return redirect
        if not self._authorised(request):
            return PlainTextResponse("forbidden: open the URL with its token, as `grader serve` printed it", 403)
        if request.method not in SAFE_METHODS:
            if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), self.keys.csrf):
                return PlainTextResponse("refused: this write did not come from a page of this server (CSRF)", 403)
            origin = request.headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1] not in self.hosts:
                return PlainTextResponse("refused: a write from another site (CSRF)", 403)
        return None
