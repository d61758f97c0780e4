"""The admin pages' SVG charts: well-formed, labelled for screen readers, values drawn where they belong, text escaped."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from assistant.analytics import LOCAL_TZ, Period, RatingRow, TurnRow, build_report
from channels.plots import Series, axis_max, bar_chart, line_chart, nice_ceiling, report_charts

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in polyline.attrib["points"].split())]


def no_inline_style(root: ET.Element) -> bool:
    return all("style" not in element.attrib for element in root.iter())


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (23, 25), (250, 250), (0.3, 0.5), (1001, 2000)],
)
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 4), (3, 4), (5, 8), (9, 20), (21, 40), (99, 100), (101, 200), (1000, 1000)],  # 4 whole-number steps
)
def test_count_axis_has_whole_number_ticks(value: float, top: float) -> None:
    assert axis_max(value) == top and (top / 4).is_integer()


def test_line_chart_is_labelled_and_draws_each_value() -> None:
    svg = line_chart(
        chart_id="c1",
        title="每日对话量",
        description="共6轮",
        x_labels=["11-28", "11-29", "11-30"],
        series=[Series("对话轮次", [0, 5, 10]), Series("会话数", [0, 2, 4])],
        y_label="数量",
    )
    root = parse(svg)
    assert root.attrib["role"] == "img" and root.attrib["aria-labelledby"] == "c1-title c1-desc"
    assert root.find("svg:title", NS).text == "每日对话量"  # type: ignore[union-attr]
    assert root.find("svg:desc", NS).text == "共6轮"  # type: ignore[union-attr]
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"日期", "数量", "11-28", "11-30", "对话轮次", "会话数", "10"} <= set(texts)
    turns, conversations = (g.find("svg:polyline", NS) for g in root.iterfind("svg:g[@class='series']", NS))
    assert turns is not None and conversations is not None
    line = points(turns)
    assert [x for x, _ in line] == sorted(x for x, _ in line) and len(line) == 3
    bottom, middle, top = (y for _, y in line)
    assert bottom > middle > top and middle == pytest.approx((bottom + top) / 2)  # 0, 5, 10 on a 0..10 axis
    assert points(conversations)[2][1] == pytest.approx(bottom - (bottom - top) * 0.4)  # 4 of 10
    assert no_inline_style(root)


def test_missing_values_break_the_line_and_rates_use_a_percent_axis() -> None:
    svg = line_chart(
        chart_id="r",
        title="比例",
        description="d",
        x_labels=["a", "b", "c", "d", "e"],
        series=[Series("解决率", [0.5, 1.0, None, 0.25, 0.0])],
        y_label="比例",
        as_percent=True,
    )
    root = parse(svg)
    series = root.find("svg:g[@class='series']", NS)
    assert series is not None
    assert [len(points(p)) for p in series.iterfind("svg:polyline", NS)] == [2, 2]
    assert len(series.findall("svg:circle", NS)) == 4  # a marker per known value
    assert {"0%", "50%", "100%"} <= {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}


def test_bar_chart_widths_are_proportional_and_text_is_escaped() -> None:
    label = '<script>alert("x")</script>火星签证怎么办理才能最快拿到啊'
    svg = bar_chart(
        chart_id="q", title="问题", description="d", labels=[label, "月球户口"], values=[4, 2], x_label="提问次数"
    )
    assert "<script>" not in svg
    root = parse(svg)
    bars = root.findall("svg:g[@class='bar']", NS)
    assert [b.attrib["data-label"] for b in bars] == [label, "月球户口"]
    widths = [float(b.find("svg:rect", NS).attrib["width"]) for b in bars]  # type: ignore[union-attr]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert bars[0].find("svg:title", NS).text == f"{label}：4"  # type: ignore[union-attr]
    shown = [t.text or "" for t in bars[0].iter("{http://www.w3.org/2000/svg}text")]
    assert shown[0].endswith("…") and len(shown[0]) == 18  # long labels are shortened on the chart only
    assert no_inline_style(root)


def test_empty_bar_chart_is_still_valid() -> None:
    root = parse(bar_chart(chart_id="e", title="无", description="没有数据", labels=[], values=[], x_label="次数"))
    assert root.findall("svg:g[@class='bar']", NS) == []


def test_report_charts_carry_the_figures_in_svg_description_and_table() -> None:
    def at(day: int) -> dt.datetime:
        return dt.datetime(2026, 11, day, 10, tzinfo=LOCAL_TZ)

    turns = [
        TurnRow(at(29), "h5", "a", "answered"),
        TurnRow(at(30), "h5", "b", "not_found", "火星签证"),
        TurnRow(at(30), "h5", "b", "handoff", "火星签证"),
        TurnRow(at(30), "wechat", "c", "answered"),
    ]
    given = [RatingRow(at(30), "h5", 5), RatingRow(at(30), "h5", 5), RatingRow(at(29), "h5", 1)]
    charts = {c.id: c for c in report_charts(build_report(turns, given, Period.ending(dt.date(2026, 11, 30), 3)))}
    assert list(charts) == ["chart-volume", "chart-rates", "chart-ratings", "chart-unanswered"]
    volume = charts["chart-volume"]
    assert volume.table.rows == [["2026-11-28", "0", "0"], ["2026-11-29", "1", "1"], ["2026-11-30", "3", "2"]]
    assert "共4轮对话、3个会话" in volume.description
    rates = charts["chart-rates"]
    assert rates.table.rows[2] == ["2026-11-30", "2", "50.0%", "50.0%", "66.7%"]
    assert rates.table.rows[0][2:] == ["—", "—", "—"]
    assert "解决率66.7%" in rates.description
    ratings = charts["chart-ratings"]
    assert ratings.table.rows[0] == ["5分 非常满意", "2", "66.7%"] and ratings.table.rows[4] == [
        "1分 非常不满意",
        "1",
        "33.3%",
    ]
    assert "平均3.67分" in ratings.description
    unanswered = charts["chart-unanswered"]
    assert unanswered.table.rows == [["火星签证", "2", "2026-11-30 10:00"]]
    for chart in charts.values():
        root = parse(chart.svg)
        assert root.find("svg:title", NS).text == chart.title  # type: ignore[union-attr]
        assert root.find("svg:desc", NS).text == chart.description  # type: ignore[union-attr]
        assert no_inline_style(root)
