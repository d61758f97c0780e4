"""The espeak-ng backend: Debian's offline formant voice, always available.

``-v cmn-latn-pinyin`` is the Mandarin voice that works (``-v cmn`` reads tone digits in English). espeak-ng runs as a
subprocess with the text on stdin (no length limit, no option injection) and WAV on stdout, so the event loop never
blocks; the elder profile is slower (``-s``) and louder (``-a``).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Mapping

from voice.tts.base import BackendAudio, BackendFailed, Profile

log = logging.getLogger(__name__)

CHUNK = 8192


class EspeakBackend:
    """espeak-ng with a speed (words per minute) and amplitude (0-200) per profile."""

    name = "espeak-ng"

    def __init__(
        self,
        voice: str = "cmn-latn-pinyin",
        speed: Mapping[Profile, int] | None = None,
        amplitude: Mapping[Profile, int] | None = None,
        *,
        binary: str = "espeak-ng",
        timeout: float = 30.0,
    ) -> None:
        self._voice = voice
        self.speed: dict[Profile, int] = dict(speed or {"standard": 160, "elder": 125})
        self.amplitude: dict[Profile, int] = dict(amplitude or {"standard": 100, "elder": 150})
        self.binary = binary
        self.timeout = timeout

    def voice(self, profile: Profile) -> str:
        return f"espeak-ng {self._voice} s={self.speed[profile]} a={self.amplitude[profile]}"

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def _args(self, profile: Profile) -> list[str]:
        return [
            "-v",
            self._voice,
            "-s",
            str(self.speed[profile]),
            "-a",
            str(self.amplitude[profile]),
            "--stdin",
            "--stdout",
        ]

    async def stream(self, text: str, profile: Profile) -> AsyncIterator[bytes]:
        """WAV as espeak-ng writes it (the header's sizes are placeholders: it does not know the length yet)."""
        try:
            process = await asyncio.create_subprocess_exec(
                self.binary,
                *self._args(profile),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise BackendFailed(self.name, f"cannot start {self.binary}: {exc}") from exc
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        received = 0
        try:
            async with asyncio.timeout(self.timeout):
                process.stdin.write(text.encode("utf-8"))
                await process.stdin.drain()
                process.stdin.close()
                while chunk := await process.stdout.read(CHUNK):
                    received += len(chunk)
                    yield chunk
                error = (await process.stderr.read()).decode("utf-8", "replace").strip()
                status = await process.wait()
        except TimeoutError as exc:
            raise BackendFailed(self.name, f"no result within {self.timeout} s", retryable=False) from exc
        except (BrokenPipeError, ConnectionResetError) as exc:  # it died before reading the text: say how it ended
            try:
                status = await asyncio.wait_for(process.wait(), 1.0)
            except TimeoutError:
                status = None  # still running without reading: the finally below kills it
            raise BackendFailed(self.name, f"exit status {status} before reading the text: {exc}") from exc
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        if status != 0 or received <= 44:
            raise BackendFailed(self.name, f"exit status {status}, {received} bytes: {error[:200]}")

    async def synthesize(self, text: str, profile: Profile) -> BackendAudio:
        data = b"".join([chunk async for chunk in self.stream(text, profile)])
        if not data.startswith(b"RIFF"):
            raise BackendFailed(self.name, f"output is not WAV ({data[:8]!r})")
        return BackendAudio(data, "wav")
