"""``gis samples ...``: load, build and scale the sample one-map."""

from __future__ import annotations

from typing import Annotated

import typer

samples_app = typer.Typer(help="Sample data (data/samples) and synthetic scale data.",
                          no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


@samples_app.command("load")
def samples_load(json_out: JsonOpt = False) -> None:
    """Load data/samples (if present) into every layer it has; idempotent."""
    from gis.cli import BarProgress, _bar, _engine, _print_json, _settings, console
    from gis.samples import load_samples

    engine = _engine()
    with _bar() as bar:
        summaries = load_samples(engine, _settings(), BarProgress(bar))
    engine.dispose()
    if json_out:
        _print_json([s.as_dict() for s in summaries])
        return
    if not summaries:
        console.print("no sample data found in data/samples: nothing loaded")
    for s in summaries:
        console.print(f"{s.layer}: {s.features} features ({s.inserted} new, {s.updated} "
                      f"updated, {s.unchanged} unchanged)")
