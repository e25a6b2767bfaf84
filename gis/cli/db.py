"""``gis db up|down|status|reset|migrate|invalid``: the embedded PostGIS cluster (or the
external one named by ``GIS_DATABASE_URL``) and its schema."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from gis.cli.options import JsonOpt
from gis.cli.output import console, print_json
from gis.cli.resources import open_engine, settings
from gis.errors import GISError
from gis.messages import msg

db_app = typer.Typer(help="The embedded PostGIS cluster (or the external one).",
                     no_args_is_help=True)


@db_app.command("up")
def db_up(json_out: JsonOpt = False) -> None:
    """Start the embedded cluster (initializing it the first time) and migrate the schema."""
    from gis.db.cluster import cluster_from_settings
    from gis.db.migrate import current_revision, upgrade

    config = settings()
    if config.database.uses_embedded_cluster:
        status = cluster_from_settings(config).up()
        where = status.describe()
    else:
        where = "external database (GIS_DATABASE_URL)"
    with open_engine() as engine:
        upgrade(engine)
        result = {"database": where, "schema_revision": current_revision(engine)}
    if json_out:
        print_json(result)
    else:
        console.print(f"[green]PostGIS up[/]: {where}; schema at revision "
                      f"{result['schema_revision']}")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded cluster."""
    from gis.db.cluster import cluster_from_settings

    config = settings()
    if not config.database.uses_embedded_cluster:
        raise GISError(msg("command.db_down_external"))
    console.print(cluster_from_settings(config).down().describe())


@db_app.command("status")
def db_status(json_out: JsonOpt = False) -> None:
    """Report whether the database is reachable, with the PostGIS version."""
    from gis.db.cluster import cluster_from_settings
    from gis.db.engine import postgis_version

    config = settings()
    info: dict[str, Any] = {"embedded": config.database.uses_embedded_cluster}
    if config.database.uses_embedded_cluster:
        status = cluster_from_settings(config).status()
        info.update(initialized=status.initialized, running=status.running,
                    port=status.port, data_dir=str(status.data_dir), pid=status.pid)
        info["description"] = status.describe()
    if not config.database.uses_embedded_cluster or info.get("running"):
        with open_engine() as engine:
            info["postgis"] = postgis_version(engine)
    if json_out:
        print_json(info)
    else:
        console.print(info.get("description", "external database"))
        if "postgis" in info:
            console.print(f"PostGIS: {info['postgis']}")


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Delete the embedded cluster and its data, and start again empty."""
    from gis.db.cluster import cluster_from_settings
    from gis.db.migrate import upgrade

    config = settings()
    if not config.database.uses_embedded_cluster:
        raise GISError(msg("command.db_reset_external"))
    if not yes:
        typer.confirm(f"Delete every layer in {config.database.data_dir}?", abort=True)
    status = cluster_from_settings(config).reset()
    with open_engine() as engine:
        upgrade(engine)
    console.print(f"reset: {status.describe()}")


@db_app.command("migrate")
def db_migrate(revision: str = "head") -> None:
    """Apply schema migrations (Alembic) up to REVISION."""
    from gis.db.migrate import current_revision, upgrade

    with open_engine() as engine:
        upgrade(engine, revision)
        console.print(f"schema at revision {current_revision(engine)}")


@db_app.command("invalid")
def db_invalid(json_out: JsonOpt = False) -> None:
    """Values found not finite or out of range when the checks were added, and what was done
    with each (quota draws: `gis reserve ledger --invalid`)."""
    from gis.db.quarantine import list_invalid_values

    with open_engine() as engine:
        rows = list_invalid_values(engine)
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
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
