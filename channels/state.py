"""The conversation's state after a turn, derived from Rasa's tracker: what it is about and how far a form has got.

:func:`derive_state` is a pure function of the tracker's slots and latest message (names of items and forms, and the
decryption of the encrypted ``app_state`` slot, are passed in). :func:`read_state` is the gateway's adapter: it fetches the
tracker and never fails — when the tracker cannot be read the turn's replies still go out, with ``state`` null.

Slots read (see ``assistant/domain``): ``current_item`` (knowledge.yml), ``app_form``, ``form_status`` and ``app_state``
(applications.yml; ``app_state`` is a Fernet token under ``ZHIBAN_DATA_KEY``, written by ``actions/apply.py``), and the
intent of the latest message (``goodbye`` in core.yml ends the conversation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, get_args

from starlette.concurrency import run_in_threadpool

from assistant.crypto import cipher_for
from assistant.forms.spec import FormSpec, load_forms
from assistant.forms.understand import progress
from assistant.settings import Settings
from channels.errors import GatewayError
from channels.rasa_client import RasaClient
from channels.schemas import ActiveForm, ConversationState, CurrentItem, FormProgress, FormStage, FormStatus
from knowledge.corpus import CorpusError, load_corpus

log = logging.getLogger(__name__)

#: The intent that ends a conversation (assistant/domain/core.yml).
GOODBYE_INTENT = "goodbye"

_STATUSES = set(get_args(FormStatus))
_STAGES = set(get_args(FormStage))


def derive_state(
    tracker: Mapping[str, Any],
    *,
    item_names: Mapping[str, str],
    forms: Mapping[str, FormSpec],
    decrypt: Callable[[str], Any],
) -> ConversationState:
    """The state a client shows after a turn, from Rasa's tracker (``slots`` and ``latest_message``).

    Args:
        tracker: the conversation's tracker as Rasa's HTTP API returns it (events are not needed).
        item_names: item, bundle and policy names by code; an unknown code is shown as itself.
        forms: the application forms by code (:func:`assistant.forms.spec.load_forms`).
        decrypt: turns the ``app_state`` slot back into the form's state; may raise (a changed key), and then the
            progress is left out rather than the whole state.
    """
    slots = tracker.get("slots") or {}
    if not isinstance(slots, Mapping):
        slots = {}
    code = slots.get("current_item")
    current_item = CurrentItem(code=code, name=item_names.get(code, code)) if isinstance(code, str) and code else None

    spec = forms.get(str(slots.get("app_form") or ""))
    status = slots.get("form_status")
    active_form = None
    form_progress = None
    if spec is not None and status in _STATUSES:
        active_form = ActiveForm(code=spec.code, name=spec.title, status=status)
        if status == "filling":
            form_progress = _progress(spec, slots.get("app_state"), decrypt)

    latest = tracker.get("latest_message") or {}
    intent = latest.get("intent") if isinstance(latest, Mapping) else None
    ended = isinstance(intent, Mapping) and intent.get("name") == GOODBYE_INTENT
    return ConversationState(
        current_item=current_item, active_form=active_form, form_progress=form_progress, ended=ended
    )


def _progress(spec: FormSpec, token: Any, decrypt: Callable[[str], Any]) -> FormProgress | None:
    if not isinstance(token, str) or not token:
        return None
    try:
        state = decrypt(token)
    except Exception as exc:  # a changed data key or a damaged value: the rest of the state is still right
        log.warning("form state of %s not readable: %s", spec.code, exc)
        return None
    if not isinstance(state, Mapping):
        return None
    raw_values = state.get("values")
    values = {str(k): str(v) for k, v in raw_values.items()} if isinstance(raw_values, Mapping) else {}
    skipped = [key for key in state.get("skipped") or [] if isinstance(key, str)]
    # the same count as the form's own question "（第3项，共8项）"
    answered, total = progress(spec, values, skipped)
    stage = state.get("stage", "fields")
    return FormProgress(answered=answered, total=total, stage=stage if stage in _STAGES else "fields")


@cache
def item_names(kb_dir: Path) -> dict[str, str]:
    """Names of the items, bundles and policies of the knowledge base in ``kb_dir``, by code (loaded once)."""
    try:
        corpus = load_corpus(kb_dir)
    except CorpusError as exc:
        log.warning("knowledge base not loaded, item names unknown: %s", exc)
        return {}
    names = {document.code: document.name for document in corpus.guides}
    names.update({policy.code: policy.title for policy in corpus.policies})
    return names


def _derive(settings: Settings, tracker: dict[str, Any]) -> ConversationState:
    return derive_state(
        tracker,
        item_names=item_names(settings.knowledge_dir.resolve()),
        forms=load_forms(),
        decrypt=cipher_for(settings).decrypt_json,
    )


async def read_state(rasa: RasaClient, settings: Settings, conversation: str) -> ConversationState | None:
    """The conversation's state after a turn, or None when it cannot be read (logged; the replies are unaffected)."""
    try:
        tracker = await rasa.tracker(conversation, events="NONE")
        return await run_in_threadpool(_derive, settings, tracker)
    except GatewayError as exc:
        log.warning("conversation state not read: %s", exc.context or exc)
    except Exception:
        log.exception("conversation state not derived")
    return None
