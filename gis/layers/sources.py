"""Reading source files (GeoPackage, Shapefile, GeoJSON, Esri FileGDB) through pyogrio.

The awkward part is text encoding. Chinese Shapefiles are often GBK with no ``.cpg``, and GDAL
then assumes ISO-8859-1, which turns every Chinese name into mojibake without any error. So
when a Shapefile declares no encoding and the user gave none, the bytes are read losslessly as
Latin-1 and decoded here: UTF-8 if every value is valid UTF-8, else GB18030 (a superset of GBK),
else a clear error asking for ``--encoding``.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import EmptySource, EncodingError, InputError, UnsupportedFormat

DRIVERS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".zip": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gdb": "OpenFileGDB",
}
_DETECT = ("utf-8", "gb18030")
_HAS_ARROW = importlib.util.find_spec("pyarrow") is not None


@dataclass
class SourceData:
    """What was read: the features, where from, and how it was decoded."""

    frame: gpd.GeoDataFrame
    path: Path
    driver: str
    layer_name: str
    crs: str | None
    encoding: str | None


def driver_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in DRIVERS:
        raise UnsupportedFormat(
            f"{path.name}: unsupported format {suffix or '(no extension)'}; "
            f"use GeoPackage (.gpkg), Shapefile (.shp or zipped), GeoJSON or FileGDB (.gdb)"
        )
    return DRIVERS[suffix]


def choose_layer(path: Path, wanted: str | None, hint: str) -> str:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{path.name}: cannot be opened as a GIS file ({exc})") from exc
    if not layers:
        raise EmptySource(f"{path.name} contains no layers")
    if wanted is not None:
        if wanted not in layers:
            raise InputError(f"{path.name} has no layer {wanted!r}; it has {layers}")
        return wanted
    if len(layers) == 1:
        return layers[0]
    if hint in layers:
        return hint
    raise InputError(
        f"{path.name} has several layers {layers}; choose one with --source-layer"
    )


def _declares_encoding(path: Path, info: dict) -> bool:
    if path.suffix.lower() == ".shp":
        return any(path.with_suffix(s).exists() for s in (".cpg", ".CPG"))
    return info.get("encoding") not in (None, "ISO-8859-1")


def _declared_encoding(path: Path) -> str | None:
    """What a Shapefile's .cpg says (GDAL reports the encoding it recoded *to*, UTF-8)."""
    if path.suffix.lower() != ".shp":
        return None
    for suffix in (".cpg", ".CPG"):
        cpg = path.with_suffix(suffix)
        if cpg.exists():
            return cpg.read_text(encoding="ascii", errors="replace").strip() or None
    return None


def _redecode(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    """Decode Latin-1-read strings as UTF-8 or GB18030, whichever fits every value."""
    text_columns = [
        c for c in frame.columns
        if c != "geometry"
        and (pd.api.types.is_string_dtype(frame[c]) or pd.api.types.is_object_dtype(frame[c]))
    ]
    raw = {c: frame[c].map(lambda v: v.encode("latin-1") if isinstance(v, str) else v)
           for c in text_columns}
    for encoding in _DETECT:
        try:
            decoded = {
                c: values.map(lambda v, e=encoding: v.decode(e) if isinstance(v, bytes) else v)
                for c, values in raw.items()
            }
        except UnicodeDecodeError:
            continue
        out = frame.copy()
        for c, values in decoded.items():
            out[c] = values.astype(object)
        return out, encoding
    raise EncodingError(
        "the Shapefile has no .cpg and its text is neither UTF-8 nor GBK/GB18030; give the "
        "encoding with --encoding (e.g. --encoding big5)"
    )


def read_source(
    path: Path | str,
    layer_hint: str = "",
    source_layer: str | None = None,
    encoding: str | None = None,
) -> SourceData:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    driver = driver_for(path)
    layer_name = choose_layer(path, source_layer, layer_hint)
    info = pyogrio.read_info(path, layer=layer_name)
    if info["features"] == 0:
        raise EmptySource(f"{path.name} (layer {layer_name}) has no features")
    detect = (
        encoding is None and driver == "ESRI Shapefile" and not _declares_encoding(path, info)
    )
    read_encoding = "ISO-8859-1" if detect else encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # Arrow is ~40% faster; the Latin-1 round trip for encoding detection and explicit
            # encodings need the classic reader, which decodes in Python.
            frame = pyogrio.read_dataframe(
                path, layer=layer_name, encoding=read_encoding,
                use_arrow=read_encoding is None and _HAS_ARROW,
            )
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{path.name}: text is not valid {encoding or 'UTF-8'} ({exc.reason} at byte "
            f"{exc.start}); give the right one with --encoding (GBK is common for Chinese "
            "Shapefiles)"
        ) from exc
    except LookupError as exc:
        raise EncodingError(f"unknown encoding {encoding!r}") from exc
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc})") from exc
    used = encoding or _declared_encoding(path) or info.get("encoding") or "UTF-8"
    if detect:
        frame, used = _redecode(frame)
    if len(frame) == 0:
        raise EmptySource(f"{path.name} (layer {layer_name}) has no features")
    frame = frame.reset_index(drop=True)
    crs = frame.crs.to_string() if frame.crs is not None else None
    if "geometry" not in frame:
        raise InputError(f"{path.name} (layer {layer_name}) has no geometry column")
    frame = pd.DataFrame(frame) if not isinstance(frame, gpd.GeoDataFrame) else frame
    return SourceData(frame, path, driver, layer_name, crs, used)
