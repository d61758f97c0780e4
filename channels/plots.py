"""Accessible inline SVG charts for the admin pages: pure functions from numbers to SVG text. No plotting library.

Every chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>`` (the description states the figures in
words), with Chinese axis labels. Series differ by colour *and* by dash pattern and marker, so they can be told apart
without colour. Only presentation attributes are used (no ``style`` attribute: the pages' Content-Security-Policy forbids
inline styles). Each chart also comes with its data as a table (:class:`Table`), which the page shows under it.

All text is escaped: the top-unanswered chart shows what people typed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from assistant.analytics import LOCAL_TZ, Report
from assistant.ratings import LEVELS

WIDTH = 720
FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif"
#: colour, dash pattern, marker shape per series (dark enough for 3:1 contrast against white)
STYLES = (("#1d5fa7", "", "circle"), ("#b3261e", "6 4", "square"), ("#2e6b30", "2 3", "diamond"))
BAR_COLOUR = "#1d5fa7"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no value that day (the line is broken there)


@dataclass(frozen=True)
class Table:
    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    svg: str
    table: Table

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "svg": self.svg,
            "table": {"caption": self.table.caption, "columns": self.table.columns, "rows": self.table.rows},
        }


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at least ``value`` (1 for nothing), so the axis has round ticks."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value - 1e-12:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def axis_max(value: float, ticks: int = 4) -> float:
    """The top of a count axis with ``ticks`` equal whole-number steps (1, 2, 5, 10, 20, 25, 50, 100 …)."""
    for exponent in range(16):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10**exponent
            if step == int(step) and step * ticks >= value:
                return float(step * ticks)
    return float(value)  # pragma: no cover - beyond 10^16 turns


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12, extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="#222"{extra}>'
        f"{escape(content)}</text>"
    )


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} {x - 4:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>'


def _open(chart_id: str, title: str, description: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'class="chart" aria-labelledby="{chart_id}-title {chart_id}-desc" font-family={quoteattr(FONT)}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    x_label: str = "日期",
    as_percent: bool = False,
    height: int = 300,
) -> str:
    """A line chart of ``series`` over ``x_labels`` (at most 3 series), with a legend; rates as 0..1 with ``as_percent``."""
    left, right, top, bottom = 64, 16, 40, 56
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    y_max = 1.0 if as_percent else axis_max(max(values, default=0))
    count = len(x_labels)
    step = plot_w / max(count - 1, 1)

    def x_at(i: int) -> float:
        return left + (i * step if count > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h - (v / y_max) * plot_h

    parts = _open(chart_id, title, description, height)
    parts.append('<g class="grid" stroke="#d0d0d0" stroke-width="1">')
    for tick in range(5):
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}"/>')
    parts.append("</g>")
    for tick in range(5):
        value = y_max * tick / 4
        label = percent(value, 0) if as_percent else number(value)
        parts.append(_text(left - 6, top + plot_h - plot_h * tick / 4 + 4, label, anchor="end", size=11))
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" y2="{top + plot_h}" stroke="#555" stroke-width="1"/>'
    )
    every = max(1, math.ceil(count / 10))  # at most about ten dates under the axis
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == count - 1:
            parts.append(_text(x_at(i), top + plot_h + 16, label, anchor="middle", size=11))
    parts.append(_text(left + plot_w / 2, height - 8, x_label, anchor="middle", size=12))
    parts.append(
        _text(
            14, top + plot_h / 2, y_label, anchor="middle", extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"'
        )
    )
    for index, one in enumerate(series[: len(STYLES)]):
        colour, dash, shape = STYLES[index]
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="series" data-series={quoteattr(one.name)}>')
        run: list[str] = []
        for i, point in enumerate([*one.values, None]):
            if point is not None and i < count:
                run.append(f"{x_at(i):.1f},{y_at(float(point)):.1f}")
                continue
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"{dashing}/>'
                )
            run = []
        for i, point in enumerate(one.values[:count]):
            if point is not None:
                parts.append(_marker(shape, x_at(i), y_at(float(point)), colour))
        parts.append("</g>")
        legend_x = left + index * 190
        parts.append(
            f'<line x1="{legend_x}" y1="18" x2="{legend_x + 28}" y2="18" stroke="{colour}" stroke-width="2"{dashing}/>'
        )
        parts.append(_marker(shape, legend_x + 14, 18, colour))
        parts.append(_text(legend_x + 34, 22, one.name))
    parts.append("</svg>")
    return "".join(parts)


def shorten(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    x_label: str,
    value_labels: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, one per label (long labels shortened; the full text is each bar's tooltip and in the table)."""
    left, right, top, bar_h, gap = 200, 72, 12, 22, 10
    height = top + len(labels) * (bar_h + gap) + 40
    plot_w = WIDTH - left - right
    x_max = nice_ceiling(max(values, default=0))
    shown = value_labels or [number(v) for v in values]
    parts = _open(chart_id, title, description, height)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar_h + gap)
        width = plot_w * value / x_max
        parts.append(f'<g class="bar" data-label={quoteattr(label)} data-value="{number(value)}">')
        parts.append(f"<title>{escape(label)}：{escape(shown[i])}</title>")
        parts.append(_text(left - 8, y + bar_h / 2 + 4, shorten(label), anchor="end"))
        parts.append(f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{bar_h}" fill="{BAR_COLOUR}"/>')
        parts.append(_text(left + width + 6, y + bar_h / 2 + 4, shown[i]))
        parts.append("</g>")
    axis_y = top + len(labels) * (bar_h + gap)
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left}" y2="{top}" stroke="#555" stroke-width="1"/>')
    parts.append(_text(left + plot_w / 2, height - 10, x_label, anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)


# --- the analytics page's charts ------------------------------------------------------------------------------------
def _day(iso: str) -> str:
    return iso[5:]  # 2026-11-30 → 11-30


def report_charts(report: Report) -> list[Chart]:
    """The four charts of the analytics page, each with its data table."""
    days = [day.isoformat() for day in report.days]
    period = f"{report.period.first:%Y年%m月%d日}至{report.period.last:%Y年%m月%d日}"
    summary = report.summary
    charts = [
        Chart(
            "chart-volume",
            "每日对话量",
            description := (
                f"{period}，共{summary.turns}轮对话、{summary.conversations}个会话；"
                f"单日最多{max(report.turns, default=0)}轮。"
            ),
            line_chart(
                chart_id="chart-volume",
                title="每日对话量",
                description=description,
                x_labels=[_day(d) for d in days],
                series=[Series("对话轮次", report.turns), Series("会话数", report.conversations)],
                y_label="数量",
            ),
            Table(
                "每日对话量",
                ["日期", "对话轮次", "会话数"],
                [[d, str(t), str(c)] for d, t, c in zip(days, report.turns, report.conversations, strict=True)],
            ),
        ),
    ]
    daily = report.daily
    rate_series = [
        Series("解决率", [d.resolution_rate for d in daily]),
        Series("转人工率", [d.handoff_rate for d in daily]),
        Series("未找到答案率", [d.not_found_rate for d in daily]),
    ]
    rate_text = (
        f"{period}整体：解决率{percent(summary.resolution_rate)}，转人工率{percent(summary.handoff_rate)}，"
        f"未找到答案率{percent(summary.not_found_rate)}。"
    )
    charts.append(
        Chart(
            "chart-rates",
            "每日解决率、转人工率和未找到答案率",
            rate_text,
            line_chart(
                chart_id="chart-rates",
                title="每日解决率、转人工率和未找到答案率",
                description=rate_text,
                x_labels=[_day(d) for d in days],
                series=rate_series,
                y_label="比例",
                as_percent=True,
            ),
            Table(
                "每日比例",
                ["日期", "会话数", "解决率", "转人工率", "未找到答案率"],
                [
                    [
                        d,
                        str(r.conversations),
                        percent(r.resolution_rate),
                        percent(r.handoff_rate),
                        percent(r.not_found_rate),
                    ]
                    for d, r in zip(days, daily, strict=True)
                ],
            ),
        )
    )
    ratings = report.ratings
    labels = [f"{score}分 {LEVELS[score]}" for score in ratings.distribution]
    counts = list(ratings.distribution.values())
    average = "—" if ratings.average is None else f"{ratings.average:.2f}"
    rating_text = f"{period}共收到{ratings.count}条评价，平均{average}分，其中差评{ratings.bad}条。" + "，".join(
        f"{label}{n}条" for label, n in zip(labels, counts, strict=True)
    )
    charts.append(
        Chart(
            "chart-ratings",
            "评价分布",
            rating_text,
            bar_chart(
                chart_id="chart-ratings",
                title="评价分布",
                description=rating_text,
                labels=labels,
                values=counts,
                x_label="评价条数",
                value_labels=[f"{n}条" for n in counts],
            ),
            Table(
                "评价分布",
                ["评价", "条数", "占比"],
                [
                    [label, str(n), percent(n / ratings.count if ratings.count else None)]
                    for label, n in zip(labels, counts, strict=True)
                ],
            ),
        )
    )
    questions = report.top_unanswered
    question_text = (
        f"{period}知识库没有找到答案、次数最多的{len(questions)}个问题："
        + "；".join(f"“{q.text}”{q.count}次" for q in questions)
        if questions
        else f"{period}没有知识库找不到答案的问题。"
    )
    charts.append(
        Chart(
            "chart-unanswered",
            "未找到答案的问题（前十）",
            question_text,
            bar_chart(
                chart_id="chart-unanswered",
                title="未找到答案的问题（前十）",
                description=question_text,
                labels=[q.text for q in questions],
                values=[q.count for q in questions],
                x_label="提问次数",
                value_labels=[f"{q.count}次" for q in questions],
            ),
            Table(
                "未找到答案的问题",
                ["问题", "次数", "最近一次"],
                [[q.text, str(q.count), f"{q.last_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"] for q in questions],
            ),
        )
    )
    return charts
