"""Signed session ids: the gateway issues them and accepts back only the ones it signed.

A session id is ``<32 hex chars>.<signature>``; the hex part is the conversation id Rasa sees as ``sender``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from channels.errors import InvalidSession

_SESSION = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{24})$")


def _sign(conversation_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), conversation_id.encode(), hashlib.sha256).hexdigest()
    return digest[:24]


def issue_session(secret: str) -> str:
    """A new signed session id."""
    conversation_id = secrets.token_hex(16)
    return f"{conversation_id}.{_sign(conversation_id, secret)}"


def conversation_of(session_id: str, secret: str) -> str:
    """The conversation id inside ``session_id``.

    Raises:
        InvalidSession: the id is malformed or was not signed with ``secret``.
    """
    match = _SESSION.match(session_id)
    if not match or not hmac.compare_digest(match.group(2), _sign(match.group(1), secret)):
        raise InvalidSession(context=f"rejected session id {session_id[:40]!r}")
    return match.group(1)
