"""`gis samples scale`: partitions without gaps or overlaps, forest/grass overlapping, loadable."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import shapely
from typer.testing import CliRunner

from gis.cli import app
from gis.layers.load import LoadOptions, load_file
from gis.units import ellipsoidal_areas


def test_scale_dataset(tmp_path, clean_db) -> None:
    out = tmp_path / "scale.gpkg"
    result = CliRunner().invoke(app, ["samples", "scale", "--parcels", "5000", "-o", str(out),
                                      "--control-lines", "--json"])
    assert result.exit_code == 0, result.output
    layers = json.loads(result.stdout)["layers"]
    assert layers["survey_patches"] == 5000 and layers["forest_parcels"] == 1000
    frames = {name: pyogrio.read_dataframe(out, layer=name) for name in layers}
    for name, frame in frames.items():
        geoms = np.asarray(frame.geometry.values)
        assert shapely.is_valid(geoms).all(), name
    for name in ("survey_patches", "forest_parcels", "grassland_parcels"):
        geoms = np.asarray(frames[name].geometry.values)
        union = shapely.union_all(geoms)
        assert abs(shapely.area(geoms).sum() - union.area) / union.area < 1e-9  # no overlaps
        hectares = ellipsoidal_areas(geoms) / 1e4
        assert np.percentile(hectares, 5) > 0.2 and np.percentile(hectares, 95) < 20
    forest = shapely.union_all(np.asarray(frames["forest_parcels"].geometry.values))
    grass = shapely.union_all(np.asarray(frames["grassland_parcels"].geometry.values))
    assert 0.2 < forest.intersection(grass).area / forest.area < 0.5
    summary = load_file(clean_db, out, "forest_parcels",
                        LoadOptions(source_layer="forest_parcels", strict=True))
    assert summary.inserted == 1000 and summary.repaired == 0
