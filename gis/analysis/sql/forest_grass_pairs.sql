-- The pairs of parcels whose interiors meet, found by five spatial joins in PostGIS: the
-- body of the pairs CTE of forest_grass_detect.sql (composed in at its pairs placeholder).
-- Columns: kind, layer_a, key_a, attrs_a, layer_b, key_b, attrs_b, piece.
-- The tiled detection (gis/analysis/tiled_detection.py) finds the same pairs in its workers
-- and reads them back with forest_grass_tile_pairs.sql instead.
    -- forest x grassland: the same ground in both layers
    SELECT 'forest_grass_overlap' AS kind, 'forest_parcels' AS layer_a, concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban) AS key_a,
           {attrs:forest_parcels:a} AS attrs_a, 'grassland_parcels' AS layer_b, b.parcel_no AS key_b,
           {attrs:grassland_parcels:b} AS attrs_b, x.piece
    FROM forest_parcels AS a JOIN grassland_parcels AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece)
    UNION ALL
    -- forestry says forest, the survey says grassland, cultivated or construction land
    SELECT 'class_mismatch', 'forest_parcels', concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban), {attrs:forest_parcels:a},
           'survey_patches', concat_ws('/', b.county_code, b.patch_no), {attrs:survey_patches:b},
           x.piece
    FROM forest_parcels AS a JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(grass)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    -- grassland says grass, the survey says forest, cultivated or construction land
    SELECT 'class_mismatch', 'grassland_parcels', a.parcel_no, {attrs:grassland_parcels:a},
           'survey_patches', concat_ws('/', b.county_code, b.patch_no), {attrs:survey_patches:b},
           x.piece
    FROM grassland_parcels AS a
    JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(forest)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    -- two parcels of one layer with different owners on the same ground
    SELECT 'ownership_overlap', 'forest_parcels', concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban), {attrs:forest_parcels:a},
           'forest_parcels', concat_ws('/', b.county_code, b.lin_ban, b.xiao_ban), {attrs:forest_parcels:b}, x.piece
    FROM forest_parcels AS a
    JOIN forest_parcels AS b ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', a.parcel_no, {attrs:grassland_parcels:a},
           'grassland_parcels', b.parcel_no, {attrs:grassland_parcels:b},
           x.piece
    FROM grassland_parcels AS a
    JOIN grassland_parcels AS b ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
