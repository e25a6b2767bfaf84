-- The parcels of a tiled run's pairs, each once: id, key and the object {layer, key,
-- attributes} a finding's parcels array holds, by the same placeholders as the untiled scan.
-- One UNLOGGED table per layer (the parcels placeholders; ordinary tables, because
-- PostgreSQL's parallel workers cannot read a temporary one), created and dropped inside the
-- detection's transaction (gis/analysis/forest_grass_scan.py). Branches as in
-- forest_grass_tile_pairs.sql: 0 forest x grassland, 1 forest x survey, 2 grassland x survey,
-- 3 forest x forest, 4 grassland x grassland. Statements are separated by a line holding
-- only a semicolon.
CREATE UNLOGGED TABLE {parcels:forest_parcels} AS
SELECT a.id, {key:forest_parcels:a} AS key, {parcel:forest_parcels:a} AS parcel
FROM forest_parcels AS a
WHERE a.id IN (SELECT id_a FROM {tiles} WHERE branch IN (0, 1, 3)
               UNION ALL SELECT id_b FROM {tiles} WHERE branch = 3)
;
CREATE UNLOGGED TABLE {parcels:grassland_parcels} AS
SELECT a.id, {key:grassland_parcels:a} AS key, {parcel:grassland_parcels:a} AS parcel
FROM grassland_parcels AS a
WHERE a.id IN (SELECT id_b FROM {tiles} WHERE branch = 0
               UNION ALL SELECT id_a FROM {tiles} WHERE branch IN (2, 4)
               UNION ALL SELECT id_b FROM {tiles} WHERE branch = 4)
;
CREATE UNLOGGED TABLE {parcels:survey_patches} AS
SELECT b.id, {key:survey_patches:b} AS key, {parcel:survey_patches:b} AS parcel
FROM survey_patches AS b
WHERE b.id IN (SELECT id_b FROM {tiles} WHERE branch IN (1, 2))
