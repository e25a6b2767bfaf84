"""The catalogue is valid data, covers DOMAIN.md's layers, and matches the migrated schema."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import text
from typer.testing import CliRunner

from gis.cli import app
from gis.db.migrate import current_revision, head_revision, upgrade
from gis.errors import UnknownLayer
from gis.layers.catalogue import Catalogue, get_layer, load_catalogue
from gis.layers.schema import layer_tables, metadata

DOMAIN_LAYERS = {
    "eco_redline": "生态保护红线",
    "basic_farmland": "永久基本农田",
    "cultivated_land": "耕地",
    "urban_boundary": "城镇开发边界",
    "village_plans": "村庄规划",
    "village_plan_zones": "村庄规划用地",
    "township_plans": "乡级国土空间规划",
    "forest_parcels": "林地小班",
    "grassland_parcels": "草地图斑",
    "survey_patches": "国土调查图斑",
    "admin_divisions": "行政区划",
    "forest_farm_areas": "林场管护范围",
    "projects": "建设项目",
}


def test_one_entry_per_domain_layer() -> None:
    catalogue = load_catalogue()
    assert {layer.id: layer.zh for layer in catalogue} == DOMAIN_LAYERS


def test_domain_attributes_present() -> None:
    assert get_layer("eco_redline").field("zone").values.keys() == {"core", "general"}
    udb = get_layer("urban_boundary")
    assert "centralized_construction" in udb.field("zone").values
    assert udb.field("baseline_2020_m2").type == "float"
    plans = get_layer("village_plans").field_names
    assert {"planned_construction_m2", "flexible_quota_m2", "category", "resettled"} <= set(plans)
    forest = get_layer("forest_parcels").field_names
    for name in ("lin_ban", "xiao_ban", "dominant_species", "stand_age", "forest_category",
                 "public_welfare_level", "owner", "certificate_no", "certificate_area_mu",
                 "boundaries", "acquired_date"):
        assert name in forest
    assert get_layer("survey_patches").field("land_use_code").source[0] == "DLBM"


def test_unknown_layer_names_the_known_ones() -> None:
    with pytest.raises(UnknownLayer, match="eco_redline"):
        get_layer("red_line")


def test_bad_catalogue_is_refused() -> None:
    entry = load_catalogue().model_dump()
    entry["layers"][0]["natural_key"] = ["no_such_field"]
    with pytest.raises(ValidationError, match="natural key"):
        Catalogue.model_validate(entry)
    entry = load_catalogue().model_dump()
    entry["layers"][1]["fields"][0]["shp"] = "WAY_TOO_LONG_NAME"
    with pytest.raises(ValidationError):
        Catalogue.model_validate(entry)


def test_migrated_schema_matches_catalogue(engine) -> None:
    layer_tables()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    relevant = [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table"
                                        and d[1].name == "spatial_ref_sys")]
    assert relevant == []
    assert current_revision(engine) == head_revision()
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()


def test_geometry_columns_srid_type_and_gist(engine) -> None:
    with engine.connect() as conn:
        geo = dict(conn.execute(text(
            "SELECT f_table_name, type || ':' || srid FROM geometry_columns"
        )).fetchall())
        gist = {row[0] for row in conn.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist (geom)%'"
        ))}
        uniques = {row[0] for row in conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE contype = 'u'"
        ))}
    for layer in load_catalogue():
        assert geo[layer.table] == "MULTIPOLYGON:4490"
        assert layer.table in gist
        assert f"{layer.table}_natural_key" in uniques


def test_layers_cli_json(clean_db) -> None:
    result = CliRunner().invoke(app, ["layers", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == set(DOMAIN_LAYERS)
    red = next(r for r in rows if r["id"] == "eco_redline")
    assert red["title_zh"] == "生态保护红线" and red["features"] == 0
    assert red["title_en"] == "Ecological protection red line"


def test_layers_cli_table(clean_db) -> None:
    result = CliRunner().invoke(app, ["layers"])
    assert result.exit_code == 0
    assert "survey_patches" in result.stdout


def _mutated(edit) -> dict:
    entry = load_catalogue().model_dump()
    layers = {layer["id"]: layer for layer in entry["layers"]}
    edit(layers)
    return entry


@pytest.mark.parametrize("edit,message", [
    (lambda ls: ls["eco_redline"]["style"]["classes"][0].update(value="centre"),
     "style class 'centre' is not a value of zone"),
    (lambda ls: ls["eco_redline"]["style"]["classes"][0].update(zh="核心"),
     "legend label '核心' of 'core' is not one of its spellings"),
    (lambda ls: ls["eco_redline"]["style"].update(field="no_such_field"),
     "style field 'no_such_field' is not a field"),
    (lambda ls: ls["eco_redline"]["style"].update(classes=[]),
     "both a classified `field` and its `classes`, or neither"),
    (lambda ls: ls["eco_redline"]["style"].update(color="red"),
     "String should match pattern"),
    (lambda ls: ls["eco_redline"]["style"].update(fill_opacty=0.3),
     "Extra inputs are not permitted"),
    (lambda ls: ls["survey_patches"]["style"].update(field="patch_area_m2"),
     "style field 'patch_area_m2' is not a text field"),
    (lambda ls: ls["village_plans"].update(temporal="village_name"),
     "temporal 'village_name' is not a date field"),
    (lambda ls: ls["village_plans"].pop("temporal"), "temporal\n  Field required"),
    (lambda ls: ls["projects"].pop("tiles"), "tiles\n  Field required"),
    (lambda ls: ls["projects"]["tiles"].update(minzoom=13, maxzoom=12),
     "minzoom 13 is above maxzoom 12"),
    (lambda ls: ls["projects"]["tiles"].update(maxzoom=23), "less than or equal to 22"),
    (lambda ls: ls["projects"]["tiles"].update(mode="wms"), "'tiles' or 'geojson'"),
    (lambda ls: ls["projects"]["search"].update(label=["{project_code}{name}"]),
     "must name exactly one field"),
    (lambda ls: ls["projects"]["search"].update(label=["{no_such_field}"]),
     "search label field 'no_such_field' is not a text field"),
    (lambda ls: ls["projects"]["search"].update(rank=1), "duplicate search ranks"),
])
def test_bad_layer_settings_are_refused_with_a_clear_message(edit, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Catalogue.model_validate(_mutated(edit))
    assert message in str(refused.value), str(refused.value)
