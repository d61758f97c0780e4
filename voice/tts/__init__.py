"""Text-to-speech: edge-tts (online) with espeak-ng (offline) as the fallback, behind one ``Synthesizer``.

Typical use::

    speech = await get_synthesizer(settings).synthesize("请带身份证原件。", profile="elder")          # MP3 for the page
    speech = await get_synthesizer(settings).synthesize(answer, fmt="pcm", rate=8000)             # L16 for the phone
    speech.backend  # "edge-tts" or "espeak-ng"
"""

from voice.tts.base import (
    Backend,
    BackendAudio,
    BackendFailed,
    Boundary,
    Format,
    Profile,
    Speech,
    TtsError,
    TtsUnavailable,
)
from voice.tts.synthesizer import Lane, NothingToSay, Synthesizer, build_synthesizer, get_synthesizer

__all__ = [
    "Backend",
    "BackendAudio",
    "BackendFailed",
    "Boundary",
    "Format",
    "Lane",
    "NothingToSay",
    "Profile",
    "Speech",
    "Synthesizer",
    "TtsError",
    "TtsUnavailable",
    "build_synthesizer",
    "get_synthesizer",
]
