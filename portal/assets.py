"""Serving the portal's browser files: the npm libraries (``/static/vendor/...``) and our own
scripts and styles (``/static/portal/...``).

The libraries are installed by ``npm ci --prefix portal`` at set-up (``scripts/setup.sh``) and
served straight from ``portal/node_modules``: bureau networks are often cut off from the
internet and a CDN request leaks who looks at what, so a page must never fetch code from
elsewhere. Only each package's distribution folder is exposed, by an explicit table, and only
static file types; paths are resolved and checked to stay inside that folder.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from gis.errors import NotFound
from gis.messages import msg

PORTAL_DIR = Path(__file__).resolve().parent
NODE_MODULES = PORTAL_DIR / "node_modules"
STATIC_DIR = PORTAL_DIR / "static"

#: URL name -> folder inside node_modules that is served (the package's built files).
VENDOR: dict[str, str] = {
    "leaflet": "leaflet/dist",
    "leaflet-draw": "leaflet-draw/dist",
    "groupedlayercontrol": "leaflet-groupedlayercontrol/dist",
    "mouseposition": "leaflet-mouse-position/src",
    "vectorgrid": "leaflet.vectorgrid/dist",
    "chartjs": "chart.js/dist",
    # GeographicLib ships its built file at the package root (no dist folder)
    "geodesic": "geographiclib-geodesic",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png",
          ".svg": "image/svg+xml", ".map": "application/json", ".json": "application/json"}


def vendor_url(name: str, file: str) -> str:
    if name not in VENDOR:
        raise KeyError(name)
    return f"/static/vendor/{name}/{file}"


def static_url(file: str) -> str:
    return f"/static/portal/{file}"


#: Files every page needs; pages check they exist to warn when set-up was skipped.
LEAFLET_JS = vendor_url("leaflet", "leaflet.js")
LEAFLET_CSS = vendor_url("leaflet", "leaflet.css")
DRAW_JS = vendor_url("leaflet-draw", "leaflet.draw.js")
DRAW_CSS = vendor_url("leaflet-draw", "leaflet.draw.css")
GROUPED_JS = vendor_url("groupedlayercontrol", "leaflet.groupedlayercontrol.min.js")
GROUPED_CSS = vendor_url("groupedlayercontrol", "leaflet.groupedlayercontrol.min.css")
MOUSE_JS = vendor_url("mouseposition", "L.Control.MousePosition.js")
MOUSE_CSS = vendor_url("mouseposition", "L.Control.MousePosition.css")
VECTORGRID_JS = vendor_url("vectorgrid", "Leaflet.VectorGrid.bundled.min.js")
CHART_JS = vendor_url("chartjs", "chart.umd.min.js")


def _resolve(root: Path, path: str) -> Path:
    target = (root / path).resolve()
    if (root.resolve() not in target.parents or not target.is_file()
            or target.suffix.lower() not in _TYPES):
        raise NotFound(msg("assets.no_asset", path=path))
    return target


def vendor_missing() -> list[str]:
    """Vendor folders that are not installed (empty when ``npm ci --prefix portal`` ran)."""
    return [name for name, folder in VENDOR.items() if not (NODE_MODULES / folder).is_dir()]


router = APIRouter(include_in_schema=False)


@router.get("/static/vendor/{name}/{path:path}")
async def vendor_file(name: str, path: str) -> FileResponse:
    if name not in VENDOR:
        raise NotFound(msg("assets.no_library", name=name))
    root = NODE_MODULES / VENDOR[name]
    if not root.is_dir():
        raise NotFound(msg("assets.not_installed", name=name))
    target = _resolve(root, path)
    return FileResponse(target, media_type=_TYPES[target.suffix.lower()],
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/static/portal/{path:path}")
async def portal_file(path: str) -> FileResponse:
    target = _resolve(STATIC_DIR, path)
    return FileResponse(target, media_type=_TYPES[target.suffix.lower()],
                        headers={"Cache-Control": "no-cache"})
