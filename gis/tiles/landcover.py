"""XYZ PNG tiles of a classified land-cover raster, for the portal's swipe between the two
dates of a monitoring run (issue 23).

One job: a WebMercatorQuad tile (256 x 256, EPSG:3857) of one single-band classified raster,
coloured by class. Decisions:

- Resampling is nearest neighbour with an exact transform (``tolerance=0``: GDAL otherwise
  approximates the reprojection to 1/8 pixel, and a class boundary could move by a pixel):
  classes are codes, averaging two of them gives a third class that is not on the ground.
- Nodata, values of no class and the area outside the raster are transparent, so the base
  map and the other side of the swipe show through.
- A tile that has no pixel of the raster is the same fully transparent PNG, with ``200``,
  not the ``204`` the vector tiles answer: a raster tile goes into an ``<img>``, where an
  empty body is a broken image (Leaflet fires ``tileerror``), while for MVT ``204`` is the
  defined empty tile. A tile outside the raster's box is answered without reading it.
- Zoom 0-20 (:data:`MAX_ZOOM`): a 30 m class raster is one pixel per 256 screen pixels at
  zoom 20 already; deeper tiles would only enlarge pixels.
- Open datasets are cached (:data:`OPEN_DATASETS` of them, least recently used out), keyed
  by path, modification time and size so a replaced file is reopened. A GDAL dataset handle
  must not be used by two threads at once, so each has a lock; tiles of one raster render
  one after another, tiles of different rasters in parallel.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import Resampling, reproject, transform_bounds

from gis.errors import NotFound
from gis.messages import msg
from gis.tiles.grid import tile_bounds

#: Pixels along a tile's edge.
TILE_PX = 256
MIN_ZOOM, MAX_ZOOM = 0, 20
PNG_MEDIA_TYPE = "image/png"
WEB_MERCATOR = CRS.from_epsg(3857)
#: At most this many rasters are kept open (two per monitoring run shown).
OPEN_DATASETS = 8


def _png(rgba: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG", compress_level=6)
    return out.getvalue()


#: The empty tile: every pixel transparent.
EMPTY_PNG = _png(np.zeros((TILE_PX, TILE_PX, 4), dtype=np.uint8))


@dataclass(frozen=True)
class RenderedPng:
    data: bytes
    #: nothing of the raster in the tile (the data is :data:`EMPTY_PNG`)
    empty: bool

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'


def palette(colours: Mapping[int, str]) -> np.ndarray:
    """A 256-entry RGBA lookup table: class value -> its ``#rrggbb`` colour, opaque; every
    other value (nodata, no class) transparent. Only byte-valued classes can be coloured."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    for value, colour in colours.items():
        if 0 <= value <= 255:
            lut[value] = [int(colour[i:i + 2], 16) for i in (1, 3, 5)] + [255]
    return lut


def check_xyz(z: int, x: int, y: int) -> None:
    """:class:`NotFound` (404) for a tile not on the served grid: zoom outside 0-20, column
    or row outside 0..2^z-1 (the messages of the vector tiles)."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise NotFound(msg("tiles.zoom_not_served", z=z, tms="WebMercatorQuad",
                           first=MIN_ZOOM, max=MAX_ZOOM))
    last = 2 ** z - 1
    if not (0 <= x <= last and 0 <= y <= last):
        raise NotFound(msg("tiles.no_such_tile", z=z, x=x, y=y, last=last))


@dataclass
class _Source:
    dataset: rasterio.DatasetReader
    #: the raster's box in EPSG:3857 (clamped to the Mercator square)
    box: tuple[float, float, float, float]
    lock: threading.Lock = field(default_factory=threading.Lock)


class DatasetCache:
    """Open rasters by (path, mtime, size), least recently used closed first."""

    def __init__(self, size: int = OPEN_DATASETS) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple[str, int, int], _Source] = OrderedDict()
        #: how many times a file was opened (a test's check that tiles share one dataset)
        self.opens = 0

    def get(self, path: Path) -> _Source:
        stat = path.stat()  # FileNotFoundError for a file gone since the caller checked
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            found = self._open.get(key)
            if found is not None:
                self._open.move_to_end(key)
                return found
        dataset = rasterio.open(path)
        self.opens += 1
        left, bottom, right, top = transform_bounds(dataset.crs, WEB_MERCATOR,
                                                    *dataset.bounds, densify_pts=21)
        source = _Source(dataset, (left, bottom, right, top))
        with self._lock:
            raced = self._open.get(key)
            if raced is not None:  # another thread opened it meanwhile: keep theirs
                dataset.close()
                return raced
            self._open[key] = source
            evicted = [self._open.popitem(last=False)[1]
                       for _ in range(max(0, len(self._open) - self._size))]
        for old in evicted:
            with old.lock:  # not while another thread is reading it
                old.dataset.close()
        return source

    def clear(self) -> None:
        with self._lock:
            sources = list(self._open.values())
            self._open.clear()
        for source in sources:
            with source.lock:
                source.dataset.close()


#: The process's cache (the API's tile handlers share it).
DATASETS = DatasetCache()


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
              ) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def render_png(path: Path, z: int, x: int, y: int, lut: np.ndarray,
               cache: DatasetCache = DATASETS) -> RenderedPng:
    """Tile z/x/y of the classified raster at ``path`` as a PNG coloured by ``lut``
    (:func:`palette`); the caller has checked the tile with :func:`check_xyz`."""
    bounds = tile_bounds(z, x, y)
    size = (bounds[2] - bounds[0]) / TILE_PX
    dst_transform = Affine(size, 0.0, bounds[0], 0.0, -size, bounds[3])
    classes = None
    while classes is None:
        source = cache.get(path)
        if not _overlaps(bounds, source.box):
            return RenderedPng(EMPTY_PNG, True)
        with source.lock:
            ds = source.dataset
            if ds.closed:  # evicted between get() and the lock: open it again
                continue
            nodata = ds.nodata if ds.nodata is not None else 0
            classes = np.full((TILE_PX, TILE_PX), nodata, dtype=ds.dtypes[0])
            reproject(rasterio.band(ds, 1), classes, src_nodata=nodata, dst_nodata=nodata,
                      dst_transform=dst_transform, dst_crs=WEB_MERCATOR,
                      resampling=Resampling.nearest, tolerance=0)
    values = classes.astype(np.int64)
    inside = (values >= 0) & (values <= 255)
    rgba = lut[np.where(inside, values, 0)]
    rgba[~inside] = 0
    if not rgba[..., 3].any():
        return RenderedPng(EMPTY_PNG, True)
    return RenderedPng(_png(np.ascontiguousarray(rgba)), False)
