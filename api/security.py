"""Security at the edge of every answer: trusted hosts, the public base URL links are built
from, and the browser security headers (a Content-Security-Policy with a nonce per page).

- **Hosts.** Links (OGC ``self``/``next``/``items``, ``Location``) are built from the request's
  base URL, which Starlette takes from the ``Host`` header, so ``Host: evil.example`` once
  yielded links there. A request naming a host not in ``GIS_TRUSTED_HOSTS`` is refused (400)
  before any route runs; with ``GIS_PUBLIC_BASE_URL`` set (the address users reach behind a
  proxy), every link is built from it whatever the request said.
- **Headers.** Every answer carries ``X-Content-Type-Options: nosniff``, ``X-Frame-Options:
  DENY``, ``Referrer-Policy: no-referrer`` and a CSP: pages get ``script-src 'self'
  'nonce-…'`` (a fresh nonce per response, stamped by the portal on the
  inline scripts Folium writes, so an injected script has none and does not run: the portal
  keeps the API key in localStorage, where any script of the page could read it); other
  answers get
  ``default-src 'none'``. FastAPI's ``/docs`` and ``/redoc`` load Swagger UI/ReDoc from
  their CDN with an inline script, so they get a policy of their own allowing exactly that.

A pure ASGI middleware (``BaseHTTPMiddleware`` would buffer streamed answers).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import lang_of, problem
from gis.messages import text

#: Where the page's nonce is kept in ``scope["state"]`` (``request.state.csp_nonce``).
NONCE_STATE = "csp_nonce"

#: No ``'unsafe-eval'``: none of our scripts or libraries evaluates strings. The browser tests
#: that drive pages with Playwright's ``wait_for_function`` (which compiles its predicate with
#: ``eval`` in the page) open their contexts with ``bypass_csp``; tests/test_portal_security.py
#: checks the pages under the real policy. An injection (an inline script, an event-handler
#: attribute) needs the nonce and does not run.
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; "
               "connect-src 'self'; font-src 'self' data:; object-src 'none'; "
               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "img-src 'self' data: https:; connect-src 'self'; worker-src 'self' blob:; "
               "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
)


def host_of(value: str) -> str:
    """The host name of a ``Host`` header value, without port or IPv6 brackets, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host: str, trusted: tuple[str, ...]) -> bool:
    """``host`` matches a trusted name: exactly, ``*`` (any), or ``*.example.cn`` (subdomains)."""
    for pattern in trusted:
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
    return False


class Security:
    """Refuse untrusted hosts, pin links to the public base URL, add the security headers."""

    def __init__(self, app: ASGIApp, trusted_hosts: list[str],
                 public_base_url: str | None = None) -> None:
        self.app = app
        self.public = urlsplit(public_base_url) if public_base_url else None
        trusted = [host_of(h) if h not in ("*",) and not h.startswith("*.") else h.lower()
                   for h in trusted_hosts]
        if self.public is not None and self.public.hostname:
            trusted.append(self.public.hostname.lower())
        self.trusted = tuple(trusted)
        self.hsts = self.public is not None and self.public.scheme == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = host_of(headers.get("host", ""))
        if not host_allowed(host, self.trusted):
            lang = lang_of(headers)
            response = problem(400, text("security.untrusted_host_title", lang),
                               text("security.untrusted_host", lang, host=host[:100]),
                               scope["path"])
            await response(scope, receive, send)
            return
        if self.public is not None:
            scope = self._pinned(scope)
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})[NONCE_STATE] = nonce
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self._headers(message, path, nonce)}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _pinned(self, scope: Scope) -> Scope:
        """The request as if it had come to the public base URL: scheme, server and
        ``Host`` from it, so every link the app builds points there."""
        assert self.public is not None
        port = self.public.port or (443 if self.public.scheme == "https" else 80)
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        headers.append((b"host", self.public.netloc.encode("latin-1")))
        return {**scope, "scheme": self.public.scheme,
                "server": (self.public.hostname, port), "headers": headers}

    def _headers(self, message: Message, path: str, nonce: str) -> list[tuple[bytes, bytes]]:
        headers = list(message.get("headers", []))
        present = {k.lower() for k, _ in headers}
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if path in DOCS_PATHS:
            policy = DOCS_POLICY
        elif content_type.startswith(b"text/html"):
            policy = PAGE_POLICY.format(nonce=nonce)
        else:
            policy = DATA_POLICY
        extra = [*_FIXED, (b"content-security-policy", policy.encode())]
        if self.hsts:
            extra.append((b"strict-transport-security", b"max-age=31536000"))
        headers.extend((k, v) for k, v in extra if k not in present)
        return headers
