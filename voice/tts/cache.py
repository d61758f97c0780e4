"""A disk cache of finished speech, keyed by (text, voice, profile, format, rate), with a size cap.

Files live flat in ``settings.data_dir / "tts-cache"``, one per entry, named by the SHA-256 of the key. A hit touches
the file's mtime, so eviction — oldest mtime first, whenever the total passes ``max_bytes`` — drops the least recently
used entries. Writes go to a temporary file and are renamed into place, so a reader never sees half a file and several
gateway workers can share the directory. Errors of the cache are logged and never fail a request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".speech"


def cache_key(text: str, voice: str, profile: str, fmt: str, rate: int) -> str:
    """A stable file name for one piece of speech."""
    raw = json.dumps([text, voice, profile, fmt, rate], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class SpeechCache:
    """LRU-by-mtime file cache of at most ``max_bytes`` bytes (0 disables it)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._total: int | None = None  # bytes on disk, counted on first use and kept up to date
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}{SUFFIX}"

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: evicted last
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("tts cache read failed for %s: %s", path, exc)
            return None
        return data

    def put(self, key: str, data: bytes) -> None:
        if not self.enabled or len(data) > self.max_bytes:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, self._path(key))
        except OSError as exc:
            log.warning("tts cache write failed in %s: %s", self.directory, exc)
            return
        with self._lock:
            if self._total is None:
                self._total = self._scan_total()
            else:
                self._total += len(data)
            if self._total > self.max_bytes:
                self._total = self._evict()

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for path in self.directory.glob(f"*{SUFFIX}"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # evicted by another worker meanwhile
            entries.append((stat.st_mtime, stat.st_size, path))
        return entries

    def _scan_total(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def _evict(self) -> int:
        """Delete the least recently used entries until the cache fits; the new total."""
        entries = sorted(self._entries(), key=lambda e: e[0])
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("tts cache eviction failed for %s: %s", path, exc)
                continue
            total -= size
        return total

    def size(self) -> int:
        """Bytes on disk now."""
        return self._scan_total() if self.directory.exists() else 0
