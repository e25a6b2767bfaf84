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
import shapely

from gis.errors import EmptySource, EncodingError, InputError, InvalidGeometry, UnsupportedFormat
from gis.messages import Message, msg

DRIVERS = {
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".zip": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gdb": "OpenFileGDB",
}
_DETECT = ("utf-8", "gb18030")
#: Python's reasons for a UnicodeDecodeError that the catalogue names in every language.
_DECODE_REASONS = {"invalid start byte", "invalid continuation byte", "unexpected end of data",
                   "illegal multibyte sequence", "incomplete multibyte sequence"}
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
        raise UnsupportedFormat(msg("source.unsupported_format", name=path.name,
                                    suffix=suffix or msg("source.no_extension")))
    return DRIVERS[suffix]


def choose_layer(path: Path, wanted: str | None, hint: str) -> str:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        # GDAL's words name the file by its full path (a server temp folder for an upload)
        raise InputError(msg("source.cannot_open", name=path.name,
                             reason=str(exc).replace(str(path), path.name))) from exc
    if not layers:
        raise EmptySource(msg("source.no_layers", name=path.name))
    if wanted is not None:
        if wanted not in layers:
            raise InputError(msg("source.no_such_layer", name=path.name, wanted=wanted,
                                 layers=layers))
        return wanted
    if len(layers) == 1:
        return layers[0]
    if hint in layers:
        return hint
    raise InputError(msg("source.several_layers", name=path.name, layers=layers))


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
    raise EncodingError(msg("source.undetectable_encoding"))


def _decode_reason(exc: UnicodeDecodeError) -> Message | str:
    """Python's reason for a decoding error, in the reader's language where we know it."""
    if exc.reason in _DECODE_REASONS:
        return msg("source.decode." + exc.reason.replace(" ", "_"))
    return exc.reason


def read_source(
    path: Path | str,
    layer_hint: str = "",
    source_layer: str | None = None,
    encoding: str | None = None,
) -> SourceData:
    path = Path(path)
    if not path.exists():
        raise InputError(msg("source.missing", path=path))
    driver = driver_for(path)
    layer_name = choose_layer(path, source_layer, layer_hint)
    info = pyogrio.read_info(path, layer=layer_name)
    if info["features"] == 0:
        raise EmptySource(msg("source.no_features", name=path.name, layer=layer_name))
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
        raise EncodingError(msg("source.bad_encoding", name=path.name,
                                encoding=encoding or "UTF-8", reason=_decode_reason(exc),
                                start=exc.start)) from exc
    except LookupError as exc:
        raise EncodingError(msg("source.unknown_encoding", encoding=encoding)) from exc
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(msg("source.cannot_read", name=path.name, reason=str(exc))) from exc
    except shapely.errors.ShapelyError as exc:  # a ring that does not close, too few points
        raise InvalidGeometry(msg("security.geometry_unreadable", reason=str(exc))) from exc
    used = encoding or _declared_encoding(path) or info.get("encoding") or "UTF-8"
    if detect:
        frame, used = _redecode(frame)
    if len(frame) == 0:
        raise EmptySource(msg("source.no_features", name=path.name, layer=layer_name))
    frame = frame.reset_index(drop=True)
    crs = frame.crs.to_string() if frame.crs is not None else None
    if "geometry" not in frame:
        raise InputError(msg("source.no_geometry", name=path.name, layer=layer_name))
    frame = pd.DataFrame(frame) if not isinstance(frame, gpd.GeoDataFrame) else frame
    return SourceData(frame, path, driver, layer_name, crs, used)
