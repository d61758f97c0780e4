"""voice.tts.cache: the speech cache on disk, its key and its size cap (LRU by mtime)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voice.tts.cache import SpeechCache, cache_key


def test_the_key_depends_on_every_part() -> None:
    base = ("请带身份证。", "zh-CN-XiaoxiaoNeural", "standard", "mp3", 24000)
    keys = {cache_key(*base)}
    for i, other in enumerate(["请带户口本。", "espeak-ng", "elder", "pcm", 8000]):
        changed = list(base)
        changed[i] = other
        keys.add(cache_key(*changed))  # type: ignore[arg-type]
    assert len(keys) == 6
    assert cache_key(*base) == cache_key(*base)


def test_put_and_get(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path / "tts-cache", max_bytes=1000)
    assert cache.get("a" * 64) is None
    cache.put("a" * 64, b"audio")
    assert cache.get("a" * 64) == b"audio"
    assert not list((tmp_path / "tts-cache").glob(".tmp-*"))  # written atomically, nothing left behind


def _age(cache: SpeechCache, key: str, seconds_ago: float) -> None:
    path = cache.directory / f"{key}.speech"
    then = path.stat().st_mtime - seconds_ago
    os.utime(path, (then, then))


def test_the_least_recently_used_entries_go_first(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path, max_bytes=300)
    for n, key in enumerate(["a", "b", "c"]):
        cache.put(key, bytes(100))
        _age(cache, key, 100 - n * 10)  # a oldest, then b, then c
    assert cache.get("a") is not None  # a is used: now the newest
    cache.put("d", bytes(100))  # 400 bytes > 300: the least recently used (b) goes
    assert cache.get("b") is None
    assert all(cache.get(k) is not None for k in "acd")
    assert cache.size() <= 300


def test_eviction_counts_entries_written_by_other_workers(tmp_path: Path) -> None:
    other = SpeechCache(tmp_path, max_bytes=10_000)
    for key in "abcde":
        other.put(key, bytes(100))
        _age(other, key, 50)
    cache = SpeechCache(tmp_path, max_bytes=250)
    cache.put("f", bytes(100))
    assert cache.size() <= 250
    assert cache.get("f") is not None


@pytest.mark.parametrize("max_bytes", [0, 10])
def test_disabled_or_too_small_cache_keeps_nothing(tmp_path: Path, max_bytes: int) -> None:
    cache = SpeechCache(tmp_path / "c", max_bytes=max_bytes)
    cache.put("a", bytes(100))
    assert cache.get("a") is None


def test_an_unwritable_directory_fails_quietly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = SpeechCache(blocker / "cache", max_bytes=1000)
    cache.put("a", b"x")  # logged, not raised
    assert cache.get("a") is None
