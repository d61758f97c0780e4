"""The `zhiban` command line in-process: knowledge commands, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from knowledge.service import reset_searchers


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZHIBAN_DATA_DIR", str(tmp_path / "var"))
    reset_searchers()


def test_kb_check_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check"]) == 0
    assert "40 个事项, 4 个一件事" in capsys.readouterr().out


def test_kb_check_reports_the_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kb" / "items").mkdir(parents=True)
    (tmp_path / "kb" / "items" / "P01.yml").write_text("code: P01\n", encoding="utf-8")
    assert main(["kb", "check", "--kb", str(tmp_path / "kb")]) == 1
    error = capsys.readouterr().err
    assert "P01.yml" in error and "name" in error


def test_import_build_search_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "hotline.csv"
    sheet.write_text(
        "编号,问题,答案\nQ1,护照怎么办理,到出入境大厅申请。\nQ2,养犬登记在哪办,到辖区派出所办理。\n", encoding="utf-8"
    )
    kb = tmp_path / "kb"
    assert main(["kb", "import", str(sheet), "--kb", str(kb)]) == 0
    assert "已导入 2 条" in capsys.readouterr().out
    assert main(["kb", "search", "办护照", "--kb", str(kb)]) == 0
    assert "护照怎么办理 [Q1]" in capsys.readouterr().out
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "狗要登记吗", "expected_id": "Q2"}, ensure_ascii=False) + "\n")
    assert main(["kb", "eval", str(questions), "--kb", str(kb), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 1 and set(report) >= {"recall_at_1", "recall_at_5", "mrr_at_10", "latency_p95_ms"}


def test_import_problems_exit_1_with_row_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("问题,答案\n护照,\n", encoding="utf-8")
    assert main(["kb", "import", str(sheet), "--kb", str(tmp_path / "kb")]) == 1
    assert "第2行: 答案为空" in capsys.readouterr().err
    assert not (tmp_path / "kb" / "faq" / "bad.jsonl").exists()


def test_eval_file_with_unknown_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "x", "expected_item": "不存在的事项"}\nnot json\n', encoding="utf-8")
    assert main(["kb", "eval", str(questions)]) == 1
    error = capsys.readouterr().err
    assert "line 1" in error and "line 2" in error


def test_invalid_setting_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ZHIBAN_GATEWAY_PORT", "eighty")
    assert main(["doctor"]) == 2
    assert "ZHIBAN_GATEWAY_PORT" in capsys.readouterr().err
