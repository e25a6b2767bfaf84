"""The root ``gis`` app: every command group registered in the order ``gis --help`` lists
them (typer lists plain commands first, then groups, each in registration order)."""

from __future__ import annotations

import typer

from gis.cli.check import check_app
from gis.cli.db import db_app
from gis.cli.layers import export_cmd, layers_cmd, load_cmd
from gis.cli.lines import land_classes_cmd, lines_app
from gis.cli.monitor import monitor_app
from gis.cli.planning import control_lines_app, indicators_cmd, reserve_app
from gis.cli.reconcile import reconcile_app
from gis.cli.samples import samples_app
from gis.cli.serve import serve_cmd
from gis.cli.terrain import terrain_app
from gis.cli.users import users_app

app = typer.Typer(help="One-Map (一张图) command line.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")
app.command("layers")(layers_cmd)
app.command("load")(load_cmd)
app.command("export")(export_cmd)
app.command("serve")(serve_cmd)
app.add_typer(samples_app, name="samples")
app.add_typer(check_app, name="check")
app.add_typer(reserve_app, name="reserve")
app.add_typer(control_lines_app, name="control-lines")
app.command("indicators")(indicators_cmd)
app.add_typer(lines_app, name="lines")
app.command("land-classes")(land_classes_cmd)
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(monitor_app, name="monitor")
app.add_typer(terrain_app, name="terrain")
app.add_typer(users_app, name="users")
