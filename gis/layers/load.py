"""``gis load``: one source file into one layer table, all or nothing.

The pipeline: read (pyogrio) -> map and type the attributes -> validate/repair geometry ->
transform to EPSG:4490 -> COPY into a temporary staging table -> one ``INSERT .. ON CONFLICT``
upsert by natural key. Everything after reading happens inside a single transaction, so any
error leaves the table exactly as it was. Rows whose attributes and geometry are unchanged are
not touched (their ``updated_at`` stays), which makes re-loading the same file a no-op.

A control line (a ``versioned`` layer) is not upserted: the file becomes the layer's next
version, every earlier version kept, unless it equals the latest (then nothing changes);
``LoadOptions.version`` says what the version is (basis, document, approving body, effective
date; :mod:`gis.layers.versions`). Survey patches' official areas are checked to add up
(:mod:`gis.layers.official_areas`) before anything is written.
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy.exc
from psycopg import sql
from sqlalchemy import Engine

from gis.crs import SourceCRS, resolve_source_crs, to_storage
from gis.db.metadata import STORAGE_SRID
from gis.db.records import layer_loads
from gis.errors import DuplicateKey, InputError
from gis.identity import Actor
from gis.layers.catalogue import Layer, get_layer
from gis.layers.fieldmap import map_attributes
from gis.layers.official_areas import check_official_areas
from gis.layers.sources import read_source
from gis.layers.validation import validate_polygons
from gis.layers.versions import VersionSpec
from gis.layers.versions_load import record_version
from gis.messages import msg
from gis.progress import NullProgress, Progress
from gis.units import ellipsoidal_areas

_SQL_TYPES = {"text": "text", "int": "int4", "float": "float8", "bool": "bool", "date": "date"}
_COPY_CHUNK = 20_000


@dataclass
class LoadOptions:
    source_layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    from_gcj02: bool = False
    field_map: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    replace: bool = False
    #: For a control line (a versioned layer): what the new version is (its basis, document,
    #: approving body, effective date); None: basis not recorded, in force from today.
    version: VersionSpec | None = None
    #: Who loads (recorded with a new control-line version); None: this process's user.
    actor: Actor | None = None


@dataclass
class LoadSummary:
    layer: str
    source: str
    source_layer: str
    source_crs: str
    encoding: str | None
    features: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    repaired: int
    repaired_rows: list[int]
    field_map: dict[str, str]
    ignored_fields: list[str]
    #: The version the layer's rows now are (versioned layers only): a new one, or the
    #: latest when the file equals it.
    version: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class PreparedLoad:
    """Validated rows ready for the database (no database touched yet)."""

    layer: Layer
    attributes: pd.DataFrame
    wkb: list[bytes]
    areas: np.ndarray
    source_crs: SourceCRS
    repaired: int
    repaired_rows: list[int]
    mapping: dict[str, str]
    ignored: list[str]


def prepare(
    path: Path | str, layer: Layer, options: LoadOptions, progress: Progress, extent
) -> tuple[PreparedLoad, object]:
    progress.stage(msg("load.stage.reading", name=Path(path).name))
    source = read_source(path, layer.id, options.source_layer, options.encoding)
    frame = source.frame
    row_ids = np.arange(1, len(frame) + 1)  # 1-based feature numbers, as GIS desktops show
    progress.stage(msg("load.stage.mapping"), len(layer.fields))
    attributes, mapping = map_attributes(
        layer, frame.drop(columns="geometry"), row_ids, options.field_map, options.constants
    )
    progress.advance(len(layer.fields))
    _refuse_duplicate_keys(layer, attributes, row_ids)
    check_official_areas(layer, attributes, row_ids)
    progress.stage(msg("load.stage.validating"), len(frame))
    validated = validate_polygons(frame.geometry.to_numpy(), row_ids, options.strict)
    progress.advance(len(frame))
    progress.stage(msg("load.stage.transforming"))
    source_crs = resolve_source_crs(source.crs, options.crs, options.from_gcj02)
    geoms = to_storage(validated.geoms, source_crs, row_ids, extent)
    # A transformation can fold a ring onto itself; re-check, repairing as before.
    repaired, repaired_rows = validated.repaired, validated.repaired_rows
    transformed = geoms is not validated.geoms
    if transformed and not shapely.is_valid(geoms).all():
        again = validate_polygons(geoms, row_ids, options.strict)
        geoms = again.geoms
        repaired += again.repaired
        repaired_rows = sorted(set(repaired_rows) | set(again.repaired_rows))
    progress.stage(msg("load.stage.areas"))
    areas = ellipsoidal_areas(geoms)
    wkb = ewkb_multipolygons(geoms, STORAGE_SRID)
    ignored = [c for c in frame.columns if c != "geometry" and c not in mapping.values()]
    prepared = PreparedLoad(layer, attributes, wkb, areas, source_crs, repaired, repaired_rows,
                            mapping, ignored)
    return prepared, source


_EWKB_SRID_FLAG = 0x20000000
_WKB_MULTIPOLYGON = 6


def ewkb_multipolygons(geoms: np.ndarray, srid: int) -> list[bytes]:
    """Little-endian EWKB MultiPolygons with ``srid``, ready for a binary COPY.

    PostGIS reads EWKB directly in binary COPY, so rows can go straight into the target
    table. Building the header here is ~5x cheaper than ``shapely.set_srid`` + ``to_wkb``
    and avoids a ``ST_Multi`` pass in SQL: a Polygon becomes a one-member MultiPolygon by
    prefixing its WKB with a MultiPolygon header.
    """
    header = struct.pack("<BII", 1, _WKB_MULTIPOLYGON | _EWKB_SRID_FLAG, srid)
    single = header + struct.pack("<I", 1)
    wkb = shapely.to_wkb(geoms, byte_order=1, include_srid=False)
    is_poly = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    return [single + w if p else header + w[5:]
            for w, p in zip(wkb.tolist(), is_poly.tolist(), strict=True)]


def _refuse_duplicate_keys(layer: Layer, attributes: pd.DataFrame, row_ids: np.ndarray) -> None:
    dup = attributes.duplicated(subset=layer.natural_key, keep=False).to_numpy()
    if dup.any():
        keys = attributes.loc[dup, layer.natural_key].drop_duplicates().head(10)
        listed = [tuple(map(str, k)) for k in keys.itertuples(index=False)]
        rows = row_ids[dup][:20].tolist()
        raise DuplicateKey(
            msg("load.duplicate_key", natural_key=layer.natural_key, keys=listed, rows=rows),
            keys=listed, rows=rows,
        )


def _python_values(series: pd.Series) -> list:
    """Column values as Python objects with None for missing, as binary COPY wants them."""
    return series.astype(object).where(series.notna(), None).tolist()


def _copy_binary(cursor, table: sql.Identifier, layer: Layer, prepared: PreparedLoad,
                 progress: Progress) -> None:
    columns = [*layer.field_names, "geom", "area_m2"]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    values = [_python_values(prepared.attributes[f.name]) for f in layer.fields]
    values += [prepared.wkb, prepared.areas.tolist()]
    types = [_SQL_TYPES[f.type] for f in layer.fields] + ["bytea", "float8"]
    rows = list(zip(*values, strict=True))
    with cursor.copy(copy_sql) as copy:
        copy.set_types(types)
        for start in range(0, len(rows), _COPY_CHUNK):
            for row in rows[start:start + _COPY_CHUNK]:
                copy.write_row(row)
            progress.advance(min(_COPY_CHUNK, len(rows) - start))


def _stage(cursor, stage: sql.Identifier, layer: Layer, prepared: PreparedLoad,
           progress: Progress) -> None:
    """The file's rows into a temporary table (dropped at commit) for the upsert or the
    version comparison."""
    cursor.execute(sql.SQL(
        "CREATE TEMP TABLE {} ({}, geom geometry, area_m2 float8) ON COMMIT DROP"
    ).format(stage, sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.type]))
        for f in layer.fields
    )))
    progress.stage(msg("load.stage.staging"), len(prepared.attributes))
    _copy_binary(cursor, stage, layer, prepared, progress)


def _is_empty(cursor, table: sql.Identifier) -> bool:
    cursor.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(table))
    return cursor.fetchone()[0]


def _referenced_by_foreign_keys(cursor, table_name: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid = to_regclass(%s))", (table_name,),
    )
    return cursor.fetchone()[0]


def _upsert_sql(layer: Layer, table: sql.Identifier, stage: sql.Identifier) -> sql.Composed:
    fields = layer.field_names
    cols = sql.SQL(", ").join(map(sql.Identifier, fields))
    insert = sql.SQL(
        "INSERT INTO {table} AS t ({cols}, geom, area_m2) "
        "SELECT {cols}, geom, area_m2 FROM {stage} "
    ).format(table=table, cols=cols, stage=stage)
    changing = [f for f in fields if f not in layer.natural_key] + ["geom"]
    set_list = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in [*changing, "area_m2"]
    )
    old = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in changing)
    new = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in changing)
    return insert + sql.SQL(
        "ON CONFLICT ON CONSTRAINT {constraint} DO UPDATE SET {set_list}, updated_at = now() "
        "WHERE ({old}) IS DISTINCT FROM ({new}) RETURNING (xmax = 0)"
    ).format(constraint=sql.Identifier(f"{layer.table}_natural_key"), set_list=set_list,
             old=old, new=new)


def write(engine: Engine, prepared: PreparedLoad, options: LoadOptions, source_label: str,
          source_layer: str, encoding: str | None, progress: Progress) -> LoadSummary:
    """Copy (empty table) or stage and upsert, in one transaction; any error rolls back.

    Into an empty table rows are copied directly and the GiST index is dropped and rebuilt
    after (inside the same transaction): a sorted bulk build is several times faster than
    200,000 incremental insertions, and the rebuild is as atomic as the rest. The table lock
    keeps two concurrent loads of one layer from interleaving.
    """
    layer = prepared.layer
    table = sql.Identifier(layer.table)
    stage = sql.Identifier(f"_stage_{layer.table}")
    index = sql.Identifier(f"{layer.table}_geom_gist")
    features = len(prepared.attributes)
    version = None
    with engine.begin() as sa_conn:
        cur = sa_conn.connection.driver_connection.cursor()
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(table))
        bulk = not layer.versioned and _is_empty(cur, table)
        if layer.versioned:
            # A control line: the file becomes the next version (earlier ones stay), or
            # nothing happens when it equals the latest (gis.layers.versions_load).
            _stage(cur, stage, layer, prepared, progress)
            progress.stage(msg("load.stage.upserting"))
            counts = record_version(cur, layer, stage, options.version, source_label,
                                    features, options.actor)
            version = counts.version
            flags = [True] * counts.added + [False] * counts.changed
        elif bulk:
            # Straight into the table, then a sorted bulk build of the spatial index.
            progress.stage(msg("load.stage.copying", table=layer.table), features)
            cur.execute(sql.SQL("DROP INDEX {}").format(index))
            # Truncating the (empty) table gives it a new file in this transaction, which
            # lets PostgreSQL skip WAL for the copy when wal_level is minimal.
            if not _referenced_by_foreign_keys(cur, layer.table):
                cur.execute(sql.SQL("TRUNCATE {}").format(table))
            _copy_binary(cur, table, layer, prepared, progress)
            progress.stage(msg("load.stage.index"))
            cur.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(index, table))
            flags = [True] * features
        else:
            _stage(cur, stage, layer, prepared, progress)
            progress.stage(msg("load.stage.upserting"))
            cur.execute(_upsert_sql(layer, table, stage))
            flags = [row[0] for row in cur.fetchall()]
        inserted = sum(flags)
        updated = len(flags) - inserted
        deleted = counts.removed if layer.versioned else 0
        if options.replace and not bulk and not layer.versioned:
            keys = sql.SQL(", ").join(map(sql.Identifier, layer.natural_key))
            cur.execute(sql.SQL(
                "DELETE FROM {table} WHERE ({keys}) NOT IN (SELECT {keys} FROM {stage})"
            ).format(table=table, keys=keys, stage=stage))
            deleted = cur.rowcount
        summary = LoadSummary(
            layer=layer.id, source=source_label, source_layer=source_layer,
            source_crs=prepared.source_crs.label, encoding=encoding, features=features,
            inserted=inserted, updated=updated, unchanged=features - len(flags),
            deleted=deleted, repaired=prepared.repaired,
            repaired_rows=prepared.repaired_rows[:50], field_map=prepared.mapping,
            ignored_fields=prepared.ignored, version=version,
        )
        sa_conn.execute(layer_loads.insert().values(
            layer_id=layer.id, source=source_label, source_layer=source_layer,
            source_crs=summary.source_crs, encoding=encoding, features=features,
            inserted=inserted, updated=updated, unchanged=summary.unchanged, deleted=deleted,
            repaired=prepared.repaired,
        ))
    return summary


def load_file(
    engine: Engine,
    path: Path | str,
    layer_id: str,
    options: LoadOptions | None = None,
    progress: Progress | None = None,
    extent: tuple[float, float, float, float] = (73.0, 3.0, 136.0, 54.0),
) -> LoadSummary:
    """Load ``path`` into layer ``layer_id``; see the module docstring for the guarantees."""
    options = options or LoadOptions()
    progress = progress or NullProgress()
    layer = get_layer(layer_id)
    if layer.versioned:  # a version's basis is checked before the file is even read
        (options.version or VersionSpec()).checked(layer)
    prepared, source = prepare(path, layer, options, progress, extent)
    try:
        return write(engine, prepared, options, str(Path(path).name), source.layer_name,
                     source.encoding, progress)
    except (psycopg.DataError, psycopg.IntegrityError) as exc:
        # Values that passed our checks but not the column types (e.g. an integer too large);
        # the transaction has been rolled back, so the table is unchanged.
        reason = str(exc.diag.message_primary or exc)
        raise InputError(
            msg("load.refused_at", name=Path(path).name, reason=reason,
                context=exc.diag.context.splitlines()[0]) if exc.diag.context
            else msg("load.refused", name=Path(path).name, reason=reason),
        ) from exc
    except sqlalchemy.exc.DBAPIError as exc:
        orig = exc.orig
        if isinstance(orig, psycopg.DataError | psycopg.IntegrityError):
            raise InputError(msg("load.refused", name=Path(path).name,
                                 reason=str(orig.diag.message_primary or orig))) from exc
        raise
