"""Who may talk to the render service: this machine's DAW scripts, never a web page.

An ASGI middleware in front of every route. It refuses, in this order: a peer that is
not loopback, a Host header that is not a loopback name (DNS rebinding: a page on
evil.example resolving to 127.0.0.1 still sends its own Host), an Origin other than a
loopback one (browsers add it to cross-site requests), a missing or wrong bearer token
(compared in constant time), and a body over the limit (read at most limit + 1 bytes,
whatever Content-Length claims). The token lives in a file only the owner can read.
"""

import hmac
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clapsep.errors import UserError

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
LOOPBACK_PEERS = {"127.0.0.1", "::1"}


def load_or_create_token(path: Path) -> str:
    """The service token, created (random, owner-only file) on first start."""
    if path.exists():
        mode = path.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UserError(f"{path} can be read by other users; run: chmod 600 {path}")
        token = path.read_text(encoding="utf-8").strip()
        if len(token) < 32:
            raise UserError(f"{path} holds no usable token (delete it and a new one is made)")
        return token
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def _hostname(value: str) -> str:
    """The host part of a Host header or an origin's netloc, without the port."""
    return urlsplit(f"//{value}").hostname or ""


class Guard:
    """Refuses foreign peers, hosts and origins, missing tokens and oversized bodies."""

    def __init__(self, app: ASGIApp, token: str, max_body: int) -> None:
        self.app, self.token, self.max_body = app, token.encode(), max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is None and scope["method"] in ("POST", "PUT", "PATCH"):
            body, refusal = await self._read_body(headers, receive)
            receive = _replay(body, receive)
        if refusal is not None:
            status, detail = refusal
            await JSONResponse({"detail": detail}, status, headers={"Connection": "close"})(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        client = scope.get("client")
        if client is None or client[0] not in LOOPBACK_PEERS:
            return 403, "only this machine may use the service"
        if _hostname(headers.get("host", "")) not in LOOPBACK_NAMES:
            return 403, "the Host header must name the loopback interface"
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_NAMES:
                return 403, "requests from web pages are refused"
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token
        ):
            return 401, "missing or wrong bearer token (see the service's token file)"
        return None

    async def _read_body(
        self, headers: dict[str, str], receive: Receive
    ) -> tuple[bytes, tuple[int, str] | None]:
        too_big = 413, f"request body over {self.max_body} bytes"
        try:
            if int(headers.get("content-length", "0")) > self.max_body:
                return b"", too_big
        except ValueError:
            return b"", (400, "bad Content-Length")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return b"", too_big
            more = message.get("more_body", False)
        return b"".join(chunks), None


def _replay(body: bytes, original: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app once, then listens on."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
