"""Knowledge maintenance from the admin page: importing a sheet into the assistant's knowledge base and rebuilding its
index in the background, one job at a time, with a status to poll.

One job at a time *per knowledge base on this machine*: imports and rebuilds hold an exclusive file lock next to the
index (``<index root>/.<kb>-maintenance.lock``), so two gateway workers, or the admin page and `zhiban kb build` run by
hand, never write the same knowledge base at once. A job that finds the lock taken is refused (:class:`Busy`) instead of
waiting. A rebuild does not regenerate the NLU's word list (``update_nlu``): the running Rasa model could not use it; a
knowledge base with new *item names* needs `zhiban kb build` and a restart (docs/operations.md, "Admin pages").

Searchers in every process pick the new index up at their next search (:func:`knowledge.service.get_searcher`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, Any

from assistant.settings import Settings
from knowledge.corpus import CorpusError, load_corpus
from knowledge.embedders import EmbedderError
from knowledge.importer import ImportProblems, ImportResult, RowProblem, import_sheet
from knowledge.index import IndexError_, read_manifest
from knowledge.service import ensure_index, get_searcher, index_dir_for

log = logging.getLogger(__name__)

SHEET_SUFFIXES = (".xlsx", ".csv", ".jsonl")
_SAFE_STEM = re.compile(r"[^\w\u4e00-\u9fff-]+")


class Busy(RuntimeError):
    """Another import or rebuild of this knowledge base is running."""


class UploadTooLarge(ValueError):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"upload larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


def sheet_name(filename: str) -> tuple[str, str]:
    """(stem, suffix) of an uploaded file's name, safe to use as a file name: folders (either slash) dropped, anything
    but letters, digits, Chinese characters, ``_`` and ``-`` replaced.

    Raises:
        ImportProblems: the suffix is not .xlsx, .csv or .jsonl.
    """
    base = PureWindowsPath(PurePosixPath(filename or "").name).name
    suffix = Path(base).suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise ImportProblems(
            Path(base or "?"), [RowProblem(0, "只支持 .xlsx、.csv 和 .jsonl 文件（.xls 请先另存为 .xlsx）")]
        )
    stem = _SAFE_STEM.sub("-", base[: -len(suffix)]).strip("-")[:60] or "sheet"
    return stem, suffix


def _lock_path(settings: Settings) -> Path:
    settings.index_root.mkdir(parents=True, exist_ok=True)
    return settings.index_root / f".{index_dir_for(settings).name}-maintenance.lock"


@contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    """Hold the knowledge base's maintenance lock for the block.

    Raises:
        Busy: another import or rebuild holds it.
    """
    with open(_lock_path(settings), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Busy("another import or rebuild is running") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def import_upload(settings: Settings, filename: str, data: IO[bytes], limit_bytes: int) -> ImportResult:
    """Import an uploaded sheet into the assistant's knowledge base (``faq/<name>.jsonl``), all or nothing.

    The upload is copied (at most ``limit_bytes``) into a private temporary folder under its sanitised name and checked
    row by row; the index is not rebuilt (:class:`Rebuilder` does that).

    Raises:
        ImportProblems: every problem with its row number, or no ZHIBAN_KB_DIR set (the bundled sample corpus is part of
            the code and is never written to); nothing was written.
        UploadTooLarge: the upload is larger than ``limit_bytes``; nothing was written.
        Busy: an import or rebuild is running.
    """
    if settings.kb_dir is None:  # the sample corpus ships inside the code folder: never write into it
        raise ImportProblems(
            Path(filename or "?"),
            [
                RowProblem(
                    0,
                    "当前使用的是程序自带的示例知识库。导入前请设置 ZHIBAN_KB_DIR 指向本单位的知识库目录（可先复制 knowledge/corpus）。",
                )
            ],
        )
    stem, suffix = sheet_name(filename)
    folder = Path(tempfile.mkdtemp(prefix="zhiban-upload-"))
    try:
        source = folder / f"{stem}{suffix}"
        written = 0
        with open(source, "wb") as out:
            while chunk := data.read(64 * 1024):
                written += len(chunk)
                if written > limit_bytes:
                    raise UploadTooLarge(limit_bytes)
                out.write(chunk)
        with exclusive(settings):
            return import_sheet(source, settings.knowledge_dir, name=stem)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def describe_failure(exc: BaseException) -> str:
    """A rebuild failure in plain Chinese for the admin page (details go to the log)."""
    if isinstance(exc, CorpusError):
        shown = "；".join(str(p) for p in exc.problems[:5])
        more = f"（另有{len(exc.problems) - 5}个问题）" if len(exc.problems) > 5 else ""
        return f"知识库有{len(exc.problems)}个问题，未能重建索引：{shown}{more}"
    if isinstance(exc, EmbedderError):
        return f"向量模型无法加载，未能重建索引：{exc}"
    return f"重建索引失败（{type(exc).__name__}），详情见网关日志。"


@dataclass
class JobState:
    running: bool = False
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    error: str = ""
    passages: int | None = None  # of the last successful rebuild


class Rebuilder:
    """Rebuilds the knowledge index in a background thread; at most one rebuild at a time (see :func:`exclusive`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._state = JobState()
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start a rebuild.

        Raises:
            Busy: a rebuild (or an import) is running, in this process or another.
        """
        with self._mutex:
            if self._state.running:
                raise Busy("a rebuild is running")
            handle = open(_lock_path(self.settings), "w")  # noqa: SIM115 - held by the thread until it ends
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                handle.close()
                raise Busy("another import or rebuild is running") from exc
            self._state = JobState(running=True, started_at=_now())
            self._thread = threading.Thread(target=self._run, args=(handle,), name="kb-rebuild", daemon=True)
            self._thread.start()

    def _run(self, handle: IO[str]) -> None:
        error, passages = "", None
        try:
            index, _ = ensure_index(self.settings, force=True)
            passages = len(index.passages)
            get_searcher(self.settings, build=False)  # this process answers from the new index at once
            log.info("knowledge index rebuilt from the admin page: %d passages", passages)
        except Exception as exc:
            log.warning("knowledge rebuild failed: %s", exc, exc_info=not isinstance(exc, CorpusError | EmbedderError))
            error = describe_failure(exc)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
            with self._mutex:
                self._state = JobState(False, self._state.started_at, _now(), error, passages)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running rebuild (tests); True when none is running afterwards."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.state().running

    def state(self) -> JobState:
        with self._mutex:
            return JobState(**vars(self._state))


def knowledge_status(settings: Settings, job: JobState) -> dict[str, Any]:
    """What the knowledge page shows: the knowledge base's documents, the index's passages and build time, whether the
    index is out of date (the knowledge base changed since), and the last rebuild job of this process."""
    kb = settings.knowledge_dir
    status: dict[str, Any] = {
        "knowledge_dir": str(kb),
        "upload_max_mb": settings.kb_upload_max_mb,
        "documents": None,
        "items": None,
        "bundles": None,
        "policies": None,
        "faqs": None,
        "corpus_error": "",
        "passages": None,
        "built_at": None,
        "index_error": "",
        "up_to_date": False,
        "running": job.running,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "last_error": job.error,
    }
    digest = None
    try:
        corpus = load_corpus(kb)
        digest = corpus.digest
        status.update(
            items=len(corpus.items),
            bundles=len(corpus.bundles),
            policies=len(corpus.policies),
            faqs=len(corpus.faqs),
            documents=len(corpus.items) + len(corpus.bundles) + len(corpus.policies) + len(corpus.faqs),
        )
    except CorpusError as exc:
        status["corpus_error"] = describe_failure(exc)
    try:
        manifest = read_manifest(index_dir_for(settings))
        status.update(
            passages=manifest.passages, built_at=manifest.built_at, up_to_date=manifest.corpus_digest == digest
        )
    except IndexError_:
        status["index_error"] = "还没有建立索引，请点击“重建索引”。"
    return status
