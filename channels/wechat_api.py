"""A small async client of WeChat's server API: the access token and the customer-service text message.

The gateway sends an answer as a customer-service message (客服消息) when it cannot reply inside WeChat's 5-second window,
when an answer is longer than one message, and always for mini-programs (which cannot reply passively with text).
The access token is fetched with the AppID and AppSecret, kept until shortly before it expires, and fetched again once
when WeChat says it is invalid or expired (another process may have fetched a newer one). Every failure becomes
:class:`WeChatAPIError` naming WeChat's errcode; neither the message text nor the secret or token appears in it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

#: errcodes meaning "this access token is no longer good": 40001 invalid credential, 40014 invalid token, 42001 expired.
STALE_TOKEN_CODES = frozenset({40001, 40014, 42001})

#: A token is renewed this many seconds before WeChat's ``expires_in`` runs out (at most half its lifetime).
RENEW_MARGIN = 300.0


class WeChatAPIError(Exception):
    """WeChat's API could not be reached or refused the request; the message says which call and why."""


class WeChatAPI:
    """Sends customer-service text messages for one 公众号 or mini-program."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._app_id = app_id
        self._app_secret = app_secret
        self._clock = clock
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), transport=transport)
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def access_token(self, *, stale: str = "") -> str:
        """A valid access token: the cached one, or a new one when there is none, it expired or it is ``stale``.

        Raises:
            WeChatAPIError: the token could not be fetched.
        """
        async with self._lock:  # one fetch for all the messages waiting for a token
            if self._token and self._token != stale and self._clock() < self._expires_at:
                return self._token
            self._token, lifetime = await self._fetch_token()
            self._expires_at = self._clock() + max(lifetime - RENEW_MARGIN, lifetime / 2)
            return self._token

    async def send_text(self, openid: str, content: str) -> None:
        """Send ``content`` to ``openid`` as a customer-service text message.

        Raises:
            WeChatAPIError: WeChat could not be reached or refused the message (after one token refresh if it said the
                token was stale).
        """
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        token = await self.access_token()
        answer = await self._post_custom(token, payload)
        if answer.get("errcode") in STALE_TOKEN_CODES:
            token = await self.access_token(stale=token)
            answer = await self._post_custom(token, payload)
        if answer.get("errcode", 0) != 0:
            raise WeChatAPIError(f"message/custom/send: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")

    async def _fetch_token(self) -> tuple[str, float]:
        if not self._app_id or not self._app_secret:
            raise WeChatAPIError("no access token: ZHIBAN_WECHAT_APP_ID and ZHIBAN_WECHAT_APP_SECRET are not both set")
        params = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret}
        answer = await self._call("GET", "/cgi-bin/token", params=params)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatAPIError(f"cgi-bin/token: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")
        try:
            lifetime = float(answer.get("expires_in", 7200))
        except (TypeError, ValueError):
            lifetime = 7200.0
        return token, max(lifetime, 0.0)

    async def _post_custom(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        # ensure_ascii=False: the message goes as UTF-8, the form WeChat documents for Chinese text
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return await self._call(
            "POST",
            "/cgi-bin/message/custom/send",
            params={"access_token": token},
            content=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        # The URL carries the secret or the token, so errors name the path only.
        try:
            response = await self._client.request(method, f"{self._base_url}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise WeChatAPIError(f"{path}: WeChat unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise WeChatAPIError(f"{path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise WeChatAPIError(f"{path}: answer is not JSON") from None
        if not isinstance(answer, dict):
            raise WeChatAPIError(f"{path}: unexpected answer")
        return answer
