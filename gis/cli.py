"""The ``gis`` command line: readable tables by default, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from gis.errors import GISError, InputError

app = typer.Typer(help="One-Map (一张图) command line.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The embedded PostGIS cluster (or the external one).",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class BarProgress:
    """Adapts the library's progress protocol to a rich progress bar (stderr)."""

    def __init__(self, progress: RichProgress) -> None:
        self._progress = progress
        self._task: Any = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)

    def finish(self) -> None:
        self.stage("done", 1)
        self.advance(1)


def _bar() -> RichProgress:
    return RichProgress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err_console, transient=False,
    )


def _settings():
    from gis.settings import get_settings

    return get_settings()


def _engine():
    from gis.db.engine import make_engine

    return make_engine(_settings())


# -- db ---------------------------------------------------------------------------------------


@db_app.command("up")
def db_up(json_out: JsonOpt = False) -> None:
    """Start the embedded cluster (initializing it the first time) and migrate the schema."""
    from gis.db.cluster import cluster_from_settings
    from gis.db.migrate import current_revision, upgrade

    settings = _settings()
    if settings.uses_embedded_cluster:
        status = cluster_from_settings(settings).up()
        where = status.describe()
    else:
        where = "external database (GIS_DATABASE_URL)"
    engine = _engine()
    upgrade(engine)
    result = {"database": where, "schema_revision": current_revision(engine)}
    engine.dispose()
    _print_json(result) if json_out else console.print(
        f"[green]PostGIS up[/]: {where}; schema at revision {result['schema_revision']}"
    )


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded cluster."""
    from gis.db.cluster import cluster_from_settings

    settings = _settings()
    if not settings.uses_embedded_cluster:
        raise GISError("GIS_DATABASE_URL points at an external database: nothing to stop")
    console.print(cluster_from_settings(settings).down().describe())


@db_app.command("status")
def db_status(json_out: JsonOpt = False) -> None:
    """Report whether the database is reachable, with the PostGIS version."""
    from gis.db.cluster import cluster_from_settings
    from gis.db.engine import postgis_version

    settings = _settings()
    info: dict[str, Any] = {"embedded": settings.uses_embedded_cluster}
    if settings.uses_embedded_cluster:
        status = cluster_from_settings(settings).status()
        info.update(initialized=status.initialized, running=status.running,
                    port=status.port, data_dir=str(status.data_dir), pid=status.pid)
        info["description"] = status.describe()
    if not settings.uses_embedded_cluster or info.get("running"):
        engine = _engine()
        info["postgis"] = postgis_version(engine)
        engine.dispose()
    if json_out:
        _print_json(info)
    else:
        console.print(info.get("description", "external database"))
        if "postgis" in info:
            console.print(f"PostGIS: {info['postgis']}")


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Delete the embedded cluster and its data, and start again empty."""
    from gis.db.cluster import cluster_from_settings
    from gis.db.migrate import upgrade

    settings = _settings()
    if not settings.uses_embedded_cluster:
        raise GISError("refusing to reset an external database (GIS_DATABASE_URL is set)")
    if not yes:
        typer.confirm(f"Delete every layer in {settings.data_dir}?", abort=True)
    status = cluster_from_settings(settings).reset()
    engine = _engine()
    upgrade(engine)
    engine.dispose()
    console.print(f"reset: {status.describe()}")


@db_app.command("migrate")
def db_migrate(revision: str = "head") -> None:
    """Apply schema migrations (Alembic) up to REVISION."""
    from gis.db.migrate import current_revision, upgrade

    engine = _engine()
    upgrade(engine, revision)
    console.print(f"schema at revision {current_revision(engine)}")
    engine.dispose()


@db_app.command("invalid")
def db_invalid(json_out: JsonOpt = False) -> None:
    """Values found not finite or out of range when the checks were added, and what was done
    with each (quota draws: `gis reserve ledger --invalid`)."""
    from gis.db.quarantine import list_invalid_values

    engine = _engine()
    rows = list_invalid_values(engine)
    engine.dispose()
    if json_out:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        console.print("no invalid values were found")
        return
    table = Table(title="Invalid values 无效数值")
    for column in ("table", "row", "column", "original", "action"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.table_name, r.row_key, r.column_name, r.original, r.action)
    console.print(table)


# -- layers -----------------------------------------------------------------------------------


@app.command("layers")
def layers_cmd(json_out: JsonOpt = False) -> None:
    """List the layer catalogue with feature counts."""
    from gis.layers.catalogue import load_catalogue
    from gis.layers.stats import feature_counts

    engine = _engine()
    counts = feature_counts(engine)
    engine.dispose()
    rows = [
        {"id": layer.id, "title_zh": layer.zh, "title_en": layer.en, "table": layer.table,
         "group": layer.group, "sensitivity": layer.sensitivity,
         "natural_key": layer.natural_key, "features": counts.get(layer.id)}
        for layer in load_catalogue()
    ]
    if json_out:
        _print_json(rows)
        return
    table = Table(title="One-Map layers 图层目录")
    for col in ("id", "中文名", "title", "table", "features"):
        table.add_column(col, justify="right" if col == "features" else "left")
    for row in rows:
        table.add_row(row["id"], row["title_zh"], row["title_en"], row["table"],
                      "-" if row["features"] is None else f"{row['features']:,}")
    console.print(table)


@app.command("load")
def load_cmd(
    path: Annotated[Path, typer.Argument(
        help="GeoPackage, Shapefile (.shp/.zip), GeoJSON or FileGDB (.gdb)")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="Catalogue layer id.")],
    source_layer: Annotated[str | None, typer.Option(help="Layer inside the file.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (e.g. GBK).")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS if the file has none.")] = None,
    from_gcj02: Annotated[bool, typer.Option(help="Coordinates are GCJ-02 (AMap).")] = False,
    field_map: Annotated[str | None, typer.Option(
        help="SRC=field,... or a YAML/JSON file mapping source fields to layer fields.")] = None,
    set_values: Annotated[list[str] | None, typer.Option(
        "--set", help="Constant FIELD=VALUE for every feature (repeatable).")] = None,
    strict: Annotated[bool, typer.Option(
        help="Refuse invalid geometry instead of repairing it.")] = False,
    replace: Annotated[bool, typer.Option(help="Delete features absent from the file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Load a file into a layer: validated, in one transaction, upserted by natural key."""
    from gis.layers.fieldmap import parse_field_map
    from gis.layers.load import LoadOptions, load_file

    if not path.exists():
        raise InputError(f"{path} does not exist")
    constants = {}
    for item in set_values or []:
        if "=" not in item:
            raise GISError(f"--set {item!r} is not FIELD=VALUE")
        key, value = item.split("=", 1)
        constants[key.strip()] = value.strip()
    options = LoadOptions(source_layer=source_layer, encoding=encoding, crs=crs,
                          from_gcj02=from_gcj02, field_map=parse_field_map(field_map),
                          constants=constants, strict=strict, replace=replace)
    engine = _engine()
    with _bar() as bar:
        progress = BarProgress(bar)
        summary = load_file(engine, path, layer, options, progress, _settings().extent)
        progress.finish()
    engine.dispose()
    if json_out:
        _print_json(summary.as_dict())
        return
    table = Table(title=f"Loaded {summary.source} -> {summary.layer}", show_header=False)
    for key in ("source_layer", "source_crs", "encoding", "features", "inserted", "updated",
                "unchanged", "deleted", "repaired"):
        table.add_row(key, str(getattr(summary, key)))
    table.add_row("field map", ", ".join(f"{v}->{k}" for k, v in summary.field_map.items()))
    if summary.ignored_fields:
        table.add_row("ignored fields", ", ".join(summary.ignored_fields))
    console.print(table)


@app.command("export")
def export_cmd(
    layer: Annotated[str, typer.Argument(help="Catalogue layer id.")],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="gpkg | shp | geojson | xlsx")] = "gpkg",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export a layer to GeoPackage, Shapefile (UTF-8 + .cpg), GeoJSON (CRS84) or Excel."""
    from gis.layers.export import export_layer

    engine = _engine()
    path = export_layer(engine, layer, fmt, output)  # type: ignore[arg-type]
    engine.dispose()
    console.print(f"wrote {path}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
) -> None:
    """Serve the API and the portal (uvicorn)."""
    import uvicorn

    from api.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


def _register_subcommands() -> None:
    from gis.analysis.cli import check_app
    from gis.analysis.monitoring_cli import monitor_app
    from gis.analysis.planning_cli import control_lines_app, indicators_cmd, reserve_app
    from gis.analysis.reconcile_cli import reconcile_app
    from gis.analysis.terrain_cli import terrain_app
    from gis.auth_cli import users_app
    from gis.samples.cli import samples_app

    app.add_typer(samples_app, name="samples")
    app.add_typer(check_app, name="check")
    app.add_typer(reserve_app, name="reserve")
    app.add_typer(control_lines_app, name="control-lines")
    app.command("indicators")(indicators_cmd)
    app.add_typer(reconcile_app, name="reconcile")
    app.add_typer(monitor_app, name="monitor")
    app.add_typer(terrain_app, name="terrain")
    app.add_typer(users_app, name="users")


_register_subcommands()


def _fail(title: str, message: str) -> NoReturn:
    err_console.print(f"[bold red]error[/] ({escape(title)}): {escape(message)}",
                      soft_wrap=True)
    sys.exit(2)


def _database_error(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` is the database refusing or dropping the connection."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    lines = [line.strip() for line in str(exc.orig or exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def main() -> None:
    """Entry point. Usage errors (unknown command, missing argument, bad option value) are
    reported by click in standalone mode: the usage, one error line, exit 2. Library errors
    (GISError) and an unreachable database become one line and exit 2. Only a genuine bug
    keeps its traceback.

    Usage errors are left to click's own standalone handling rather than caught here by
    class: typer 0.29 raises its vendored click's exceptions, and catching ``click``'s turned
    every usage error into a traceback without any test noticing.
    """
    try:
        app()
    except GISError as exc:
        _fail(exc.title, exc.message)
    except Exception as exc:
        reason = _database_error(exc)
        if reason is None:
            raise
        _fail("Database unavailable",
              f"cannot reach the database ({reason}); start the embedded cluster with "
              "`gis db up` or check GIS_DATABASE_URL")
