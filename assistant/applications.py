"""Applications submitted by conversation: drafts, submission with receipt numbers, the status lifecycle, progress checks.

Personal answers are stored encrypted (:mod:`assistant.crypto`); what staff lists and summaries show is masked. A submission
is one transaction and idempotent: the same idempotency key (one per draft) always yields the same application, also when
two submits race. Progress is told only to someone who proves to be the applicant (last four characters of the ID number or
the phone number given in the application).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.crypto import cipher_for
from assistant.settings import Settings
from assistant.store import Base, now, session_scope


@dataclass(frozen=True)
class Status:
    code: str
    label: str
    meaning: str  # plain words
    next_step: str


STATUSES: dict[str, Status] = {
    s.code: s
    for s in (
        Status(
            "submitted",
            "已提交",
            "您的申请已经提交，正在等待窗口工作人员接收。",
            "一般1个工作日内会受理，请留意短信通知。",
        ),
        Status("accepted", "已受理", "工作人员已经接收了您的申请，材料齐全。", "接下来进入审核，不需要您做什么。"),
        Status("reviewing", "审核中", "工作人员正在审核您的申请。", "审核完成后会短信通知您结果，请保持电话畅通。"),
        Status(
            "correction", "需补正", "审核发现材料还缺一些或需要改正。", "请按通知补齐材料后再提交，补正后会重新审核。"
        ),
        Status("completed", "已办结", "您的申请已经办好了。", "请按通知领取结果；邮寄的请留意快递。"),
        Status(
            "rejected",
            "不予受理",
            "您的申请不符合办理条件，没有被受理。",
            "可以拨打12345或到窗口问清原因，符合条件后重新申请。",
        ),
    )
}

#: Allowed moves of the lifecycle: 已提交 → 已受理 → 审核中 → 需补正 / 已办结 / 不予受理; 需补正 → 审核中 after the correction.
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"accepted", "rejected"}),
    "accepted": frozenset({"reviewing", "rejected"}),
    "reviewing": frozenset({"correction", "completed", "rejected"}),
    "correction": frozenset({"reviewing", "rejected"}),
    "completed": frozenset(),
    "rejected": frozenset(),
}


class TransitionError(ValueError):
    """A status change the lifecycle does not allow."""


class ApplicationNotFound(LookupError):
    pass


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    form_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    user_key: Mapped[str] = mapped_column(String(128), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    answers: Mapped[str] = mapped_column(Text)  # encrypted JSON {field: value}
    summary: Mapped[str] = mapped_column(Text)  # encrypted JSON [masked lines] (masked, but still personal)
    proof_digests: Mapped[str] = mapped_column(Text)  # space-separated keyed digests of the accepted proofs
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id", lazy="selectin"
    )


class ApplicationEvent(Base):
    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    application: Mapped[Application] = relationship(back_populates="events")


class Draft(Base):
    """A form being filled, kept per user so it can be resumed later."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_key", "form_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_key: Mapped[str] = mapped_column(String(128))
    form_code: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Text)  # encrypted JSON {"values": …, "skipped": …}
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Profile(Base):
    """What a user's earlier applications said about them, reused (with consent) to prefill the next one."""

    __tablename__ = "profiles"

    user_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    values: Mapped[str] = mapped_column(Text)  # encrypted JSON {"name": …, "id_number": …, "phone": …, "address": …}
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


@dataclass(frozen=True)
class Receipt:
    """What the person and the staff API see of an application (no personal data beyond the masked summary)."""

    receipt_no: str
    form_code: str
    item_code: str
    title: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    summary: tuple[str, ...]
    history: tuple[tuple[str, str, dt.datetime], ...]  # (status, note, at)

    @property
    def status_info(self) -> Status:
        return STATUSES[self.status]


def _receipt(settings: Settings, application: Application) -> Receipt:
    cipher = cipher_for(settings)
    return Receipt(
        receipt_no=str(application.receipt_no),
        form_code=application.form_code,
        item_code=application.item_code,
        title=application.title,
        status=application.status,
        created_at=application.created_at,
        updated_at=application.updated_at,
        summary=tuple(cipher.decrypt_json(application.summary)),
        history=tuple((e.status, e.note, e.at) for e in application.events),
    )


def receipt_number(prefix: str, day: dt.date, sequence: int) -> str:
    """受理编号: SBK-20261130-000123."""
    return f"{prefix}-{day:%Y%m%d}-{sequence:06d}"


def proof_digests(settings: Settings, proofs: list[str]) -> str:
    cipher = cipher_for(settings)
    return " ".join(cipher.digest("proof", p.upper()) for p in proofs if p)


def submit(
    settings: Settings,
    *,
    form_code: str,
    item_code: str,
    title: str,
    receipt_prefix: str,
    user_key: str,
    idempotency_key: str,
    answers: dict[str, str],
    summary: list[str],
    proofs: list[str],
) -> tuple[Receipt, bool]:
    """Store an application in one transaction; returns its receipt and whether it was created now.

    ``proofs`` are the values that identify the applicant for progress checks (last four characters of the ID number and of
    the phone). A second submit with the same ``idempotency_key`` — retried, doubled or concurrent — returns the first one.
    """
    existing = _by_idempotency_key(settings, idempotency_key)
    if existing is not None:
        return existing, False
    cipher = cipher_for(settings)
    try:
        with session_scope(settings) as session:
            application = Application(
                form_code=form_code,
                item_code=item_code,
                title=title,
                user_key=user_key,
                idempotency_key=idempotency_key,
                status="submitted",
                answers=cipher.encrypt_json(answers),
                summary=cipher.encrypt_json(summary),
                proof_digests=proof_digests(settings, proofs),
            )
            session.add(application)
            session.flush()
            application.receipt_no = receipt_number(receipt_prefix, application.created_at.date(), application.id)
            session.add(ApplicationEvent(application_id=application.id, status="submitted", actor="applicant"))
            session.flush()
            session.refresh(application)
            return _receipt(settings, application), True
    except IntegrityError:
        # a concurrent submit with the same key won the race: its application is the answer
        raced = _by_idempotency_key(settings, idempotency_key)
        if raced is None:
            raise
        return raced, False


def _by_idempotency_key(settings: Settings, key: str) -> Receipt | None:
    with session_scope(settings) as session:
        application = session.scalar(select(Application).where(Application.idempotency_key == key))
        return _receipt(settings, application) if application is not None else None


def find(settings: Settings, receipt_no: str) -> Receipt | None:
    with session_scope(settings) as session:
        application = session.scalar(select(Application).where(Application.receipt_no == receipt_no.upper()))
        return _receipt(settings, application) if application is not None else None


def verified(settings: Settings, receipt_no: str, proof: str) -> Receipt | None:
    """The application ``receipt_no`` if ``proof`` (last four of the applicant's ID or phone) matches, else None.

    The answer is the same for a wrong proof and an unknown number, so nobody can probe which receipt numbers exist.
    """
    digest = cipher_for(settings).digest("proof", proof.strip().upper())
    with session_scope(settings) as session:
        application = session.scalar(select(Application).where(Application.receipt_no == receipt_no.upper()))
        if application is None or digest not in application.proof_digests.split():
            return None
        return _receipt(settings, application)


def for_user(settings: Settings, user_key: str) -> list[Receipt]:
    """The applications submitted in this user's own conversations, newest first."""
    with session_scope(settings) as session:
        rows = session.scalars(
            select(Application).where(Application.user_key == user_key).order_by(Application.id.desc())
        )
        return [_receipt(settings, a) for a in rows]


def answers_of(settings: Settings, receipt_no: str) -> dict[str, str]:
    """The decrypted answers (for the printable summary and staff review)."""
    with session_scope(settings) as session:
        application = session.scalar(select(Application).where(Application.receipt_no == receipt_no.upper()))
        if application is None:
            raise ApplicationNotFound(receipt_no)
        answers: dict[str, str] = cipher_for(settings).decrypt_json(application.answers)
        return answers


def move(settings: Settings, receipt_no: str, target: str, *, note: str = "", actor: str = "staff") -> Receipt:
    """Change the status (staff), recording who, when and why.

    Raises:
        ApplicationNotFound: no application has that number.
        TransitionError: the lifecycle does not allow the move.
    """
    if target not in STATUSES:
        raise TransitionError(f"unknown status {target!r}")
    with session_scope(settings) as session:
        application = session.scalar(
            select(Application).where(Application.receipt_no == receipt_no.upper()).with_for_update()
        )
        if application is None:
            raise ApplicationNotFound(receipt_no)
        if not can_move(application.status, target):
            raise TransitionError(f"{receipt_no}: {application.status} → {target} is not allowed")
        application.status = target
        application.updated_at = now()
        session.add(ApplicationEvent(application_id=application.id, status=target, note=note, actor=actor))
        session.flush()
        session.refresh(application)
        return _receipt(settings, application)


# --- drafts and profiles -------------------------------------------------------------------------------------------
def save_draft(settings: Settings, user_key: str, form_code: str, state: dict[str, Any]) -> None:
    token = cipher_for(settings).encrypt_json(state)
    with session_scope(settings) as session:
        draft = session.scalar(select(Draft).where(Draft.user_key == user_key, Draft.form_code == form_code))
        if draft is None:
            session.add(Draft(user_key=user_key, form_code=form_code, state=token))
        else:
            draft.state, draft.updated_at = token, now()


def load_draft(settings: Settings, user_key: str, form_code: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """The user's draft of ``form_code`` (or their latest draft of any form) as (form code, state)."""
    with session_scope(settings) as session:
        query = select(Draft).where(Draft.user_key == user_key)
        if form_code is not None:
            query = query.where(Draft.form_code == form_code)
        draft = session.scalar(query.order_by(Draft.updated_at.desc()))
        if draft is None:
            return None
        return draft.form_code, cipher_for(settings).decrypt_json(draft.state)


def discard_draft(settings: Settings, user_key: str, form_code: str) -> None:
    with session_scope(settings) as session:
        draft = session.scalar(select(Draft).where(Draft.user_key == user_key, Draft.form_code == form_code))
        if draft is not None:
            session.delete(draft)


def save_profile(settings: Settings, user_key: str, values: dict[str, str]) -> None:
    """Remember (merge) name, ID number, phone and address for reuse in the user's next application."""
    cipher = cipher_for(settings)
    with session_scope(settings) as session:
        profile = session.get(Profile, user_key)
        if profile is None:
            session.add(Profile(user_key=user_key, values=cipher.encrypt_json(values)))
        else:
            merged = {**cipher.decrypt_json(profile.values), **values}
            profile.values, profile.updated_at = cipher.encrypt_json(merged), now()


def load_profile(settings: Settings, user_key: str) -> dict[str, str]:
    with session_scope(settings) as session:
        profile = session.get(Profile, user_key)
        return dict(cipher_for(settings).decrypt_json(profile.values)) if profile is not None else {}
