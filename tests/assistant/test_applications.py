"""The application store: receipts, idempotent and concurrent submits, the lifecycle, verified progress, drafts, profiles,
encryption at rest and migrations."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from assistant import applications as apps
from assistant.crypto import DataCipher, DataKeyError, generate_key
from assistant.settings import Settings
from assistant.store import Base, driver_url, engine_for, migrate
from tests.utils.applications import submit_card_application
from tests.utils.stores import stored_text

ID = "11010519491231002X"
PHONE = "13812345678"


def submit(settings: Settings, key: str = "draft-1", user: str = "user-a") -> tuple[apps.Receipt, bool]:
    return submit_card_application(
        settings,
        user=user,
        key=key,
        answers={"holder_name": "张三", "holder_id_number": ID, "holder_phone": PHONE},
        summary=["持卡人姓名：张三", "身份证号：110***********002X"],
        proofs=[ID[-4:], PHONE[-4:]],
    )


def test_submit_gives_a_receipt_number_and_history(store: Settings) -> None:
    receipt, created = submit(store)
    assert created
    assert receipt.receipt_no.startswith("SBK-") and receipt.receipt_no.endswith("-000001")
    assert receipt.status == "submitted" and receipt.status_info.label == "已提交"
    assert [h[0] for h in receipt.history] == ["submitted"]
    assert apps.answers_of(store, receipt.receipt_no)["holder_id_number"] == ID


def test_a_repeated_submit_returns_the_same_application(store: Settings) -> None:
    first, _ = submit(store)
    again, created = submit(store)
    assert not created and again.receipt_no == first.receipt_no
    assert submit(store, key="draft-2")[0].receipt_no != first.receipt_no


def test_concurrent_double_submit_creates_one_application(store: Settings) -> None:
    submit(store, key="warm-up")  # schema in place before the race
    results: list[apps.Receipt] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(submit(store, key="raced")[0])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.receipt_no for r in results}) == 1
    with engine_for(store.app_database_url).connect() as connection:
        count = connection.execute(text("select count(*) from applications where idempotency_key='raced'")).scalar()
    assert count == 1


@pytest.mark.parametrize(
    ("proof", "ok"), [("002X", True), ("002x", True), ("5678", True), ("1234", False), ("", False)]
)
def test_progress_only_for_the_applicant(store: Settings, proof: str, ok: bool) -> None:
    receipt, _ = submit(store)
    found = apps.verified(store, receipt.receipt_no, proof)
    assert (found is not None) is ok
    assert apps.verified(store, "SBK-20990101-000009", "002X") is None


def test_lifecycle_moves_and_refusals(store: Settings) -> None:
    receipt, _ = submit(store)
    number = receipt.receipt_no
    assert apps.move(store, number, "accepted").status == "accepted"
    assert apps.move(store, number, "reviewing").status == "reviewing"
    assert apps.move(store, number, "correction", note="缺少照片").status == "correction"
    assert apps.move(store, number, "reviewing").status == "reviewing"
    done = apps.move(store, number, "completed", actor="staff-7")
    assert [h[0] for h in done.history] == [
        "submitted",
        "accepted",
        "reviewing",
        "correction",
        "reviewing",
        "completed",
    ]
    assert done.history[3][1] == "缺少照片"
    with pytest.raises(apps.TransitionError):
        apps.move(store, number, "reviewing")
    with pytest.raises(apps.TransitionError):
        apps.move(store, number, "archived")
    with pytest.raises(apps.ApplicationNotFound):
        apps.move(store, "SBK-20990101-000009", "accepted")


def test_every_status_is_explained_and_final_ones_do_not_move() -> None:
    assert set(apps.STATUSES) == set(apps.TRANSITIONS)
    for code, status in apps.STATUSES.items():
        assert status.meaning and status.next_step
        assert all(t in apps.STATUSES for t in apps.TRANSITIONS[code])
    assert not apps.TRANSITIONS["completed"] and not apps.TRANSITIONS["rejected"]


def test_drafts_are_kept_per_user_and_form(store: Settings) -> None:
    apps.save_draft(store, "user-a", "social_security_card", {"values": {"holder_phone": PHONE}, "skipped": []})
    apps.save_draft(store, "user-a", "social_security_card", {"values": {"holder_phone": "13900000000"}, "skipped": []})
    assert apps.load_draft(store, "user-a") == (
        "social_security_card",
        {"values": {"holder_phone": "13900000000"}, "skipped": []},
    )
    assert apps.load_draft(store, "user-b") is None
    apps.discard_draft(store, "user-a", "social_security_card")
    assert apps.load_draft(store, "user-a") is None


def test_profile_merges_values(store: Settings) -> None:
    apps.save_profile(store, "user-a", {"name": "张三", "phone": PHONE})
    apps.save_profile(store, "user-a", {"id_number": ID})
    assert apps.load_profile(store, "user-a") == {"name": "张三", "phone": PHONE, "id_number": ID}
    assert apps.load_profile(store, "nobody") == {}


def test_personal_data_is_encrypted_at_rest(store: Settings) -> None:
    submit(store)
    apps.save_draft(store, "user-a", "social_security_card", {"values": {"holder_id_number": ID}, "skipped": []})
    apps.save_profile(store, "user-a", {"phone": PHONE, "name": "张三"})
    raw = stored_text(store)
    for value in (ID, PHONE, "张三", ID[-4:]):
        assert value not in raw
    if store.app_database_url.startswith("sqlite"):  # the file itself, free pages and the write-ahead log included
        files = b"".join(p.read_bytes() for p in store.data_dir.glob("zhiban.db*"))
        assert ID.encode() not in files and PHONE.encode() not in files


def test_cipher_round_trip_and_wrong_key() -> None:
    cipher = DataCipher(generate_key())
    token = cipher.encrypt_json({"身份证": ID})
    assert cipher.decrypt_json(token) == {"身份证": ID} and ID not in token
    assert cipher.digest("proof", "002X") == cipher.digest("proof", "002X") != cipher.digest("other", "002X")
    with pytest.raises(DataKeyError, match="ZHIBAN_DATA_KEY"):
        DataCipher(generate_key()).decrypt(token)


def test_migrations_create_the_schema_and_adopt_an_older_database(tmp_path: Path) -> None:
    fresh = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate(fresh)
    assert {"tickets", "applications", "application_events", "drafts", "profiles", "alembic_version"} <= set(
        inspect(fresh).get_table_names()
    )
    legacy = create_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    Base.metadata.tables["tickets"].create(legacy)  # as the store made it before migrations existed
    migrate(legacy)
    assert "applications" in inspect(legacy).get_table_names()
    migrate(legacy)  # idempotent


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db/zhiban", "postgresql+psycopg://u:p@db/zhiban"),
        ("postgres://u@db/z", "postgresql+psycopg://u@db/z"),
        ("postgresql+psycopg://u@db/z", "postgresql+psycopg://u@db/z"),
        ("sqlite:///var/zhiban.db", "sqlite:///var/zhiban.db"),
    ],
)
def test_postgresql_urls_get_the_installed_driver(url: str, expected: str) -> None:
    assert driver_url(url) == expected
