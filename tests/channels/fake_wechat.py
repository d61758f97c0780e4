"""A fake WeChat server API on a real loopback port (``http.server`` in a thread), recording what it received.

It speaks the two calls the gateway makes: ``GET /cgi-bin/token`` (access token for an AppID and AppSecret) and
``POST /cgi-bin/message/custom/send?access_token=…`` (customer-service message), with WeChat's JSON and errcodes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

APP_ID = "wx0123456789abcdef"
APP_SECRET = "fake-app-secret-0123456789abcdef"


@dataclass
class FakeWeChat:
    """State of the fake: the tokens it issued, the ones it calls expired, and the messages it accepted."""

    port: int = 0
    expires_in: int = 7200
    token_requests: list[dict[str, str]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # errcodes answered to message sends
    issued: list[str] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_tokens(self) -> None:
        """Make every token issued so far answer 42001 (access_token expired)."""
        with self.changed:
            self.expired.update(self.issued)

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The accepted messages once there are ``count`` of them (or whatever arrived by ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.changed.wait(deadline - time.monotonic())
            return list(self.messages)

    def token(self, query: dict[str, str]) -> dict[str, Any]:
        with self.changed:
            self.token_requests.append(query)
            if query.get("grant_type") != "client_credential" or query.get("appid") != APP_ID:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != APP_SECRET:
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = f"TOKEN-{len(self.issued) + 1}"
            self.issued.append(token)
            return {"access_token": token, "expires_in": self.expires_in}

    def send(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.changed:
            if token not in self.issued:
                errcode, errmsg = 40001, "invalid credential, access_token is invalid or not latest"
            elif token in self.expired:
                errcode, errmsg = 42001, "access_token expired"
            elif body.get("msgtype") != "text" or not body.get("touser") or not body.get("text", {}).get("content"):
                errcode, errmsg = 44002, "empty post data"
            elif len(body["text"]["content"].encode("utf-8")) > 2048:
                errcode, errmsg = 45002, "content size out of limit"
            else:
                self.messages.append({**body, "access_token": token})
                self.changed.notify_all()
                return {"errcode": 0, "errmsg": "ok"}
            self.refused.append(errcode)
            return {"errcode": errcode, "errmsg": errmsg}


def _handler(fake: FakeWeChat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _query(self) -> dict[str, str]:
            return {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}

        def _answer(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if urlparse(self.path).path == "/cgi-bin/token":
                self._answer(fake.token(self._query()))
            else:
                self._answer({"errcode": 404, "errmsg": "not found"}, 404)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urlparse(self.path).path != "/cgi-bin/message/custom/send":
                self._answer({"errcode": 404, "errmsg": "not found"}, 404)
                return
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                self._answer({"errcode": 47001, "errmsg": "data format error"})
                return
            self._answer(fake.send(self._query().get("access_token", ""), body))

    return Handler


@contextmanager
def fake_wechat_server() -> Iterator[FakeWeChat]:
    """A running fake on a free loopback port; stopped when the block ends."""
    fake = FakeWeChat()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="fake-wechat", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
