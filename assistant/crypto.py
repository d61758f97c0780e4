"""Encryption of personal data at rest, and keyed digests for looking values up without storing them.

Application answers, drafts, profiles and vaulted message numbers are stored as Fernet tokens (AES-128-CBC with an
HMAC-SHA256, from the maintained ``cryptography`` package) under ``ZHIBAN_DATA_KEY``. Checks such as "the last four digits
of the applicant's ID" compare keyed digests (HMAC-SHA256 with a key derived from the same secret), so the database holds
neither the digits nor a plain hash that could be brute-forced without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from assistant.settings import Settings


class DataKeyError(RuntimeError):
    """The data key cannot decrypt a stored value (it was changed, or the value was tampered with)."""


class DataCipher:
    """Encrypts and decrypts text and JSON with one data key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode("ascii"))
        self._digest_key = hmac.new(base64.urlsafe_b64decode(key), b"zhiban-lookup-digest", hashlib.sha256).digest()

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise DataKeyError(
                "a stored value cannot be decrypted with ZHIBAN_DATA_KEY (wrong key or damaged data)"
            ) from exc

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def digest(self, purpose: str, value: str) -> str:
        """A keyed digest of ``value`` for ``purpose`` (e.g. "id_last4"): equal inputs give equal digests."""
        return hmac.new(self._digest_key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _cipher(key: str) -> DataCipher:
    return DataCipher(key)


def cipher_for(settings: Settings) -> DataCipher:
    """The cipher of the configured data key (the key itself is validated by the settings)."""
    return _cipher(settings.data_key)


def generate_key() -> str:
    """A new random data key for ZHIBAN_DATA_KEY."""
    return Fernet.generate_key().decode("ascii")
