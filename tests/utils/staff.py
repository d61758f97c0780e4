"""Staff accounts for tests: an account of a given role, already signed in (a session token and its headers)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher

from assistant import staff
from assistant.settings import Settings

DEFAULT_PASSWORD = "Test-password-42"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class StaffLogin:
    """A staff account and an open session: ``headers`` authenticate a request as this account."""

    username: str
    password: str
    token: str
    role: str = "agent"
    display_name: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def cookies(self) -> dict[str, str]:
        """The session cookie instead of the bearer header (what a browser sends)."""
        return {"zhiban_staff": self.token}


def make_staff(
    settings: Settings, role: str = "agent", username: str | None = None, password: str | None = None
) -> StaffLogin:
    """Create an account of ``role`` ("agent" or "admin") in the store of ``settings`` and open a session for it."""
    username = username or f"{role}{next(_numbers)}"
    password = password or DEFAULT_PASSWORD
    account = staff.create_user(
        settings, username, password, role=role, display_name=f"测试{staff.ROLES[role]}{username}"
    )
    opened = staff.open_session(settings, account.user)
    return StaffLogin(
        username=username,
        password=password,
        token=opened.token,
        role=role,
        display_name=account.display_name,
        headers={"Authorization": f"Bearer {opened.token}"},
    )


def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2id parameters for tests that create many accounts (the real ones take ~0.1-0.5 s per hash)."""
    monkeypatch.setattr(staff, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
