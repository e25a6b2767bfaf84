-- The pairs found by the tiled detection's workers (gis/analysis/tile_scan.py), read back from
-- the run's staging table (the tiles placeholder, an identifier composed in with psycopg.sql)
-- with the same columns as forest_grass_pairs.sql: kind, layer_a, key_a, attrs_a, layer_b,
-- key_b, attrs_b, piece. Workers write only the branch (0-4, the order of the five joins of
-- forest_grass_pairs.sql), the two parcel ids and the piece; keys and attributes are built
-- here, by the same expressions as the untiled scan, so both give the same findings.
    SELECT 'forest_grass_overlap' AS kind, 'forest_parcels' AS layer_a, concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban) AS key_a,
           {attrs:forest_parcels:a} AS attrs_a, 'grassland_parcels' AS layer_b, b.parcel_no AS key_b,
           {attrs:grassland_parcels:b} AS attrs_b, t.geom AS piece
    FROM {tiles} AS t JOIN forest_parcels AS a ON a.id = t.id_a JOIN grassland_parcels AS b ON b.id = t.id_b
    WHERE t.branch = 0
    UNION ALL
    SELECT 'class_mismatch', 'forest_parcels', concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban), {attrs:forest_parcels:a},
           'survey_patches', concat_ws('/', b.county_code, b.patch_no), {attrs:survey_patches:b}, t.geom
    FROM {tiles} AS t JOIN forest_parcels AS a ON a.id = t.id_a JOIN survey_patches AS b ON b.id = t.id_b
    WHERE t.branch = 1
    UNION ALL
    SELECT 'class_mismatch', 'grassland_parcels', a.parcel_no, {attrs:grassland_parcels:a},
           'survey_patches', concat_ws('/', b.county_code, b.patch_no), {attrs:survey_patches:b}, t.geom
    FROM {tiles} AS t JOIN grassland_parcels AS a ON a.id = t.id_a JOIN survey_patches AS b ON b.id = t.id_b
    WHERE t.branch = 2
    UNION ALL
    SELECT 'ownership_overlap', 'forest_parcels', concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban), {attrs:forest_parcels:a},
           'forest_parcels', concat_ws('/', b.county_code, b.lin_ban, b.xiao_ban), {attrs:forest_parcels:b}, t.geom
    FROM {tiles} AS t JOIN forest_parcels AS a ON a.id = t.id_a JOIN forest_parcels AS b ON b.id = t.id_b
    WHERE t.branch = 3
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', a.parcel_no, {attrs:grassland_parcels:a},
           'grassland_parcels', b.parcel_no, {attrs:grassland_parcels:b}, t.geom
    FROM {tiles} AS t JOIN grassland_parcels AS a ON a.id = t.id_a JOIN grassland_parcels AS b ON b.id = t.id_b
    WHERE t.branch = 4
