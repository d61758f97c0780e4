"""The services every call of a process shares, built once from the settings (models load lazily, then stay)."""

from __future__ import annotations

import asyncio
import functools
import logging

from assistant.settings import Settings
from assistant.vault import redact
from channels.rasa_client import RasaClient
from voice.asr import get_recognizer
from voice.audio import silence
from voice.phone.dialogue import PhoneServices
from voice.phone.listen import make_listener
from voice.tts import get_synthesizer
from voice.vad import EndpointConfig, make_detector

log = logging.getLogger(__name__)


def build_services(settings: Settings, rasa: RasaClient) -> PhoneServices:
    """Speech in and out, the endpointer and the vault for calls that talk to Rasa through ``rasa``."""

    async def redact_numbers(conversation_id: str, text: str) -> str:
        # ID, phone and card numbers never reach Rasa's tracker store (as in the chat API)
        return await asyncio.to_thread(redact, settings, conversation_id, text)

    return PhoneServices(
        settings=settings,
        synthesizer=get_synthesizer(settings),
        recognizer=get_recognizer(settings),
        rasa=rasa,
        redact=redact_numbers,
        endpointer=functools.partial(make_listener, EndpointConfig.from_settings(settings)),
    )


async def warm_up(services: PhoneServices) -> None:
    """Load the speech models now rather than during the first call (errors are logged; calls retry on use)."""
    try:
        await asyncio.to_thread(make_detector, "silero")
        await services.recognizer.transcribe(silence(0.5, 16000))
    except Exception as exc:
        log.warning("phone: speech recognition not warmed up: %s", exc)
