"""Resampling a stream chunk by chunk (the phone's 20 ms frames) with one libswresample context.

:func:`voice.audio.resample` converts a whole clip; applied to each 20 ms frame separately it restarts the filter at every
frame boundary, which puts a click there (up to ±1,000 on a 440 Hz tone at 8 → 16 kHz). The streaming backends (FunASR,
Silero VAD) keep one :class:`StreamResampler` per stream instead.
"""

from __future__ import annotations

import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

from voice.asr.recognizer import ASR_RATE


class StreamResampler:
    """Resamples s16 mono bytes at ``rate`` to ``target`` Hz chunk by chunk, keeping the filter state between chunks.

    :meth:`push` returns what is ready (the filter holds back a few samples); :meth:`flush` returns the rest at the end.
    """

    def __init__(self, rate: int, target: int = ASR_RATE) -> None:
        self.rate = rate
        self.target = target
        self._resampler = AudioResampler(format="s16", layout="mono", rate=target) if rate != target else None

    def _frame(self, samples: bytes) -> AudioFrame:
        frame = AudioFrame.from_ndarray(np.frombuffer(samples, dtype="<i2").reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        return frame

    @staticmethod
    def _bytes(frames: list[AudioFrame]) -> bytes:
        return b"".join(f.to_ndarray().astype("<i2", copy=False).tobytes() for f in frames)

    def push(self, samples: bytes) -> bytes:
        if self._resampler is None or not samples:
            return samples if self._resampler is None else b""
        return self._bytes(list(self._resampler.resample(self._frame(samples))))

    def flush(self) -> bytes:
        return b"" if self._resampler is None else self._bytes(list(self._resampler.resample(None)))
