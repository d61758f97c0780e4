"""The dialogue's view of :mod:`voice.vad`: one utterance at a time, as a single :class:`~voice.audio.Pcm`."""

from __future__ import annotations

from voice.audio import Pcm
from voice.vad import EndpointConfig, Endpointer, Event, SpeechEnded


class UtteranceListener:
    """Wraps a :class:`voice.vad.Endpointer` as the dialogue's ``Endpointer``: feed chunks, get the utterance."""

    def __init__(self, endpointer: Endpointer) -> None:
        self._endpointer = endpointer
        self._fed = 0.0
        #: seconds of audio between the end of the speech and its detection (the endpointing delay)
        self.tail = 0.0

    @property
    def started(self) -> bool:
        return self._endpointer.speaking

    def feed(self, chunk: Pcm) -> Pcm | None:
        self._fed += chunk.duration
        return self._ended(self._endpointer.feed(chunk.samples))

    def finish(self) -> Pcm | None:
        return self._ended(self._endpointer.flush())

    def _ended(self, events: list[Event]) -> Pcm | None:
        for event in events:
            if isinstance(event, SpeechEnded):
                self.tail = max(0.0, self._fed - event.at)
                return event.pcm
        return None


def make_listener(config: EndpointConfig, rate: int) -> UtteranceListener:
    """A listener for one utterance of a call at ``rate`` Hz."""
    return UtteranceListener(Endpointer(rate, config))
