"""The Whisper recognizer: the model assembled from its PyPI parts and verified, and real transcriptions (slow)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from assistant.settings import Settings
from tests.voice.asr_set import espeak_available, utterance
from voice.asr import ModelError, Recognizer, get_recognizer, make_recognizer, model_files
from voice.asr.cer import cer, corpus_cer
from voice.asr.model_files import MODEL_SHA256, ModelParts, prepare_model, verify
from voice.asr.whisper import INITIAL_PROMPT, DecodeOptions, WhisperRecognizer, clean_text, whisper_recognizer
from voice.audio import Pcm, silence

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (make system-deps)")


# --- pure parts ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("請問社保卡怎麼補辦", "请问社保卡怎么补办"),  # Whisper often writes traditional characters
        (" 我想 办 居住证 ", "我想办居住证"),  # spaces between Chinese words
        ("ＡＢＣ１２３", "ABC123"),  # full width
        ("公积金 loan 怎么办", "公积金 loan 怎么办"),  # spaces next to Latin words stay
        (INITIAL_PROMPT, ""),  # an echo of the prompt (unintelligible audio) is nothing
    ],
)
def test_whispers_text_becomes_chat_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("seconds", "prompt_tokens", "expected"),
    [
        (3.0, 30, 16 + 36),  # a short question: about 12 tokens a second
        (30.0, 30, 16 + 360),  # a full window
        (60.0, 30, 16 + 360),  # windows are 30 s long whatever the audio
        (30.0, 250, 448 - 250 - 8),  # a long prompt leaves less room: never past the context
        (1.0, 445, 8),  # the floor
    ],
)
def test_generated_tokens_are_bounded(seconds: float, prompt_tokens: int, expected: int) -> None:
    assert DecodeOptions().max_new_tokens(seconds, prompt_tokens) == expected


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("社保卡", "社保卡。", 0.0),  # punctuation is not scored
        ("社保卡", "设保卡", 1 / 3),
        ("社保卡", "", 1.0),
        ("社保卡", "社保卡卡卡", 2 / 3),  # insertions count
        ("社保卡補辦", "社保卡补办", 0.0),  # 繁/简 is not an error
    ],
)
def test_character_error_rate(reference: str, hypothesis: str, expected: float) -> None:
    assert cer(reference, hypothesis) == pytest.approx(expected)


def test_corpus_cer_weighs_by_length() -> None:
    assert corpus_cer([("社保卡", "设保卡"), ("公积金租房提取", "公积金租房提取")]) == pytest.approx(1 / 10)


def test_one_recognizer_per_process_and_settings(settings: Settings) -> None:
    first = get_recognizer(settings)
    assert get_recognizer(settings.model_copy()) is first
    assert isinstance(first, WhisperRecognizer) and isinstance(first, Recognizer)
    assert first.options.beam_size == settings.asr_beam_size
    assert not (settings.asr_model_path / "model.bin").exists()  # nothing is loaded until the first transcription
    assert get_recognizer(settings.model_copy(update={"asr_beam_size": 1})) is not first
    assert isinstance(make_recognizer(settings), WhisperRecognizer)


# --- the model files -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model assembled once for the session (joined, verified) — as the gateway does on first use."""
    return prepare_model(tmp_path_factory.mktemp("whisper") / "whisper-base")


def linked_parts(root: Path, corrupt: bool = False) -> ModelParts:
    """The package's parts, linked into ``root`` — part 2 copied with one byte changed if ``corrupt``."""
    real = ModelParts.from_packages()
    root.mkdir(parents=True)
    parts = []
    for part in real.parts:
        target = root / part.name
        if corrupt and part.name.endswith("part2"):
            shutil.copyfile(part, target)
            with target.open("r+b") as handle:
                handle.seek(1000)
                byte = handle.read(1)
                handle.seek(1000)
                handle.write(bytes([byte[0] ^ 0xFF]))
        else:
            target.symlink_to(part)
        parts.append(target)
    for name in model_files.SIDE_FILES:
        (root / name).symlink_to(real.side_dir / name)
    return ModelParts(tuple(parts), root)


@pytest.mark.slow
def test_the_joined_model_has_the_pinned_sha256(model_dir: Path) -> None:
    verify(model_dir / "model.bin", MODEL_SHA256)
    assert {p.name for p in model_dir.iterdir()} >= {"model.bin", *model_files.SIDE_FILES}


@pytest.mark.slow
def test_a_verified_model_is_not_hashed_again(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_hashing(*args: object) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(model_files, "sha256_of", no_hashing)
    monkeypatch.setattr(hashlib, "sha256", no_hashing)
    assert prepare_model(model_dir) == model_dir


@pytest.mark.slow
def test_a_corrupted_part_is_refused_and_nothing_is_left_to_load(tmp_path: Path) -> None:
    parts = linked_parts(tmp_path / "parts", corrupt=True)
    target = tmp_path / "model"
    with pytest.raises(ModelError, match="does not match its pinned sha256") as caught:
        prepare_model(target, parts)
    assert MODEL_SHA256 in caught.value.context
    assert not (target / "model.bin").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".model.bin")]  # no temporary file either
    # and the loader refuses in the same way: CTranslate2 never sees the file
    recognizer = WhisperRecognizer(target, loader=lambda d, t: prepare_model(d, parts))
    with pytest.raises(ModelError):
        recognizer.transcribe_sync(silence(1.0, 16000))


@pytest.mark.slow
def test_a_corrupted_copy_is_refused_by_verify(tmp_path: Path, model_dir: Path) -> None:
    copy = tmp_path / "model.bin"
    shutil.copyfile(model_dir / "model.bin", copy)
    with copy.open("r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)[0]
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last ^ 0x01]))  # one bit of the last byte
    with pytest.raises(ModelError, match="corrupted"):
        verify(copy)


@pytest.mark.slow
def test_a_model_changed_on_disk_is_joined_again(tmp_path: Path) -> None:
    parts = linked_parts(tmp_path / "parts")
    target = prepare_model(tmp_path / "model", parts)
    model = target / "model.bin"
    with model.open("r+b") as handle:  # damage it: size stays, modification time changes
        handle.seek(5000)
        handle.write(b"\x00" * 16)
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    prepare_model(target, parts)
    verify(model)


def test_a_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    side = ModelParts.from_packages().side_dir
    parts = ModelParts((tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"), side)
    with pytest.raises(ModelError, match="missing"):
        prepare_model(tmp_path / "model", parts)


def test_a_wrong_side_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "parts"
    root.mkdir()
    real = ModelParts.from_packages()
    for name in model_files.SIDE_FILES:
        shutil.copyfile(real.side_dir / name, root / name)
    (root / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="corrupted"):
        prepare_model(tmp_path / "model", ModelParts(real.parts, root))


# --- transcription ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def whisper(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> WhisperRecognizer:
    """The recognizer as configured by default (hotwords from the bundled knowledge base), model loaded once."""
    settings = Settings(env="test", data_dir=tmp_path_factory.mktemp("var"), asr_model_dir=model_dir)
    recognizer = whisper_recognizer(settings)
    recognizer.decode_options()  # load the model and compute the hotwords
    return recognizer


@pytest.mark.slow
def test_silence_is_no_text(whisper: WhisperRecognizer) -> None:
    transcript = whisper.transcribe_sync(silence(3.0, 8000))
    assert transcript.text == ""
    assert transcript.duration == 3.0 and transcript.backend == "whisper"


@pytest.mark.slow
@needs_espeak
def test_a_generated_question_is_transcribed(whisper: WhisperRecognizer) -> None:
    spoken = utterance("高龄津贴每个月发多少钱")
    transcript = asyncio.run(whisper.transcribe(spoken.pcm))
    assert cer(spoken.text, transcript.text) <= 0.5, transcript.text
    assert "高龄津贴" in transcript.text
    assert transcript.seconds_taken > 0 and transcript.duration == pytest.approx(spoken.pcm.duration)


@pytest.mark.slow
@needs_espeak
@pytest.mark.parametrize(
    ("question", "name"), [("高龄津贴每个月发多少钱", "高龄津贴"), ("社保卡丢了怎么挂失", "社保卡")]
)
def test_hotwords_fix_a_name(whisper: WhisperRecognizer, question: str, name: str) -> None:
    spoken = utterance(question)
    without = whisper.with_options(hotwords="").transcribe_sync(spoken.pcm).text
    with_hotwords = whisper.transcribe_sync(spoken.pcm).text
    assert name not in without, without
    assert name in with_hotwords, with_hotwords


@pytest.mark.slow
def test_pcm_at_any_rate_is_accepted(whisper: WhisperRecognizer) -> None:
    for rate in (8000, 16000, 48000):
        assert whisper.transcribe_sync(Pcm(bytes(rate), rate)).duration == pytest.approx(0.5)
