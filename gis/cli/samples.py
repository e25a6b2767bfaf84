"""``gis samples load|build|scale``: the sample one-map in ``data/samples`` (loading and
regenerating it) and large synthetic data sets for benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis.cli.options import JsonOpt, output_option
from gis.cli.output import console, print_json, progress_bar
from gis.cli.resources import open_engine, settings

samples_app = typer.Typer(help="Sample data (data/samples) and synthetic scale data.",
                          no_args_is_help=True)


@samples_app.command("load")
def samples_load(json_out: JsonOpt = False) -> None:
    """Load data/samples (if present) into every layer it has; idempotent."""
    from gis.identity import Actor
    from gis.samples import load_sample_ledger, load_sample_monitoring, load_samples

    with open_engine() as engine, progress_bar() as progress:
        summaries = load_samples(engine, settings(), progress)
        draws = load_sample_ledger(engine, settings(), Actor.cli())
        monitoring_run = load_sample_monitoring(engine, settings(), Actor.cli(), progress)
    if json_out:
        print_json([s.as_dict() for s in summaries])
        return
    if not summaries:
        console.print("no sample data found in data/samples: nothing loaded")
    for s in summaries:
        console.print(f"{s.layer}: {s.features} features ({s.inserted} new, {s.updated} "
                      f"updated, {s.unchanged} unchanged)")
    if draws:
        console.print(f"quota ledger: {draws} historical draws imported")
    if monitoring_run is not None:
        console.print(f"monitoring: land cover 2020 -> 2023 compared (run {monitoring_run})")


@samples_app.command("build")
def samples_build(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Directory to write into (default: the samples directory, "
        "GIS_SAMPLES_DIR / data/samples).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 20260101,
    json_out: JsonOpt = False,
) -> None:
    """Regenerate data/samples from boundaries.geojson (deterministic per seed).

    Writes the GeoPackage, the rasters, planted.yaml and README.md.
    """
    from gis.samples.generate import BOUNDARIES, build_samples

    config = settings()
    target = out or config.data.samples_dir
    written = build_samples(target, seed=seed, boundaries=config.data.samples_dir / BOUNDARIES)
    if json_out:
        print_json([{"path": str(p), "bytes": p.stat().st_size} for p in written])
        return
    for path in written:
        console.print(f"wrote {path} ({path.stat().st_size / 1024:,.0f} KiB)")
    total = sum(p.stat().st_size for p in target.iterdir() if p.is_file())
    console.print(f"{target}: {total / 1024 / 1024:.1f} MiB in all")


@samples_app.command("scale")
def samples_scale(
    parcels: Annotated[int, typer.Option(help="Survey patches to generate.", min=1)],
    output: Annotated[Path, output_option("GeoPackage to write.")] = Path(
        "benchmarks/out/scale.gpkg"),
    forest: Annotated[int | None, typer.Option(help="Forest parcels (default parcels/5).")] = None,
    grass: Annotated[int | None, typer.Option(help="Grassland parcels (default parcels/5).")]
    = None,
    control_lines: Annotated[bool, typer.Option(
        help="Also cultivated land, basic farmland, red line and UDB layers.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20261123,
    json_out: JsonOpt = False,
) -> None:
    """Write a large synthetic one-map (same schema) for benchmarks; never committed."""
    import time

    from gis.samples.scale import write_scale_dataset

    start = time.perf_counter()
    with progress_bar() as progress:
        summary = write_scale_dataset(output, parcels, forest, grass, seed, progress,
                                      control_lines=control_lines)
        progress.finish()
    seconds = round(time.perf_counter() - start, 1)
    if json_out:
        print_json({"path": str(summary.path), "layers": summary.layers, "seconds": seconds})
    else:
        counts = ", ".join(f"{layer} {n:,}" for layer, n in summary.layers.items())
        console.print(f"wrote {summary.path} ({counts}) in {seconds} s")
