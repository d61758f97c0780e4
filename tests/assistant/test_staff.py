"""Staff accounts and sessions: argon2id hashing, the password and username rules, sign-in errors that do not tell unknown
users from wrong passwords, lockout, session expiry and revocation, disabling, the last admin, and the `zhiban staff` CLI.
Store tests run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from assistant import staff
from assistant.cli import main
from assistant.settings import Settings
from assistant.store import engine_for
from tests.utils.staff import DEFAULT_PASSWORD, fast_hashing, make_staff
from tests.utils.stores import stored_text

GOOD = "Zhiban-2026-pass"


@pytest.fixture
def store(store: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The shared empty store (SQLite or PostgreSQL), with cheap argon2 parameters."""
    fast_hashing(monkeypatch)
    return store


class Clock:
    """Replaces the store's clock: ``clock.advance(minutes=16)``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = dt.datetime.now(dt.UTC)
        monkeypatch.setattr(staff, "now", lambda: self.at)

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def stored_text_of(settings: Settings) -> str:
    return stored_text(settings, ("staff_users", "staff_sessions"))


# --- rules -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("wang.wu", True),
        ("agent_01", True),
        ("a-b", True),  # three characters is the minimum
        ("ab", False),  # too short
        ("x" * 33, False),  # too long
        ("Wang", False),  # upper case
        ("王五", False),  # only [a-z0-9_.-]
        ("wang wu", False),
        ("", False),
    ],
)
def test_username_rule(username: str, ok: bool) -> None:
    assert (staff.username_problem(username) is None) is ok


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Zhiban-2026", True),
        ("correct horse battery", True),  # letters and spaces are two classes
        ("abcdefghij", False),  # letters only
        ("1234567890", False),  # digits only
        ("abc123", False),  # too short
        ("ab1ab1ab1ab1", False),  # fewer than four different characters
        ("wang.wu-2026", False),  # contains the username
        ("x1" * 65, False),  # too long
    ],
)
def test_password_rule(password: str, ok: bool) -> None:
    assert (staff.password_problem(password, "wang.wu") is None) is ok


@given(st.text(max_size=staff.MIN_PASSWORD_CHARS - 1))
def test_short_passwords_are_always_refused(password: str) -> None:
    assert staff.password_problem(password) is not None


@given(st.text(alphabet=st.characters(categories=["L"]), min_size=10, max_size=40))
def test_one_kind_of_characters_is_refused(password: str) -> None:
    assert staff.password_problem(password) is not None


@given(st.text(min_size=0, max_size=60))
def test_every_problem_is_a_chinese_sentence(password: str) -> None:
    problem = staff.password_problem(password)
    assert problem is None or (problem.endswith("。") and any("\u4e00" <= ch <= "\u9fff" for ch in problem))


# --- accounts --------------------------------------------------------------------------------------------------------
def test_passwords_are_stored_as_argon2id_hashes_only(settings: Settings) -> None:
    # the real parameters here: this is what production uses
    account = staff.create_user(settings, "wang.wu", GOOD, role="agent", display_name="王五")
    assert (account.username, account.display_name, account.role, account.active) == ("wang.wu", "王五", "agent", True)
    with engine_for(settings.app_database_url).connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM staff_users")).scalar_one()
    assert stored.startswith("$argon2id$") and GOOD not in stored_text_of(settings)
    assert not PasswordHasher().check_needs_rehash(stored)


def test_a_login_with_old_parameters_upgrades_the_hash(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_hashing(monkeypatch)
    staff.create_user(settings, "wang.wu", GOOD)
    monkeypatch.setattr(staff, "HASHER", PasswordHasher())  # the parameters are raised after the account was made
    staff.authenticate(settings, "wang.wu", GOOD)
    with engine_for(settings.app_database_url).connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM staff_users")).scalar_one()
    assert not PasswordHasher().check_needs_rehash(stored) and PasswordHasher().verify(stored, GOOD)


def test_create_refuses_bad_values_and_duplicates(store: Settings) -> None:
    staff.create_user(store, "wang.wu", GOOD)
    with pytest.raises(staff.AccountExists):
        staff.create_user(store, "wang.wu", GOOD)
    for bad in ({"username": "WW"}, {"password": "short"}, {"role": "root"}, {"display_name": "a\nb"}):
        values = {"username": "li.si", "password": GOOD, "role": "agent", "display_name": "李四"} | bad
        with pytest.raises(staff.InvalidAccount) as caught:
            staff.create_user(store, values["username"], values["password"], role=values["role"],
                              display_name=values["display_name"])  # fmt: skip
        assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    assert [a.username for a in staff.list_users(store)] == ["wang.wu"]


def test_authenticate_returns_the_user_and_records_the_login(store: Settings) -> None:
    staff.create_user(store, "wang.wu", GOOD, role="admin", display_name="王五")
    user = staff.authenticate(store, "wang.wu", GOOD)
    assert user == staff.StaffUser(user.id, "wang.wu", "王五", "admin")
    assert staff.get_user(store, "wang.wu").last_login_at is not None


def test_unknown_user_wrong_password_and_disabled_account_fail_alike(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff.create_user(store, "wang.wu", GOOD)
    staff.create_user(store, "li.si", GOOD)
    staff.deactivate(store, "li.si")
    verified: list[str] = []
    real_verify = staff._verify

    def spy(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(staff, "_verify", spy)
    errors = []
    for username, password in [("nobody", GOOD), ("wang.wu", "Wrong-password-1"), ("li.si", GOOD)]:
        with pytest.raises(staff.AuthenticationFailed) as caught:
            staff.authenticate(store, username, password)
        errors.append((type(caught.value), caught.value.message))
    assert errors == [(staff.AuthenticationFailed, "用户名或密码不正确。")] * 3
    # an unknown name still costs one argon2 verification (against the dummy hash): the timing does not tell it apart
    assert len(verified) == 3 and verified[0] == staff._dummy_hash()


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(store: Settings, clock: Clock) -> None:
    staff.create_user(store, "wang.wu", GOOD)
    for _ in range(staff.MAX_FAILED_LOGINS - 1):
        with pytest.raises(staff.AuthenticationFailed) as caught:
            staff.authenticate(store, "wang.wu", "Wrong-password-1")
        assert type(caught.value) is staff.AuthenticationFailed
    with pytest.raises(staff.AccountLocked) as locked:
        staff.authenticate(store, "wang.wu", "Wrong-password-1")
    assert locked.value.until == clock.at + staff.LOCKOUT and "锁定" in locked.value.message
    clock.advance(minutes=14)
    with pytest.raises(staff.AccountLocked):
        staff.authenticate(store, "wang.wu", GOOD)  # even the right password, while locked
    assert staff.list_users(store)[0].locked_until is not None
    clock.advance(minutes=2)
    assert staff.authenticate(store, "wang.wu", GOOD).username == "wang.wu"


def test_a_successful_login_resets_the_count(store: Settings) -> None:
    staff.create_user(store, "wang.wu", GOOD)
    for _ in range(2):
        for _ in range(staff.MAX_FAILED_LOGINS - 1):
            with pytest.raises(staff.AuthenticationFailed):
                staff.authenticate(store, "wang.wu", "Wrong-password-1")
        staff.authenticate(store, "wang.wu", GOOD)  # eight wrong in all, but never five in a row


def test_a_password_reset_unlocks(store: Settings) -> None:
    staff.create_user(store, "wang.wu", GOOD)
    for _ in range(staff.MAX_FAILED_LOGINS):
        with pytest.raises(staff.AuthenticationFailed):
            staff.authenticate(store, "wang.wu", "Wrong-password-1")
    staff.set_password(store, "wang.wu", "New-password-7")
    assert staff.authenticate(store, "wang.wu", "New-password-7").username == "wang.wu"
    with pytest.raises(staff.AuthenticationFailed):
        staff.authenticate(store, "wang.wu", GOOD)


# --- sessions --------------------------------------------------------------------------------------------------------
def test_a_session_token_is_never_stored(store: Settings) -> None:
    login = make_staff(store, "agent", username="wang.wu")
    assert staff.session_user(store, login.token) == staff.StaffUser(1, "wang.wu", login.display_name, "agent")
    assert login.token not in stored_text_of(store) and staff.token_digest(login.token) in stored_text_of(store)


def test_sessions_expire(store: Settings, clock: Clock) -> None:
    login = make_staff(store.model_copy(update={"staff_session_hours": 8.0}), "agent")
    clock.advance(hours=7, minutes=59)
    assert staff.session_user(store, login.token) is not None
    clock.advance(minutes=2)
    assert staff.session_user(store, login.token) is None


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 10_000])
def test_unknown_tokens_have_no_user(store: Settings, token: str) -> None:
    make_staff(store, "agent")
    assert staff.session_user(store, token) is None


def test_revoking_ends_only_that_session(store: Settings) -> None:
    login = make_staff(store, "agent", username="wang.wu")
    other = staff.open_session(store, staff.authenticate(store, "wang.wu", DEFAULT_PASSWORD))
    assert staff.revoke_session(store, login.token) is True
    assert staff.session_user(store, login.token) is None
    assert staff.revoke_session(store, login.token) is False  # already ended
    assert staff.session_user(store, other.token) is not None


def test_disabling_ends_every_session_for_good(store: Settings) -> None:
    make_staff(store, "admin", username="boss")
    login = make_staff(store, "agent", username="wang.wu")
    staff.deactivate(store, "wang.wu")
    assert staff.session_user(store, login.token) is None
    staff.activate(store, "wang.wu")
    assert staff.session_user(store, login.token) is None  # enabling again does not bring old sessions back
    assert staff.authenticate(store, "wang.wu", DEFAULT_PASSWORD).username == "wang.wu"


def test_a_password_reset_ends_every_session(store: Settings) -> None:
    login = make_staff(store, "agent", username="wang.wu")
    staff.set_password(store, "wang.wu", "New-password-7")
    assert staff.session_user(store, login.token) is None


def test_a_role_change_reaches_open_sessions(store: Settings) -> None:
    make_staff(store, "admin", username="boss")
    login = make_staff(store, "agent", username="wang.wu")
    staff.set_role(store, "wang.wu", "admin")
    user = staff.session_user(store, login.token)
    assert user is not None and user.role == "admin"


def test_the_last_active_admin_stays(store: Settings) -> None:
    make_staff(store, "admin", username="boss")
    make_staff(store, "agent", username="wang.wu")
    for change in ({"active": False}, {"role": "agent"}):
        with pytest.raises(staff.LastAdmin):
            staff.update_user(store, "boss", **change)
    staff.set_role(store, "wang.wu", "admin")
    staff.set_role(store, "boss", "agent")  # now there is another admin
    assert {a.username: a.role for a in staff.list_users(store)} == {"boss": "agent", "wang.wu": "admin"}


def test_an_update_is_all_or_nothing(store: Settings) -> None:
    make_staff(store, "agent", username="wang.wu")
    with pytest.raises(staff.InvalidAccount):
        staff.update_user(store, "wang.wu", display_name="王五", password="short")
    assert staff.get_user(store, "wang.wu").display_name != "王五"
    with pytest.raises(staff.AccountNotFound):
        staff.update_user(store, "nobody", display_name="某人")


def test_the_migration_makes_both_tables(store: Settings) -> None:
    staff.list_users(store)
    tables = set(inspect(engine_for(store.app_database_url)).get_table_names())
    assert {"staff_users", "staff_sessions"} <= tables


# --- CLI -------------------------------------------------------------------------------------------------------------
@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    fast_hashing(monkeypatch)
    monkeypatch.setenv("ZHIBAN_DATA_DIR", str(settings.data_dir))
    return settings


def test_cli_adds_lists_resets_and_disables(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZHIBAN_NEW_STAFF_PASSWORD", GOOD)
    assert main(["staff", "add", "boss", "--role", "admin", "--name", "张主任"]) == 0
    assert main(["staff", "add", "wang.wu", "--role", "agent"]) == 0
    assert "已创建管理员账号 boss（张主任）" in capsys.readouterr().out
    assert staff.authenticate(cli_env, "boss", GOOD).role == "admin"
    monkeypatch.setenv("ZHIBAN_NEW_STAFF_PASSWORD", "Other-password-9")
    assert main(["staff", "passwd", "wang.wu"]) == 0
    assert staff.authenticate(cli_env, "wang.wu", "Other-password-9").username == "wang.wu"
    assert main(["staff", "disable", "wang.wu"]) == 0
    assert main(["staff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "boss" in listing and "管理员" in listing and "wang.wu" in listing and "停用" in listing


def test_cli_asks_twice_for_the_password(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ZHIBAN_NEW_STAFF_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    typed = iter([GOOD, "Something-else-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["staff", "add", "boss", "--role", "admin"]) == 1
    assert "两次输入的密码不一致" in capsys.readouterr().err
    typed = iter([GOOD, GOOD])
    assert main(["staff", "add", "boss", "--role", "admin"]) == 0


@pytest.mark.parametrize(
    ("argv", "password", "message"),
    [
        (["staff", "add", "Boss", "--role", "admin"], GOOD, "用户名应由"),  # upper case
        (["staff", "add", "boss", "--role", "admin"], "short", "至少需要10个字符"),
        (["staff", "passwd", "nobody"], GOOD, "没有这个账号"),
        (["staff", "disable", "nobody"], GOOD, "没有这个账号"),
    ],
)
def test_cli_errors_exit_1_with_a_chinese_message(
    cli_env: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    password: str,
    message: str,
) -> None:
    monkeypatch.setenv("ZHIBAN_NEW_STAFF_PASSWORD", password)
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_cli_refuses_a_duplicate_and_the_last_admin(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZHIBAN_NEW_STAFF_PASSWORD", GOOD)
    assert main(["staff", "add", "boss", "--role", "admin"]) == 0
    assert main(["staff", "add", "boss", "--role", "agent"]) == 1
    assert main(["staff", "disable", "boss"]) == 1
    err = capsys.readouterr().err
    assert "已经有人使用" in err and "至少要保留一个启用的管理员账号" in err
