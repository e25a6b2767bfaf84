-- The pairs found by the tiled detection's workers (gis/analysis/tile_scan.py), read back from
-- the run's staging table (the tiles placeholder, an identifier composed in with psycopg.sql)
-- with the same columns as forest_grass_pairs.sql: kind, layer_a, key_a, parcel_a, layer_b,
-- key_b, parcel_b, piece. Workers write only the branch (0-4, the order of the five joins of
-- forest_grass_pairs.sql), the two parcel ids and the piece. Each parcel's key and object
-- come from the run's parcel tables (forest_grass_tile_parcels.sql, the parcels placeholders),
-- built once per parcel by the same expressions as the untiled scan, so both give the same
-- findings; built once per finding instead, the attribute objects were half of this step.
    SELECT 'forest_grass_overlap' AS kind, 'forest_parcels' AS layer_a, a.key AS key_a,
           a.parcel AS parcel_a, 'grassland_parcels' AS layer_b, b.key AS key_b,
           b.parcel AS parcel_b, t.geom AS piece
    FROM {tiles} AS t JOIN {parcels:forest_parcels} AS a ON a.id = t.id_a
    JOIN {parcels:grassland_parcels} AS b ON b.id = t.id_b
    WHERE t.branch = 0
    UNION ALL
    SELECT 'class_mismatch', 'forest_parcels', a.key, a.parcel, 'survey_patches', b.key, b.parcel, t.geom
    FROM {tiles} AS t JOIN {parcels:forest_parcels} AS a ON a.id = t.id_a
    JOIN {parcels:survey_patches} AS b ON b.id = t.id_b
    WHERE t.branch = 1
    UNION ALL
    SELECT 'class_mismatch', 'grassland_parcels', a.key, a.parcel, 'survey_patches', b.key, b.parcel, t.geom
    FROM {tiles} AS t JOIN {parcels:grassland_parcels} AS a ON a.id = t.id_a
    JOIN {parcels:survey_patches} AS b ON b.id = t.id_b
    WHERE t.branch = 2
    UNION ALL
    SELECT 'ownership_overlap', 'forest_parcels', a.key, a.parcel, 'forest_parcels', b.key, b.parcel, t.geom
    FROM {tiles} AS t JOIN {parcels:forest_parcels} AS a ON a.id = t.id_a
    JOIN {parcels:forest_parcels} AS b ON b.id = t.id_b
    WHERE t.branch = 3
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', a.key, a.parcel, 'grassland_parcels', b.key, b.parcel, t.geom
    FROM {tiles} AS t JOIN {parcels:grassland_parcels} AS a ON a.id = t.id_a
    JOIN {parcels:grassland_parcels} AS b ON b.id = t.id_b
    WHERE t.branch = 4
