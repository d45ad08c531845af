"""The web page: ``/`` (ask), ``/view/{doc_id}`` (a document with a passage marked) and
their static files. The pages call the JSON API from the browser; none of them needs the
key to load (the API calls do)."""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_URL = "/static"
# Everything the pages load comes from this server: no CDN, no inline script or style.
_HEADERS = {
    "Cache-Control": "no-cache",  # revalidate (ETag), so an upgraded server serves its own files
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # the document view knows it came from the page
}
PAGE_HEADERS = {
    **_HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
}

router = APIRouter(tags=["web"], include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers=PAGE_HEADERS)


@router.api_route("/", methods=["GET", "HEAD"])
async def home() -> FileResponse:
    """Ask questions, read answers in their passages, manage documents."""
    return _page("index.html")


@router.api_route("/view/{doc_id}", methods=["GET", "HEAD"])
async def view(doc_id: str) -> FileResponse:
    """A document with a passage (``?start=&end=``) and an answer span marked; the page
    loads the text from ``GET /v1/documents/{doc_id}``."""
    return _page("view.html")


class StaticPages(StaticFiles):
    """The pages' scripts, styles and icon, with the same caching and sniffing headers."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(_HEADERS)
        return response


def static_files() -> StaticFiles:
    """The app mounts this at ``STATIC_URL``."""
    return StaticPages(directory=STATIC_DIR)
