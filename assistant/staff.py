"""Staff accounts (agents and admins), their passwords and their sign-in sessions.

Passwords are hashed with argon2id (argon2-cffi's :class:`~argon2.PasswordHasher`, default parameters); a hash made with
older parameters is replaced at the next successful sign-in. A session is a random token handed to the browser (or a
script) once; only its SHA-256 digest is stored, so a copy of the database cannot be used to sign in.

Exception tree::

    StaffError                  base; ``message`` is a Chinese sentence that can be shown to staff
    ├── InvalidAccount          a username, display name, role or password that breaks the rules (ValueError)
    ├── AccountExists           the username is taken
    ├── AccountNotFound         no account has this username (LookupError)
    ├── LastAdmin               the change would leave no active admin
    └── AuthenticationFailed    unknown user, wrong password or disabled account — one error for all three
        └── AccountLocked       too many wrong passwords in a row; refused until ``until``

Sign-in takes about the same time whether or not the username exists: an unknown name is checked against a dummy hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from assistant.settings import Settings
from assistant.store import Base, now, session_scope

ROLES: dict[str, str] = {"agent": "工作人员", "admin": "管理员"}
USERNAME_PATTERN = re.compile(r"[a-z0-9_.-]{3,32}")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 128
MAX_DISPLAY_NAME_CHARS = 64
#: Wrong passwords in a row that lock an account, and for how long.
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
#: ``last_seen_at`` is written at most this often per session (not on every request).
SEEN_RESOLUTION = dt.timedelta(minutes=1)

#: The one hasher (argon2id, argon2-cffi's current recommended parameters). Tests may replace it.
HASHER = PasswordHasher()


class StaffUserRecord(Base):
    """A staff account (table ``staff_users``)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # agent | admin
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StaffSessionRecord(Base):
    """A sign-in session (table ``staff_sessions``); the token itself is never stored, only its digest."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


# --- errors ----------------------------------------------------------------------------------------------------------
class StaffError(Exception):
    """Base of this module's errors; ``message`` is plain Chinese for the person at the screen."""

    default_message = "账号操作失败。"

    def __init__(self, message: str | None = None, *, context: str = "") -> None:
        self.message = message or self.default_message
        self.context = context
        super().__init__(context or self.message)


class InvalidAccount(StaffError, ValueError):
    default_message = "账号信息不符合要求。"


class AccountExists(StaffError):
    default_message = "这个用户名已经有人使用。"


class AccountNotFound(StaffError, LookupError):
    default_message = "没有这个账号。"


class LastAdmin(StaffError):
    default_message = "至少要保留一个启用的管理员账号。"


class AuthenticationFailed(StaffError):
    default_message = "用户名或密码不正确。"


class AccountLocked(AuthenticationFailed):
    default_message = "密码连续输错次数太多，账号已暂时锁定，请15分钟后再试或联系管理员。"

    def __init__(self, until: dt.datetime, *, context: str = "") -> None:
        super().__init__(context=context)
        self.until = until


# --- what callers see ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StaffUser:
    """A signed-in (or signing-in) staff member."""

    id: int
    username: str
    display_name: str
    role: str  # "agent" | "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class StaffAccount:
    """An account as the admin pages list it."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    locked_until: dt.datetime | None

    @property
    def user(self) -> StaffUser:
        return StaffUser(self.id, self.username, self.display_name, self.role)


@dataclass(frozen=True)
class OpenedSession:
    """A new session: the token (shown once, never stored) and when it ends."""

    token: str
    user: StaffUser
    expires_at: dt.datetime


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes (stored in UTC); make them comparable with :func:`now`."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _user(row: StaffUserRecord) -> StaffUser:
    return StaffUser(row.id, row.username, row.display_name, row.role)


def _account(row: StaffUserRecord, at: dt.datetime) -> StaffAccount:
    locked = aware(row.locked_until) if row.locked_until is not None else None
    return StaffAccount(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        active=row.active,
        created_at=aware(row.created_at),
        last_login_at=aware(row.last_login_at) if row.last_login_at is not None else None,
        locked_until=locked if locked is not None and locked > at else None,
    )


# --- rules (pure) ----------------------------------------------------------------------------------------------------
def username_problem(username: str) -> str | None:
    """Why ``username`` is not acceptable (Chinese), or None."""
    if not USERNAME_PATTERN.fullmatch(username):
        return "用户名应由3到32个小写字母、数字或 _ . - 组成。"
    return None


def display_name_problem(name: str) -> str | None:
    if not name.strip():
        return "显示名不能为空。"
    if len(name) > MAX_DISPLAY_NAME_CHARS or any(ch < " " for ch in name):
        return f"显示名最多{MAX_DISPLAY_NAME_CHARS}个字，不能包含换行等控制字符。"
    return None


def role_problem(role: str) -> str | None:
    return None if role in ROLES else "角色只能是 agent（工作人员）或 admin（管理员）。"


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is too weak (Chinese), or None.

    At least 10 characters, at most 128; at least two kinds of characters (letters, digits, others); at least four
    different characters; not containing the username.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        return f"密码至少需要{MIN_PASSWORD_CHARS}个字符。"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"密码最多{MAX_PASSWORD_CHARS}个字符。"
    kinds = {"letter" if ch.isalpha() else "digit" if ch.isdigit() else "other" for ch in password}
    if len(kinds) < 2:
        return "密码需要包含至少两类字符（字母、数字、符号）。"
    if len(set(password)) < 4:
        return "密码重复字符太多，请换一个更难猜的密码。"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名。"
    return None


def _check(problem: str | None, context: str) -> None:
    if problem is not None:
        raise InvalidAccount(problem, context=context)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    """A hash of a random password made with the current parameters: unknown usernames are verified against it, so they
    take as long as known ones."""
    key = (HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- accounts --------------------------------------------------------------------------------------------------------
def _row(session: Session, username: str, *, lock: bool = False) -> StaffUserRecord:
    query = select(StaffUserRecord).where(StaffUserRecord.username == username)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise AccountNotFound(context=f"no staff account {username!r}")
    return row


def _active_admins(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).where(StaffUserRecord.role == "admin", StaffUserRecord.active.is_(True)))
        or 0
    )


def create_user(
    settings: Settings, username: str, password: str, *, role: str = "agent", display_name: str = ""
) -> StaffAccount:
    """Create an account.

    Raises:
        InvalidAccount: the username, name, role or password breaks the rules (the message says which and why).
        AccountExists: the username is taken.
    """
    display_name = display_name.strip() or username
    _check(username_problem(username), f"username {username!r}")
    _check(display_name_problem(display_name), "display name")
    _check(role_problem(role), f"role {role!r}")
    _check(password_problem(password, username), "password policy")
    password_hash = HASHER.hash(password)
    with session_scope(settings) as session:
        if session.scalar(select(StaffUserRecord.id).where(StaffUserRecord.username == username)) is not None:
            raise AccountExists(context=f"staff account {username!r} exists")
        row = StaffUserRecord(
            username=username, display_name=display_name, role=role, password_hash=password_hash, active=True
        )
        session.add(row)
        session.flush()
        return _account(row, now())


def list_users(settings: Settings) -> list[StaffAccount]:
    """Every account, by username."""
    at = now()
    with session_scope(settings) as session:
        return [
            _account(row, at) for row in session.scalars(select(StaffUserRecord).order_by(StaffUserRecord.username))
        ]


def get_user(settings: Settings, username: str) -> StaffAccount:
    with session_scope(settings) as session:
        return _account(_row(session, username), now())


def update_user(
    settings: Settings,
    username: str,
    *,
    display_name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> StaffAccount:
    """Change any of the account's display name, role, active flag and password, all or nothing.

    Disabling the account or resetting its password ends all its sessions (whoever had it is shut out) and unlocks it;
    a role change reaches open sessions at their next request.

    Raises:
        AccountNotFound: no such account.
        InvalidAccount: a new value breaks the rules.
        LastAdmin: no active admin would be left.
    """
    if display_name is not None:
        display_name = display_name.strip()
        _check(display_name_problem(display_name), "display name")
    if role is not None:
        _check(role_problem(role), f"role {role!r}")
    password_hash = None
    if password is not None:
        _check(password_problem(password, username), "password policy")
        password_hash = HASHER.hash(password)
    with session_scope(settings) as session:
        row = _row(session, username, lock=True)
        was_admin = row.active and row.role == "admin"
        stays_admin = (row.active if active is None else active) and (role or row.role) == "admin"
        if was_admin and not stays_admin and _active_admins(session) <= 1:
            raise LastAdmin(context=f"{username} is the last active admin")
        if display_name is not None:
            row.display_name = display_name
        if role is not None:
            row.role = role
        if password_hash is not None:
            row.password_hash = password_hash
        if active is not None and active != row.active:
            row.active = active
            if active:
                row.failed_logins, row.locked_until = 0, None
        if password_hash is not None or active is False:
            row.failed_logins, row.locked_until = 0, None
            _revoke_all(session, row.id)
        session.flush()
        return _account(row, now())


def set_password(settings: Settings, username: str, password: str) -> StaffAccount:
    """Replace the password, unlock the account and end all its sessions."""
    return update_user(settings, username, password=password)


def set_role(settings: Settings, username: str, role: str) -> StaffAccount:
    """Change the role (:class:`LastAdmin` if the last active admin would become an agent)."""
    return update_user(settings, username, role=role)


def set_display_name(settings: Settings, username: str, display_name: str) -> StaffAccount:
    return update_user(settings, username, display_name=display_name)


def deactivate(settings: Settings, username: str) -> StaffAccount:
    """Disable the account and end all its sessions (:class:`LastAdmin` for the last active admin)."""
    return update_user(settings, username, active=False)


def activate(settings: Settings, username: str) -> StaffAccount:
    """Enable a disabled account again (it signs in with its old password; reset it if that is unknown)."""
    return update_user(settings, username, active=True)


def authenticate(settings: Settings, username: str, password: str) -> StaffUser:
    """The account ``username`` if ``password`` is its password.

    An unknown username, a wrong password and a disabled account raise the same :class:`AuthenticationFailed` after about
    the same time. :data:`MAX_FAILED_LOGINS` wrong passwords in a row lock the account for :data:`LOCKOUT`; while locked,
    even the right password raises :class:`AccountLocked`. A hash made with older argon2 parameters is replaced.
    """
    with session_scope(settings) as session:
        row = session.scalar(select(StaffUserRecord).where(StaffUserRecord.username == username))
        found = (row.id, row.password_hash, row.active, row.locked_until) if row is not None else None
    if found is None:
        _verify(_dummy_hash(), password)
        raise AuthenticationFailed(context=f"unknown staff account {username!r}")
    user_id, password_hash, active, locked_until = found
    correct = _verify(password_hash, password)
    at = now()
    if locked_until is not None and aware(locked_until) > at:
        raise AccountLocked(aware(locked_until), context=f"{username} is locked")
    if not active:
        raise AuthenticationFailed(context=f"{username} is disabled")
    locked_now: dt.datetime | None = None
    with session_scope(settings) as session:
        row = session.scalar(select(StaffUserRecord).where(StaffUserRecord.id == user_id).with_for_update())
        assert row is not None
        if correct:
            row.failed_logins = 0
            row.locked_until = None
            row.last_login_at = at
            if HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = HASHER.hash(password)
            return _user(row)
        # the count is committed before the error is raised (raising inside the block would roll it back)
        row.failed_logins += 1
        if row.failed_logins >= MAX_FAILED_LOGINS:
            row.failed_logins = 0
            row.locked_until = locked_now = at + LOCKOUT
    if locked_now is not None:
        raise AccountLocked(locked_now, context=f"{username}: {MAX_FAILED_LOGINS} wrong passwords in a row, locked")
    raise AuthenticationFailed(context=f"wrong password for {username}")


# --- sessions --------------------------------------------------------------------------------------------------------
def open_session(settings: Settings, user: StaffUser) -> OpenedSession:
    """Start a session of ``settings.staff_session_hours`` for ``user``; the returned token is not kept anywhere."""
    token = secrets.token_urlsafe(32)
    at = now()
    expires_at = at + dt.timedelta(hours=settings.staff_session_hours)
    with session_scope(settings) as session:
        # sessions that ended long ago are of no use any more
        session.execute(
            delete(StaffSessionRecord).where(
                StaffSessionRecord.user_id == user.id, StaffSessionRecord.expires_at < at - dt.timedelta(days=7)
            )
        )
        session.add(StaffSessionRecord(user_id=user.id, token_digest=token_digest(token), expires_at=expires_at))
    return OpenedSession(token=token, user=user, expires_at=expires_at)


def session_user(settings: Settings, token: str) -> StaffUser | None:
    """The account signed in with ``token``; None for an unknown, expired or revoked session or a disabled account."""
    if not token or len(token) > 256:
        return None
    at = now()
    with session_scope(settings) as session:
        found = session.execute(
            select(StaffSessionRecord, StaffUserRecord)
            .join(StaffUserRecord, StaffUserRecord.id == StaffSessionRecord.user_id)
            .where(StaffSessionRecord.token_digest == token_digest(token))
        ).first()
        if found is None:
            return None
        record, row = found
        if record.revoked_at is not None or aware(record.expires_at) <= at or not row.active:
            return None
        if at - aware(record.last_seen_at) >= SEEN_RESOLUTION:
            record.last_seen_at = at
        return _user(row)


def revoke_session(settings: Settings, token: str) -> bool:
    """End the session of ``token`` (signing out); False if there was no open session."""
    with session_scope(settings) as session:
        result = session.execute(
            update(StaffSessionRecord)
            .where(StaffSessionRecord.token_digest == token_digest(token), StaffSessionRecord.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        return bool(getattr(result, "rowcount", 0))


def _revoke_all(session: Session, user_id: int) -> None:
    session.execute(
        update(StaffSessionRecord)
        .where(StaffSessionRecord.user_id == user_id, StaffSessionRecord.revoked_at.is_(None))
        .values(revoked_at=now())
    )
