"""``gis load``: one source file into one layer table, all or nothing.

The pipeline: read (pyogrio) -> map and type the attributes -> validate/repair geometry ->
transform to EPSG:4490 -> COPY into a temporary staging table -> one ``INSERT .. ON CONFLICT``
upsert by natural key. Everything after reading happens inside a single transaction, so any
error leaves the table exactly as it was. Rows whose attributes and geometry are unchanged are
not touched (their ``updated_at`` stays), which makes re-loading the same file a no-op.
"""

from __future__ import annotations

import io
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
from gis.errors import DuplicateKey, InputError
from gis.layers.catalogue import Layer, get_layer
from gis.layers.fieldmap import map_attributes
from gis.layers.schema import STORAGE_SRID, layer_loads
from gis.layers.sources import read_source
from gis.layers.validation import validate_polygons
from gis.progress import NullProgress, Progress

_SQL_TYPES = {"text": "text", "int": "integer", "float": "double precision",
              "bool": "boolean", "date": "date"}
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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class PreparedLoad:
    """Validated rows ready for the database (no database touched yet)."""

    layer: Layer
    attributes: pd.DataFrame
    wkb_hex: np.ndarray
    source_crs: SourceCRS
    repaired: int
    repaired_rows: list[int]
    mapping: dict[str, str]
    ignored: list[str]


def prepare(
    path: Path | str, layer: Layer, options: LoadOptions, progress: Progress, extent
) -> tuple[PreparedLoad, object]:
    progress.stage(f"reading {Path(path).name}")
    source = read_source(path, layer.id, options.source_layer, options.encoding)
    frame = source.frame
    row_ids = np.arange(1, len(frame) + 1)  # 1-based feature numbers, as GIS desktops show
    progress.stage("mapping fields", len(layer.fields))
    attributes, mapping = map_attributes(
        layer, frame.drop(columns="geometry"), row_ids, options.field_map, options.constants
    )
    progress.advance(len(layer.fields))
    _refuse_duplicate_keys(layer, attributes, row_ids)
    progress.stage("validating geometry", len(frame))
    validated = validate_polygons(frame.geometry.to_numpy(), row_ids, options.strict)
    progress.advance(len(frame))
    progress.stage("transforming to EPSG:4490")
    source_crs = resolve_source_crs(source.crs, options.crs, options.from_gcj02)
    geoms = to_storage(validated.geoms, source_crs, row_ids, extent)
    # A transformation can fold a ring onto itself; re-check, repairing as before.
    still_invalid = ~shapely.is_valid(geoms)
    repaired, repaired_rows = validated.repaired, validated.repaired_rows
    if still_invalid.any():
        again = validate_polygons(geoms, row_ids, options.strict)
        geoms = again.geoms
        repaired += again.repaired
        repaired_rows = sorted(set(repaired_rows) | set(again.repaired_rows))
    wkb_hex = shapely.to_wkb(geoms, hex=True, include_srid=False)
    ignored = [c for c in frame.columns if c != "geometry" and c not in mapping.values()]
    prepared = PreparedLoad(layer, attributes, wkb_hex, source_crs, repaired, repaired_rows,
                            mapping, ignored)
    return prepared, source


def _refuse_duplicate_keys(layer: Layer, attributes: pd.DataFrame, row_ids: np.ndarray) -> None:
    dup = attributes.duplicated(subset=layer.natural_key, keep=False).to_numpy()
    if dup.any():
        keys = attributes.loc[dup, layer.natural_key].drop_duplicates().head(10)
        listed = [tuple(map(str, k)) for k in keys.itertuples(index=False)]
        raise DuplicateKey(
            f"natural key {layer.natural_key} repeats within the file for {listed} "
            f"(rows {row_ids[dup][:20].tolist()}); each feature must be unique",
            keys=listed, rows=row_ids[dup][:20].tolist(),
        )


def _copy_csv(cursor, table: sql.Identifier, columns: list[str], frame: pd.DataFrame,
              progress: Progress) -> None:
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cursor.copy(copy_sql) as copy:
        for start in range(0, len(frame), _COPY_CHUNK):
            buffer = io.StringIO()
            frame.iloc[start:start + _COPY_CHUNK].to_csv(
                buffer, header=False, index=False, na_rep="\\N"
            )
            copy.write(buffer.getvalue())
            progress.advance(min(_COPY_CHUNK, len(frame) - start))


def write(engine: Engine, prepared: PreparedLoad, options: LoadOptions, source_label: str,
          source_layer: str, encoding: str | None, progress: Progress) -> LoadSummary:
    """Stage and upsert in one transaction; raise and roll back on any error."""
    layer = prepared.layer
    fields = layer.field_names
    table = sql.Identifier(layer.table)
    stage = sql.Identifier(f"_stage_{layer.table}")
    cols = sql.SQL(", ").join(map(sql.Identifier, fields))
    frame = prepared.attributes.copy()
    frame["geom"] = prepared.wkb_hex
    with engine.begin() as sa_conn:
        conn = sa_conn.connection.driver_connection
        cur = conn.cursor()
        cur.execute(sql.SQL(
            "CREATE TEMP TABLE {} ({}, geom geometry) ON COMMIT DROP"
        ).format(stage, sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.type]))
            for f in layer.fields
        )))
        progress.stage(f"copying into {layer.table}", len(frame))
        _copy_csv(cur, stage, [*fields, "geom"], frame, progress)
        progress.stage("upserting by natural key")
        non_key = [f for f in fields if f not in layer.natural_key]
        set_list = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in [*non_key, "geom"]
        )
        target_row = sql.SQL(", ").join(
            sql.SQL("t.{}").format(sql.Identifier(c)) for c in [*non_key, "geom"]
        )
        new_row = sql.SQL(", ").join(
            sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in [*non_key, "geom"]
        )
        upsert = sql.SQL(
            "INSERT INTO {table} AS t ({cols}, geom) "
            "SELECT {cols}, ST_Multi(ST_SetSRID(geom, {srid})) FROM {stage} "
            "ON CONFLICT ON CONSTRAINT {constraint} DO UPDATE SET {set_list}, updated_at = now() "
            "WHERE ({target_row}) IS DISTINCT FROM ({new_row}) "
            "RETURNING (xmax = 0)"
        ).format(
            table=table, cols=cols, stage=stage, srid=sql.Literal(STORAGE_SRID),
            constraint=sql.Identifier(f"{layer.table}_natural_key"),
            set_list=set_list, target_row=target_row, new_row=new_row,
        )
        cur.execute(upsert)
        flags = [row[0] for row in cur.fetchall()]
        inserted = sum(flags)
        updated = len(flags) - inserted
        deleted = 0
        if options.replace:
            keys = sql.SQL(", ").join(map(sql.Identifier, layer.natural_key))
            cur.execute(sql.SQL(
                "DELETE FROM {table} WHERE ({keys}) NOT IN (SELECT {keys} FROM {stage})"
            ).format(table=table, keys=keys, stage=stage))
            deleted = cur.rowcount
        summary = LoadSummary(
            layer=layer.id, source=source_label, source_layer=source_layer,
            source_crs=prepared.source_crs.label, encoding=encoding, features=len(frame),
            inserted=inserted, updated=updated, unchanged=len(frame) - len(flags),
            deleted=deleted, repaired=prepared.repaired,
            repaired_rows=prepared.repaired_rows[:50], field_map=prepared.mapping,
            ignored_fields=prepared.ignored,
        )
        sa_conn.execute(layer_loads.insert().values(
            layer_id=layer.id, source=source_label, source_layer=source_layer,
            source_crs=summary.source_crs, encoding=encoding, features=summary.features,
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
    prepared, source = prepare(path, layer, options, progress, extent)
    try:
        return write(engine, prepared, options, str(Path(path).name), source.layer_name,
                     source.encoding, progress)
    except (psycopg.errors.DataError, psycopg.errors.IntegrityViolation) as exc:
        # Values that passed our checks but not the column types (e.g. an integer too large);
        # the transaction has been rolled back, so the table is unchanged.
        raise InputError(
            f"the database refused the data of {Path(path).name}: "
            f"{exc.diag.message_primary or exc}"
            + (f" ({exc.diag.context.splitlines()[0]})" if exc.diag.context else ""),
        ) from exc
    except sqlalchemy.exc.DBAPIError as exc:
        orig = exc.orig
        if isinstance(orig, psycopg.errors.DataError | psycopg.errors.IntegrityViolation):
            raise InputError(
                f"the database refused the data of {Path(path).name}: "
                f"{orig.diag.message_primary or orig}"
            ) from exc
        raise
