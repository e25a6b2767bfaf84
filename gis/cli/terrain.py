"""``gis terrain stats FILE``: slope and elevation under a footprint, from a DEM (no
database needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gis.cli.options import JsonOpt
from gis.cli.output import console, print_json
from gis.cli.resources import settings
from gis.errors import ConfigurationError, InputError
from gis.messages import msg

terrain_app = typer.Typer(help="Terrain from a DEM: slope (Horn), aspect, elevation.",
                          no_args_is_help=True)


@terrain_app.command("stats")
def stats_cmd(
    footprint: Annotated[Path, typer.Argument(help="Footprint file: GeoJSON or WKT.")],
    dem: Annotated[Path | None, typer.Option(help="DEM GeoTIFF (default: GIS_DEM_PATH).")
                   ] = None,
    crs: Annotated[str, typer.Option(help="CRS of the footprint.")] = "CRS84",
    profile: Annotated[str, typer.Option(help="Rule profile (slope threshold).")] = "ningxia",
    line_width: Annotated[float | None, typer.Option(help="Width (m) if the footprint is a "
                                                     "line.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Mean and max slope, the share above the profile's steep-slope threshold, elevation."""
    from gis.analysis.terrain import footprint_terrain

    dem = dem or settings().data.dem_path
    if dem is None:
        raise ConfigurationError(msg("command.no_dem"))
    if not footprint.is_file():
        raise InputError(msg("command.no_footprint_file", path=str(footprint)))
    stats = footprint_terrain(dem, footprint.read_text(encoding="utf-8"), crs, profile,
                              line_width)
    if json_out:
        print_json(stats.model_dump(mode="json"))
        return
    table = Table(title=f"Terrain 地形 ({Path(stats.dem).name}, {stats.dem_crs})",
                  show_header=False)
    table.add_row("cells 像元", f"{stats.pixels:,} ({stats.sampling}; cell "
                  f"{stats.cell_size_m[0]:.1f} x {stats.cell_size_m[1]:.1f} m)")
    if stats.pixels_without_data:
        table.add_row("no data 无数据", f"{stats.pixels_without_data:,}")
    table.add_row("slope mean 平均坡度", f"{stats.slope_mean_deg:.2f}°")
    table.add_row("slope max 最大坡度", f"{stats.slope_max_deg:.2f}°")
    table.add_row(f"share > {stats.steep_threshold_deg:g}° 陡坡占比",
                  f"{stats.steep_share:.2%} ({stats.steep_area_mu:,.2f} 亩)")
    table.add_row("elevation 高程", f"{stats.elevation_min_m:,.0f} - {stats.elevation_max_m:,.0f}"
                  f" m (mean {stats.elevation_mean_m:,.0f})")
    if stats.aspect_mean_deg is not None:
        table.add_row("aspect mean 平均坡向", f"{stats.aspect_mean_deg:.0f}°")
    basis = (stats.threshold_citation.label() if stats.threshold_citation
             else "technical parameter, no citation")
    table.add_row("threshold basis 阈值依据", basis)
    console.print(table)
