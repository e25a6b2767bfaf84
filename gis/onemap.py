"""The analyst's entry point: ``om = gis.connect()``, then layers and analyses as methods that
take geometries, GeoSeries/GeoDataFrames or files and return GeoDataFrames or results.

One object, two ways to reach the One-Map: the database of the settings (the embedded
cluster of ``gis db up`` or ``GIS_DATABASE_URL``; ``gis.onemap_local``) or a server's API
with a key (``gis.onemap_remote``), so the same notebook runs on a laptop and against the
bureau's shared service without database credentials. Everything returned is the same in
both modes: layer frames carry the catalogue's field names and ``area_m2`` (ellipsoidal,
CGCS2000), results convert with ``to_frame()``/``to_geodataframe()`` (areas in m², 亩 and
ha) and draw with ``explore()`` in the portal's styles.

Analyses that write an official ledger (reconciliation detection into the work list, a
monitoring run) are dry runs unless called with ``record=True``; then they record under the
caller's identity: the local operating-system user (``python:<user>``) on a database, the API
key's holder over the API.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from gis.errors import InputError
from gis.messages import Lang, environment_language, msg
from gis.onemap_analyses import Analyses, check_division

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import pandas as pd


def _language(lang: str | None) -> Lang:
    """``lang``, else the terminal's language, as the ``gis`` command decides."""
    return environment_language(lang)


def connect(url: str | None = None, key: str | None = None, *,
            lang: str | None = None) -> OneMap:
    """Open the One-Map.

    Without ``url``: the database of the settings (``GIS_*`` variables or ``.env``: the
    embedded cluster of ``gis db up``, or ``GIS_DATABASE_URL``). With a ``postgresql://``
    URL: that database. With an ``http(s)://`` base URL and an API ``key``: the service over
    HTTP, with what that key may read and do. ``lang`` (``zh``/``en``; default ``GIS_LANG``)
    is the language of results and errors.

    Examples:
        >>> import gis
        >>> om = gis.connect()
        >>> om.mode
        'database'
        >>> gis.connect("ftp://example.org")
        Traceback (most recent call last):
        gis.errors.InputError: cannot connect to 'ftp://example.org': give an API base URL ...
    """
    language = _language(lang)
    if url is not None and url.startswith(("http://", "https://")):
        from gis.onemap_remote import ApiBackend

        return OneMap(ApiBackend(url, key, language), language)
    if key is not None:
        raise InputError(msg("onemap.key_without_url"))
    if url is not None and not url.startswith(("postgresql://", "postgresql+psycopg://")):
        raise InputError(msg("onemap.bad_target", target=url))
    from gis.db.engine import make_engine
    from gis.onemap_local import LocalBackend
    from gis.settings import get_settings

    settings = get_settings()
    if url is not None:
        settings = settings.with_changes(database={"url": url})
    return OneMap(LocalBackend(make_engine(settings), settings), language)


def use_cjk_font() -> str:
    """Let matplotlib draw Chinese labels (星海镇, not empty boxes) with the CJK font the
    set-up script installs (WenQuanYi Micro Hei, the one the PDF reports embed); returns the
    font family. Call it once before plotting.

    Examples:
        >>> import gis
        >>> gis.use_cjk_font()
        'WenQuanYi Micro Hei'
    """
    from gis.reports.charts import use_cjk_font as register

    return register()


def _bbox(bbox: Any) -> tuple[float, float, float, float]:
    """(west, south, east, north) as four finite floats, else a clear error."""
    try:
        values = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InputError(msg("onemap.bbox", value=str(bbox)))
    return values  # type: ignore[return-value]


class OneMap(Analyses):
    """The One-Map: its layers and analyses. Made by ``gis.connect``.

    Examples:
        >>> import gis
        >>> with gis.connect() as om:
        ...     om.read("village_plans", division="640104").shape[0]
        3
    """

    def __init__(self, backend: Any, lang: Lang) -> None:
        self._backend = backend
        #: The language of results and errors (``zh`` or ``en``).
        self.lang = lang

    @property
    def mode(self) -> str:
        """``database`` (the library on a database) or ``api`` (a server over HTTP).

        Examples:
            >>> import gis
            >>> gis.connect().mode
            'database'
        """
        return self._backend.mode

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections or the HTTP client.

        Examples:
            >>> import gis
            >>> gis.connect().close()
        """
        self._backend.close()

    @property
    def samples_dir(self) -> Path | None:
        """The sample data folder of the settings (``GIS_SAMPLES_DIR``; its rasters feed
        ``monitor``), None over the API, where rasters are named on the server.

        Examples:
            >>> import gis
            >>> (gis.connect().samples_dir / "landcover_2020.tif").is_file()
            True
        """
        settings = getattr(self._backend, "settings", None)
        return settings.data.samples_dir if settings is not None else None

    def __repr__(self) -> str:
        where = getattr(self._backend, "url", None) or "database"
        return f"<OneMap {self.mode}: {where}>"

    # -- layers -----------------------------------------------------------------------------
    @property
    def layers(self) -> pd.DataFrame:
        """The layer catalogue: id, Chinese and English titles, group, sensitivity (who
        may read it over the API), the number of features and the field names.

        Examples:
            >>> import gis
            >>> layers = gis.connect().layers.set_index("id")
            >>> layers.loc["eco_redline", ["title_zh", "title_en"]].tolist()
            ['生态保护红线', 'Ecological protection red line']
            >>> int(layers.loc["projects", "features"])
            7
        """
        import pandas as pd

        return pd.DataFrame(self._backend.layers())

    def read(self, layer: str, bbox: tuple[float, float, float, float] | None = None,
             where: str | None = None, division: str | None = None, crs: Any = None,
             limit: int | None = None) -> gpd.GeoDataFrame:
        """A layer's features as a GeoDataFrame: ``id``, the catalogue's fields and
        ``area_m2``, ``area_mu``, ``area_ha`` (ellipsoidal, as stored), in EPSG:4490 unless
        ``crs`` asks for another.

        ``bbox`` is (west, south, east, north) in lon/lat; ``where`` a CQL2 text filter over
        the catalogue's fields (``zone = 'core'``), as the OGC API's ``filter``;
        ``division`` keeps the features intersecting the divisions whose code starts with it.

        Examples:
            >>> import gis
            >>> om = gis.connect()
            >>> core = om.read("eco_redline", where="zone = 'core'")
            >>> set(core["zone"])
            {'core'}
            >>> om.read("cultivated_land", division="640104", crs="EPSG:4544").crs.to_epsg()
            4544
        """
        from gis.results import with_areas

        if bbox is not None:
            bbox = _bbox(bbox)
        if division is not None:
            division = check_division(division)
        frame = self._backend.read(layer, bbox, where, division, limit)
        frame = with_areas(frame)
        frame.attrs["layer"] = layer
        return frame.to_crs(crs) if crs is not None else frame

    def explore(self, *layers: str | gpd.GeoDataFrame, division: str | None = None,
                bbox: tuple[float, float, float, float] | None = None,
                overlays: dict[str, gpd.GeoDataFrame] | None = None,
                m: folium.Map | None = None) -> folium.Map:
        """Layers on a Leaflet map in the portal's colours and legends, offline like the
        portal: layer ids (read with ``division``/``bbox``) or frames from ``read``;
        ``overlays`` adds other frames under a name of their own.

        Examples:
            >>> import gis
            >>> m = gis.connect().explore("eco_redline", "urban_boundary", division="640202")
            >>> "#" in m.get_root().render() and "unpkg" not in m.get_root().render()
            True
        """
        from gis.explore import explore_frames

        frames = []
        for item in layers:
            if isinstance(item, str):
                frames.append((item, self.read(item, bbox=bbox, division=division)))
            else:
                frames.append((item.attrs.get("layer"), item))
        for title, frame in (overlays or {}).items():
            frames.append((title, frame))
        return explore_frames(frames, self._assets(), self.lang, m)

    def _assets(self) -> Any:
        from gis.explore import local_assets, served_assets

        url = getattr(self._backend, "url", None)
        return served_assets(url) if url else local_assets(self._backend.settings)

    def _explorer(self) -> Any:
        from gis.explore import explore_frames

        assets, lang = self._assets(), self.lang
        return lambda frame, title, m: explore_frames([(title, frame)], assets, lang, m)
