"""Printable application summaries: an HTML page and a PDF (reportlab, with its built-in CJK font, so no font file is needed).

Both show what the applicant confirmed (masked as in the chat), the receipt number, the status history and the materials
to bring; the person can print either and take it to the window.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from assistant.applications import STATUSES, Receipt

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def summary_token(secret: str, receipt_no: str) -> str:
    """The token of the applicant's summary link (signed with ZHIBAN_SECRET_KEY)."""
    return hmac.new(secret.encode(), f"summary:{receipt_no.upper()}".encode(), hashlib.sha256).hexdigest()[:32]


def summary_path(secret: str, receipt_no: str) -> str:
    """The gateway path the applicant gets for the printable summary (add ``&format=pdf`` for the PDF)."""
    return f"/api/v1/applications/{receipt_no}/summary?token={summary_token(secret, receipt_no)}"


def summary_lines(receipt: Receipt) -> list[tuple[str, list[str]]]:
    """The sections of the summary: heading and lines."""
    status = receipt.status_info
    return [
        ("受理信息", [
            f"受理编号：{receipt.receipt_no}",
            f"提交时间：{receipt.created_at:%Y-%m-%d %H:%M}",
            f"当前状态：{status.label} — {status.meaning}",
            f"下一步：{status.next_step}",
        ]),
        ("申请内容（个人信息已部分隐藏）", list(receipt.summary)),
        ("办理记录", [f"{at:%Y-%m-%d %H:%M} {STATUSES[code].label}{('：' + note) if note else ''}" for code, note, at in receipt.history]),
    ]  # fmt: skip


def to_html(receipt: Receipt) -> str:
    sections = "".join(
        f"<h2>{html.escape(heading)}</h2><ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
        for heading, lines in summary_lines(receipt)
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(receipt.title)} {html.escape(receipt.receipt_no)}</title>"
        "<style>body{font-family:sans-serif;font-size:18px;line-height:1.6;max-width:46em;margin:2em auto;padding:0 1em}"
        "h1{font-size:26px}h2{font-size:20px;border-bottom:1px solid #444}@media print{body{margin:0}}</style></head>"
        f"<body><h1>{html.escape(receipt.title)}</h1>{sections}"
        "<p>本页由智办生成，可打印后带到办事窗口。</p></body></html>"
    )


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines, current = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(current + ch, FONT, size) > width:
            lines.append(current)
            current = ch
        else:
            current += ch
    return [*lines, current] if current else lines


def to_pdf(receipt: Receipt) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    page.setTitle(f"{receipt.title} {receipt.receipt_no}")
    width, height = A4
    margin = 20 * mm
    y = height - margin

    def write(text: str, size: float, gap: float = 1.5) -> None:
        nonlocal y
        for line in _wrap(text, width - 2 * margin, size):
            if y < margin + size:
                page.showPage()
                y = height - margin
            page.setFont(FONT, size)
            page.drawString(margin, y - size, line)
            y -= size * gap

    write(receipt.title, 18)
    for heading, lines in summary_lines(receipt):
        y -= 6
        write(heading, 14)
        for line in lines:
            write(line, 11)
    y -= 6
    write("本文件由智办生成，可打印后带到办事窗口。", 9)
    page.showPage()
    page.save()
    return buffer.getvalue()
