"""The admin pages in a real browser (Debian's chromium via Playwright) against the real gateway: the statistics page shows
the charts and tables with the seeded figures, the knowledge page imports a sheet (and lists a bad sheet's rows), rebuilds
the index and reports it; agents are kept out; axe-core finds no serious or critical violations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import ratings
from assistant.analytics import LOCAL_TZ
from assistant.settings import Settings
from assistant.turn_log import record_turn
from knowledge import service
from tests.utils.knowledge import HashEmbedder
from tests.utils.staff import StaffLogin
from tests.web.conftest import Pages, StaffGateway, axe, staff_gateway

pytestmark = pytest.mark.slow

GOOD_CSV = "编号,问题,答案\nHZ-001,护照怎么办理,携带身份证到出入境接待大厅申请，约7个工作日出证。\n"
BAD_CSV = "编号,问题,答案\nHZ-001,护照怎么办理,\nHZ-002,,没有问题\n"


def seed(settings: Settings) -> None:
    """Today: 3 conversations (one answered, one not found then handed over, one greeting); yesterday: one answered.
    Ratings: 5, 4, 1."""
    noon = dt.datetime.combine(dt.datetime.now(LOCAL_TZ).date(), dt.time(12), LOCAL_TZ)
    answered = [{"custom": {"type": "answer", "text": "…", "item_code": "P02"}}]
    not_found = [{"custom": {"type": "text", "text": "抱歉", "outcome": "not_found"}}]
    handoff = [{"custom": {"type": "handoff", "text": "", "ticket": "GD-1"}}]
    log: list[tuple[str, str, list[dict[str, Any]], str, int]] = [
        ("a", "h5", answered, "", 0),
        ("b", "wechat", not_found, "火星签证怎么办", 0),
        ("b", "wechat", handoff, "转人工", 0),
        ("c", "h5", [{"text": "您好"}], "", 0),
        ("d", "h5", answered, "", 1),
    ]
    for conversation, channel, messages, question, days_ago in log:
        record_turn(settings, channel=channel, conversation_id=conversation, elder=False, messages=messages,
                    question=question, latency_ms=300, at=noon - dt.timedelta(days=days_ago))  # fmt: skip
    for conversation, score in (("a", 5), ("d", 4), ("b", 1)):
        ratings.rate(settings, conversation_id=conversation, channel="h5", score=score, at=noon.astimezone(dt.UTC))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaffGateway]:
    """The gateway with the seeded figures, a small knowledge base, an admin (chief) and an agent (li.si)."""
    with pytest.MonkeyPatch.context() as patch:
        # a model-free embedder under the configured name: the real index, reload and search code, fast
        patch.setattr(service, "make_embedder", lambda spec: HashEmbedder(spec, 16))
        with staff_gateway(
            tmp_path_factory.mktemp("admin-web"), admin="chief", agent="li.si", knowledge=True, seed=seed
        ) as served:
            yield served


def signed_in(pages: Pages, site: StaffGateway, path: str, login: StaffLogin | None = None, **options: Any) -> Any:
    """``path`` as the admin (or ``login``); the index is rebuilt on some: 15 s to wait for anything."""
    return pages.signed_in(site, login or site.admin, path, timeout_ms=15_000, **options)


def table_rows(page: Any, table_id: str) -> list[list[str]]:
    rows = page.locator(f"#{table_id} tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()] for i in range(rows.count())]


def test_statistics_page_shows_the_seeded_figures(pages: Pages, site: StaffGateway) -> None:
    page = signed_in(pages, site, "/admin/")
    page.locator("#chart-volume-card svg").wait_for()
    assert page.title() == "统计分析 · 智办管理后台"
    summary = dict(zip(page.locator("#summary dt").all_inner_texts(), page.locator("#summary dd").all_inner_texts(),
                       strict=True))  # fmt: skip
    assert summary["对话轮次"] == "5" and summary["会话数"] == "4"
    assert summary["解决率"] == "50.0%" and summary["转人工率"] == "25.0%" and summary["未找到答案率"] == "33.3%"
    assert summary["评价数"] == "3" and summary["平均评分"] == "3.33 分" and summary["差评"] == "1"
    assert page.locator("#charts svg[role='img']").count() == 4
    # the charts' text alternatives: a description in words and a data table under each
    assert "共5轮对话、4个会话" in page.locator("#chart-volume-card svg desc").text_content()
    volume = table_rows(page, "chart-volume-table")
    assert len(volume) == 30 and volume[-1][1:] == ["4", "3"] and volume[-2][1:] == ["1", "1"]
    assert table_rows(page, "chart-unanswered-table")[0][:2] == ["火星签证怎么办", "1"]
    assert table_rows(page, "chart-ratings-table")[0] == ["5分 非常满意", "1", "33.3%"]
    assert [row[0] for row in table_rows(page, "channels")] == ["网页（H5）", "公众号"]

    page.get_by_label("最近7天").check()
    page.locator("#analytics-status", has_text="共7天").wait_for()
    assert len(table_rows(page, "chart-volume-table")) == 7


def test_knowledge_page_imports_lists_bad_rows_and_rebuilds(pages: Pages, site: StaffGateway, tmp_path: Path) -> None:
    page = signed_in(pages, site, "/admin/knowledge.html")
    page.locator("#kb-status dd").first.wait_for()
    assert "问答0" in page.locator("#kb-status").inner_text()

    bad = tmp_path / "热线.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    page.get_by_label("知识表格文件").set_input_files(str(bad))
    page.get_by_role("button", name="导入").click()
    errors = page.locator("#import-errors")
    errors.wait_for()
    assert "2个问题" in errors.inner_text() and "没有任何改动" in errors.inner_text()
    assert errors.locator("li").all_inner_texts() == ["第2行: 答案为空", "第3行: 问题为空"]
    assert page.get_by_label("知识表格文件").get_attribute("aria-invalid") == "true"

    good = tmp_path / "出入境.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    page.get_by_label("知识表格文件").set_input_files(str(good))
    page.get_by_role("button", name="导入").click()
    page.locator("#import-result", has_text="已导入1条").wait_for()
    assert errors.is_hidden()
    page.locator("#kb-status", has_text="需要重建").wait_for()
    assert "问答1" in page.locator("#kb-status").inner_text()

    page.get_by_role("button", name="重建索引").click()
    page.locator("#rebuild-status", has_text="重建完成").wait_for()
    page.locator("#kb-status", has_text="已是最新").wait_for()
    search = page.request.get("/api/v1/knowledge/search", params={"q": "护照怎么办理", "k": 10}).json()
    assert "HZ-001" in [c["code"] for c in search["candidates"]]


def test_agents_see_no_admin_page(pages: Pages, site: StaffGateway) -> None:
    page = signed_in(pages, site, "/admin/knowledge.html", login=site.agent)
    page.locator("main .error", has_text="您的账号没有此页面的权限。").wait_for()
    assert page.locator("#import-form").count() == 0


def test_signed_out_visitors_are_sent_to_the_login_page(pages: Pages, site: StaffGateway) -> None:
    page = pages.open(site, "/admin/")
    page.wait_for_url(f"{site.url}/staff/login.html?next=%2Fadmin%2F")


@pytest.mark.parametrize(
    ("path", "ready"), [("/admin/", "#chart-unanswered-card svg"), ("/admin/knowledge.html", "#kb-status dd")]
)
def test_axe_finds_no_serious_violations(
    pages: Pages, site: StaffGateway, axe_source: str, path: str, ready: str
) -> None:
    page = signed_in(pages, site, path, bypass_csp=True)
    page.locator(ready).first.wait_for()
    assert axe(page, axe_source) == []
