"""Importing knowledge sheets: xlsx, csv (UTF-8 and GBK), jsonl; broken files; all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from knowledge.corpus import load_corpus
from knowledge.importer import ImportProblems, Mapping, import_sheet, read_sheet

ROWS = [
    ["编号", "问题", "答案", "所属部门", "相似问法"],
    ["HZ-001", "护照怎么办理", "携带身份证到出入境接待大厅申请，约7个工作日出证。", "出入境管理局", "办护照|护照申请"],
    ["HZ-002", "港澳通行证怎么续签", "可在自助签注机办理，立等可取。", "出入境管理局", ""],
]


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding=encoding)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: write_xlsx(tmp / "hotline.xlsx", ROWS),  # Excel
        lambda tmp: write_csv(tmp / "hotline.csv", ROWS),  # CSV in UTF-8
        lambda tmp: write_csv(tmp / "hotline.csv", ROWS, "gbk"),  # CSV in GBK, as Excel on Chinese Windows saves it
    ],
)
def test_recognised_headers(tmp_path: Path, make) -> None:
    entries = read_sheet(make(tmp_path))
    assert [e.id for e in entries] == ["HZ-001", "HZ-002"]
    assert entries[0].department == "出入境管理局"
    assert entries[0].similar == ["办护照", "护照申请"]
    assert entries[1].similar == []


def test_jsonl_with_its_own_keys(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    lines = [
        {"qid": "A1", "q": "低保标准是多少", "ans": "每人每月900元。"},
        {"qid": "A2", "q": "残疾证免费吗", "ans": "免费。"},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    entries = read_sheet(path, Mapping(id="qid", question="q", answer="ans"))
    assert [(e.id, e.answer) for e in entries] == [("A1", "每人每月900元。"), ("A2", "免费。")]


def test_columns_by_number_when_there_is_no_usable_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "raw.csv", [["甲", "乙"], ["怎么办居住证", "到派出所申请。"]])
    entries = read_sheet(path, Mapping(question="1", answer="2"))
    assert entries[0].question == "怎么办居住证" and entries[0].id == "raw-2"


@pytest.mark.parametrize(
    ("rows", "messages"),
    [
        # empty answer and empty question, each with its row number
        ([["问题", "答案"], ["护照", ""], ["", "答案内容"]], ["第2行: 答案为空", "第3行: 问题为空"]),
        # the same id twice
        (
            [["编号", "问题", "答案"], ["X1", "问题一", "答案一"], ["X1", "问题二", "答案二"]],
            ["第3行: 编号 X1 与第2行重复"],
        ),
        # no question column
        ([["标题", "内容说明"], ["a", "b"]], ["表头中没有问题列"]),
        # only a header
        ([["问题", "答案"]], ["没有可导入的数据行"]),
    ],
)
def test_bad_rows_are_all_reported(tmp_path: Path, rows: list[list[str]], messages: list[str]) -> None:
    with pytest.raises(ImportProblems) as raised:
        read_sheet(write_csv(tmp_path / "bad.csv", rows))
    text = str(raised.value)
    for message in messages:
        assert message in text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "只支持"),  # legacy Excel
        ("broken.xlsx", b"not a zip", "不是有效的 Excel 文件"),
        ("bad.jsonl", b'{"question": "a"\n', "不是有效的 JSON"),
    ],
)
def test_broken_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportProblems, match=message):
        read_sheet(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportProblems, match="文件不存在"):
        read_sheet(tmp_path / "nothing.csv")


def test_import_writes_a_loadable_sheet_and_replaces_it_whole(tmp_path: Path) -> None:
    kb = tmp_path / "hotline-kb"
    result = import_sheet(write_xlsx(tmp_path / "hotline.xlsx", ROWS), kb)
    assert result.rows == 2 and result.path == kb / "faq" / "hotline.jsonl"
    assert [f.id for f in load_corpus(kb).faqs] == ["HZ-001", "HZ-002"]
    # a second import of the same name replaces it
    import_sheet(write_csv(tmp_path / "hotline.csv", ROWS[:2]), kb, name="hotline")
    assert [f.id for f in load_corpus(kb).faqs] == ["HZ-001"]


def test_conflict_with_the_knowledge_base_writes_nothing(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    import_sheet(write_csv(tmp_path / "first.csv", ROWS), kb)
    before = (kb / "faq" / "first.jsonl").read_bytes()
    with pytest.raises(ImportProblems, match="HZ-001 is also used by"):
        import_sheet(write_csv(tmp_path / "second.csv", ROWS), kb)
    assert sorted(p.name for p in (kb / "faq").iterdir()) == ["first.jsonl"]
    assert (kb / "faq" / "first.jsonl").read_bytes() == before
    assert not list(kb.glob(".import-*"))


def test_several_knowledge_bases_coexist(tmp_path: Path) -> None:
    import_sheet(write_csv(tmp_path / "a.csv", ROWS), tmp_path / "kb-a")
    import_sheet(
        write_csv(tmp_path / "b.csv", [["问题", "答案"], ["公交卡怎么充值", "在地铁站充值。"]]), tmp_path / "kb-b"
    )
    assert len(load_corpus(tmp_path / "kb-a").faqs) == 2
    assert len(load_corpus(tmp_path / "kb-b").faqs) == 1
