-- The pairs of parcels whose interiors meet, found by five spatial joins in PostGIS: the
-- body of the pairs CTE of forest_grass_detect.sql (composed in at its pairs placeholder).
-- Columns: kind, layer_a, key_a, parcel_a, layer_b, key_b, parcel_b, piece (parcel_*: the
-- object {layer, key, attributes} the finding's parcels array holds).
-- The tiled detection (gis/analysis/tiled_detection.py) finds the same pairs in its workers
-- and reads them back with forest_grass_tile_pairs.sql instead.
    -- forest x grassland: the same ground in both layers
    SELECT 'forest_grass_overlap' AS kind, 'forest_parcels' AS layer_a, {key:forest_parcels:a} AS key_a,
           {parcel:forest_parcels:a} AS parcel_a, 'grassland_parcels' AS layer_b, {key:grassland_parcels:b} AS key_b,
           {parcel:grassland_parcels:b} AS parcel_b, x.piece
    FROM forest_parcels AS a JOIN grassland_parcels AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece)
    UNION ALL
    -- forestry says forest, the survey says grassland, cultivated or construction land
    SELECT 'class_mismatch', 'forest_parcels', {key:forest_parcels:a}, {parcel:forest_parcels:a},
           'survey_patches', {key:survey_patches:b}, {parcel:survey_patches:b},
           x.piece
    FROM forest_parcels AS a JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(grass)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    -- grassland says grass, the survey says forest, cultivated or construction land
    SELECT 'class_mismatch', 'grassland_parcels', {key:grassland_parcels:a}, {parcel:grassland_parcels:a},
           'survey_patches', {key:survey_patches:b}, {parcel:survey_patches:b},
           x.piece
    FROM grassland_parcels AS a
    JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(forest)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    -- two parcels of one layer with different owners on the same ground
    SELECT 'ownership_overlap', 'forest_parcels', {key:forest_parcels:a}, {parcel:forest_parcels:a},
           'forest_parcels', {key:forest_parcels:b}, {parcel:forest_parcels:b}, x.piece
    FROM forest_parcels AS a
    JOIN forest_parcels AS b ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', {key:grassland_parcels:a}, {parcel:grassland_parcels:a},
           'grassland_parcels', {key:grassland_parcels:b}, {parcel:grassland_parcels:b},
           x.piece
    FROM grassland_parcels AS a
    JOIN grassland_parcels AS b ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
