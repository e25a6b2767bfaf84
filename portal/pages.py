"""The portal router: the pages and the browser assets (the viewer's search is the
API's, ``api/routers/search.py``).

Pages are plain GETs that need no key: what a user may *see* is decided when the browser
asks the API for data with the key it keeps (``localStorage["onemap.apiKey"]``), so the same
page serves every role and restricted layers show as greyed out in the layer control.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from portal import assets
from portal.history_page import history_page
from portal.i18n import lang_of
from portal.quota_page import quota_page
from portal.reconciliation_page import reconciliation_page
from portal.siting_page import siting_page
from portal.viewer import viewer_page

router = APIRouter(include_in_schema=False)
router.include_router(assets.router)


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, lang: str | None = None) -> HTMLResponse:
    return await viewer_page(request, lang_of(lang))


@router.get("/siting", response_class=HTMLResponse)
async def siting(request: Request, lang: str | None = None) -> HTMLResponse:
    return await siting_page(request, lang_of(lang))


@router.get("/reconciliation", response_class=HTMLResponse)
async def reconciliation(request: Request, lang: str | None = None) -> HTMLResponse:
    return await reconciliation_page(request, lang_of(lang))


@router.get("/history", response_class=HTMLResponse)
async def history(request: Request, lang: str | None = None) -> HTMLResponse:
    return await history_page(request, lang_of(lang))


@router.get("/quota", response_class=HTMLResponse)
async def quota(request: Request, lang: str | None = None) -> HTMLResponse:
    return await quota_page(request, lang_of(lang))
