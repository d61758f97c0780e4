"""The H5 web chat page and the staff and admin pages, served with their own bundled assets (no CDN: they must work on
an air-gapped network).

Staff pages live in ``static/staff/`` (served at ``/staff/<file>``, ``/staff/`` is ``console.html``) and admin pages in
``static/admin/`` (``/admin/<file>``, ``/admin/`` is ``index.html``). The pages themselves are public files; the data they
show comes from the staff API, which checks who is signed in (:mod:`channels.auth`).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from channels.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: The page loads nothing from elsewhere: scripts, styles and requests go to this gateway only (and it is never framed
#: by another site). Media may also come from blob: URLs: the 朗读 button plays the MP3 that POST /api/v1/tts returned
#: from a blob: URL made by the page itself.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)

PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

#: Folders of staff-only pages, their URL prefix and the file their bare prefix shows.
PAGE_FOLDERS = {"staff": "console.html", "admin": "index.html"}

#: One plain file name: no folders, no dot files, so nothing outside the page folder can be named.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.(html|js|css|svg|png|json)")
_MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "json": "application/json",
}

router = APIRouter(tags=["web"])


def page(path: Path) -> FileResponse:
    """``path`` with the page security headers."""
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix.lstrip(".")], headers=PAGE_HEADERS)


def folder_file(folder: str, name: str) -> Path:
    """The file ``name`` of the page folder ``folder``; NotFound for anything else (path traversal included)."""
    match = _FILE_NAME.fullmatch(name)
    root = (STATIC_DIR / folder).resolve()
    path = (root / name).resolve() if match else None
    if path is None or path.parent != root or not path.is_file():
        raise NotFound("没有找到您要访问的页面。", context=f"/{folder}/{name!r}")
    return path


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return page(STATIC_DIR / "index.html")


@router.get("/staff/", include_in_schema=False)
async def staff_home() -> FileResponse:
    return page(folder_file("staff", PAGE_FOLDERS["staff"]))


@router.get("/staff/{name}", include_in_schema=False)
async def staff_page(name: str) -> FileResponse:
    return page(folder_file("staff", name))


@router.get("/admin/", include_in_schema=False)
async def admin_home() -> FileResponse:
    return page(folder_file("admin", PAGE_FOLDERS["admin"]))


@router.get("/admin/{name}", include_in_schema=False)
async def admin_page(name: str) -> FileResponse:
    return page(folder_file("admin", name))
