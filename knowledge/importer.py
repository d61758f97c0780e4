"""Importing knowledge sheets (hotline 知识库 in Excel, CSV or JSON Lines) into a knowledge-base directory.

An import is all-or-nothing: every row is checked (and checked against what the knowledge base already holds), every
problem is reported with its row number, and only a clean sheet is written — atomically, as ``faq/<name>.jsonl``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from assistant.text import normalize_message
from knowledge.corpus import CorpusError, load_corpus
from knowledge.models import FaqEntry

#: Header names recognised for each field, compared after removing spaces and case.
HEADERS: dict[str, tuple[str, ...]] = {
    "question": ("问题", "标准问题", "标准问", "问", "咨询问题", "知识问题", "question", "q"),
    "answer": ("答案", "标准答案", "回答", "答复", "答复口径", "答", "知识内容", "answer", "a"),
    "id": ("编号", "知识编号", "序号", "id", "知识id", "no"),
    "title": ("标题", "知识标题", "事项", "事项名称", "主题", "title"),
    "department": ("部门", "所属部门", "责任单位", "承办单位", "实施主体", "department"),
    "similar": ("相似问题", "相似问法", "扩展问", "相似问", "similar"),
}
_SPLIT_SIMILAR = re.compile(r"[|｜;；\n]+")
_SAFE_NAME = re.compile(r"[^\w\u4e00-\u9fff-]+")


@dataclass(frozen=True)
class RowProblem:
    row: int  # as the person sees it: spreadsheet row number (header is row 1) or JSONL line number
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行: {self.message}"


class ImportProblems(ValueError):
    """The sheet cannot be imported; ``problems`` lists each with its row number. Nothing was written."""

    def __init__(self, source: Path, problems: list[RowProblem]) -> None:
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … 另有 {len(problems) - 50} 个问题" if len(problems) > 50 else ""
        super().__init__(f"{source} 未导入，共 {len(problems)} 个问题:\n{shown}{more}")


@dataclass
class Mapping:
    """Which column holds which field: a header name or a 1-based column number, per field (None: recognise)."""

    question: str | None = None
    answer: str | None = None
    id: str | None = None
    title: str | None = None
    department: str | None = None
    similar: str | None = None

    def given(self) -> dict[str, str]:
        fields = ("question", "answer", "id", "title", "department", "similar")
        return {name: value for name in fields if (value := getattr(self, name))}


@dataclass(frozen=True)
class ImportResult:
    path: Path
    rows: int


def _rows(source: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a spreadsheet or CSV, header included as row 1."""
    suffix = source.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(source, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for a broken file
            raise ImportProblems(source, [RowProblem(0, f"不是有效的 Excel 文件: {exc}")]) from exc
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, ["" if v is None else str(v) for v in values]
        book.close()
        return
    raw = source.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportProblems(source, [RowProblem(0, "文件编码无法识别（支持 UTF-8 和 GBK）")])
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;") if text.strip() else csv.excel
    yield from enumerate(csv.reader(io.StringIO(text), dialect), 1)


def _column_index(header: list[str], field_name: str, wanted: str | None) -> int | None:
    cleaned = [re.sub(r"\s+", "", h).lower() for h in header]
    if wanted:
        if wanted.isdigit():
            index = int(wanted) - 1
            return index if 0 <= index < len(header) else -1
        key = re.sub(r"\s+", "", wanted).lower()
        return cleaned.index(key) if key in cleaned else -1
    for alias in HEADERS[field_name]:
        if alias.lower() in cleaned:
            return cleaned.index(alias.lower())
    return None


def _table_records(source: Path, mapping: Mapping) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    rows = list(_rows(source))
    if not rows:
        return [], [RowProblem(1, "文件是空的")]
    header = [c.strip() for c in rows[0][1]]
    columns: dict[str, int] = {}
    problems: list[RowProblem] = []
    given = mapping.given()
    for name in HEADERS:
        index = _column_index(header, name, given.get(name))
        if index == -1:
            problems.append(RowProblem(1, f"找不到指定的{name}列 “{given[name]}”（表头: {'、'.join(header)}）"))
        elif index is not None:
            columns[name] = index
    for required in ("question", "answer"):
        if required not in columns and required not in given:
            label = "问题" if required == "question" else "答案"
            problems.append(RowProblem(1, f"表头中没有{label}列；请用 --{required} 指定列名或列号"))
    records = []
    for number, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        records.append((number, {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}))
    return records, problems


def _jsonl_records(source: Path, mapping: Mapping) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    records: list[tuple[int, dict[str, str]]] = []
    problems: list[RowProblem] = []
    try:
        lines = source.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return [], [RowProblem(0, "文件不是 UTF-8 编码")]
    keys = mapping.given()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(RowProblem(number, f"不是有效的 JSON（{exc.msg}）"))
            continue
        if not isinstance(row, dict):
            problems.append(RowProblem(number, "应为 JSON 对象"))
            continue
        record = {}
        for name in HEADERS:
            key = keys.get(name) or next((k for k in row if k.lower() in HEADERS[name]), name)
            value = row.get(key)
            if isinstance(value, list):
                value = "|".join(str(v) for v in value)
            record[name] = "" if value is None else str(value)
        records.append((number, record))
    return records, problems


def read_sheet(source: Path, mapping: Mapping | None = None) -> list[FaqEntry]:
    """Read and check every row of ``source``.

    Raises:
        ImportProblems: with every problem by row number; no entries are returned then.
    """
    mapping = mapping or Mapping()
    if not source.is_file():
        raise ImportProblems(source, [RowProblem(0, "文件不存在")])
    suffix = source.suffix.lower()
    if suffix not in {".xlsx", ".csv", ".tsv", ".jsonl"}:
        raise ImportProblems(source, [RowProblem(0, "只支持 .xlsx、.csv 和 .jsonl 文件（.xls 请先另存为 .xlsx）")])
    reader = _jsonl_records if suffix == ".jsonl" else _table_records
    records, problems = reader(source, mapping)
    if problems and not records:
        raise ImportProblems(source, problems)
    stem = _SAFE_NAME.sub("-", source.stem).strip("-") or "sheet"
    entries: list[FaqEntry] = []
    seen: dict[str, int] = {}
    for number, record in records:
        cleaned = {k: normalize_message(v) if k != "answer" else v.strip() for k, v in record.items()}
        row_id = cleaned.get("id") or f"{stem}-{number}"
        if row_id in seen:
            problems.append(RowProblem(number, f"编号 {row_id} 与第{seen[row_id]}行重复"))
            continue
        seen[row_id] = number
        if not cleaned.get("question"):
            problems.append(RowProblem(number, "问题为空"))
            continue
        if not cleaned.get("answer"):
            problems.append(RowProblem(number, "答案为空"))
            continue
        similar = [s.strip() for s in _SPLIT_SIMILAR.split(cleaned.get("similar", "")) if s.strip()]
        try:
            entries.append(
                FaqEntry(
                    id=row_id,
                    question=cleaned["question"],
                    answer=cleaned["answer"],
                    title=cleaned.get("title", ""),
                    department=cleaned.get("department", ""),
                    similar=similar,
                    source=source.name,
                )
            )
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(RowProblem(number, f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"))
    if problems:
        raise ImportProblems(source, problems)
    if not entries:
        raise ImportProblems(source, [RowProblem(0, "没有可导入的数据行")])
    return entries


def import_sheet(
    source: Path, kb_dir: Path, mapping: Mapping | None = None, *, name: str | None = None
) -> ImportResult:
    """Import ``source`` into ``kb_dir`` as ``faq/<name>.jsonl`` (replacing an earlier import of the same name).

    The knowledge base with the new sheet must load cleanly (e.g. no id used twice); otherwise nothing is written.

    Raises:
        ImportProblems: the sheet's own problems, or its conflicts with the knowledge base.
    """
    entries = read_sheet(source, mapping)
    target_name = _SAFE_NAME.sub("-", name or source.stem).strip("-") or "sheet"
    faq_dir = kb_dir / "faq"
    faq_dir.mkdir(parents=True, exist_ok=True)
    target = faq_dir / f"{target_name}.jsonl"
    text = "".join(json.dumps(e.model_dump(exclude={"kind"}), ensure_ascii=False) + "\n" for e in entries)
    handle, staging_name = tempfile.mkstemp(prefix=".import-", suffix=".jsonl", dir=kb_dir)
    staging = Path(staging_name)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    backup = target.with_suffix(".jsonl.bak")
    try:
        if target.exists():
            os.replace(target, backup)
        os.replace(staging, target)
        try:
            load_corpus(kb_dir)
        except CorpusError as exc:
            # roll back: the knowledge base stays as it was
            target.unlink(missing_ok=True)
            if backup.exists():
                os.replace(backup, target)
            conflicts = [RowProblem(0, str(p)) for p in exc.problems]
            raise ImportProblems(source, conflicts) from exc
        backup.unlink(missing_ok=True)
    finally:
        staging.unlink(missing_ok=True)
    return ImportResult(target, len(entries))
