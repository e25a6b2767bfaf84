-- The pairs of an incremental re-detection: those of forest_grass_pairs.sql (same columns,
-- same conditions, same expressions) that involve at least one parcel listed in the
-- transaction's recon_changed (layer, id): inserted, updated or deleted since the division's
-- previous detection (gis/analysis/forest_grass_changes.py). Every join is split in two
-- halves, driven from the few changed parcels through the primary key and then the GiST
-- index: the first half takes pairs whose first parcel changed, the second those whose
-- second parcel changed and first did not, so no pair is found twice. Pairs of two
-- unchanged parcels are the previous detection's and are not computed again.
    -- forest x grassland
    SELECT 'forest_grass_overlap' AS kind, 'forest_parcels' AS layer_a, {key:forest_parcels:a} AS key_a,
           {parcel:forest_parcels:a} AS parcel_a, 'grassland_parcels' AS layer_b, {key:grassland_parcels:b} AS key_b,
           {parcel:grassland_parcels:b} AS parcel_b, x.piece
    FROM recon_changed AS c JOIN forest_parcels AS a ON c.layer = 'forest_parcels' AND a.id = c.id
    JOIN grassland_parcels AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece)
    UNION ALL
    SELECT 'forest_grass_overlap', 'forest_parcels', {key:forest_parcels:a},
           {parcel:forest_parcels:a}, 'grassland_parcels', {key:grassland_parcels:b}, {parcel:grassland_parcels:b}, x.piece
    FROM recon_changed AS c JOIN grassland_parcels AS b ON c.layer = 'grassland_parcels' AND b.id = c.id
    JOIN forest_parcels AS a ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece)
          AND NOT EXISTS (SELECT 1 FROM recon_changed AS o WHERE o.layer = 'forest_parcels' AND o.id = a.id)
    UNION ALL
    -- forestry says forest, the survey says grassland, cultivated or construction land
    SELECT 'class_mismatch', 'forest_parcels', {key:forest_parcels:a}, {parcel:forest_parcels:a},
           'survey_patches', {key:survey_patches:b}, {parcel:survey_patches:b},
           x.piece
    FROM recon_changed AS c JOIN forest_parcels AS a ON c.layer = 'forest_parcels' AND a.id = c.id
    JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(grass)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    SELECT 'class_mismatch', 'forest_parcels', {key:forest_parcels:a}, {parcel:forest_parcels:a},
           'survey_patches', {key:survey_patches:b}, {parcel:survey_patches:b},
           x.piece
    FROM recon_changed AS c JOIN survey_patches AS b ON c.layer = 'survey_patches' AND b.id = c.id
    JOIN forest_parcels AS a ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(grass)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
          AND NOT EXISTS (SELECT 1 FROM recon_changed AS o WHERE o.layer = 'forest_parcels' AND o.id = a.id)
    UNION ALL
    -- grassland says grass, the survey says forest, cultivated or construction land
    SELECT 'class_mismatch', 'grassland_parcels', {key:grassland_parcels:a}, {parcel:grassland_parcels:a},
           'survey_patches', {key:survey_patches:b}, {parcel:survey_patches:b},
           x.piece
    FROM recon_changed AS c JOIN grassland_parcels AS a ON c.layer = 'grassland_parcels' AND a.id = c.id
    JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(forest)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    SELECT 'class_mismatch', 'grassland_parcels', {key:grassland_parcels:a}, {parcel:grassland_parcels:a},
           'survey_patches', {key:survey_patches:b}, {parcel:survey_patches:b},
           x.piece
    FROM recon_changed AS c JOIN survey_patches AS b ON c.layer = 'survey_patches' AND b.id = c.id
    JOIN grassland_parcels AS a ON ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND left(b.land_use_code, 2) = ANY(%(forest)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
          AND NOT EXISTS (SELECT 1 FROM recon_changed AS o WHERE o.layer = 'grassland_parcels' AND o.id = a.id)
    UNION ALL
    -- two parcels of one layer with different owners on the same ground (a has the lower id)
    SELECT 'ownership_overlap', 'forest_parcels', {key:forest_parcels:a}, {parcel:forest_parcels:a},
           'forest_parcels', {key:forest_parcels:b}, {parcel:forest_parcels:b}, x.piece
    FROM recon_changed AS c JOIN forest_parcels AS a ON c.layer = 'forest_parcels' AND a.id = c.id
    JOIN forest_parcels AS b ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
    UNION ALL
    SELECT 'ownership_overlap', 'forest_parcels', {key:forest_parcels:a}, {parcel:forest_parcels:a},
           'forest_parcels', {key:forest_parcels:b}, {parcel:forest_parcels:b}, x.piece
    FROM recon_changed AS c JOIN forest_parcels AS b ON c.layer = 'forest_parcels' AND b.id = c.id
    JOIN forest_parcels AS a ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
          AND NOT EXISTS (SELECT 1 FROM recon_changed AS o WHERE o.layer = 'forest_parcels' AND o.id = a.id)
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', {key:grassland_parcels:a}, {parcel:grassland_parcels:a},
           'grassland_parcels', {key:grassland_parcels:b}, {parcel:grassland_parcels:b}, x.piece
    FROM recon_changed AS c JOIN grassland_parcels AS a ON c.layer = 'grassland_parcels' AND a.id = c.id
    JOIN grassland_parcels AS b ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', {key:grassland_parcels:a}, {parcel:grassland_parcels:a},
           'grassland_parcels', {key:grassland_parcels:b}, {parcel:grassland_parcels:b}, x.piece
    FROM recon_changed AS c JOIN grassland_parcels AS b ON c.layer = 'grassland_parcels' AND b.id = c.id
    JOIN grassland_parcels AS a ON b.id - a.id > 0 AND ST_Intersects(a.geom, b.geom)
    CROSS JOIN LATERAL ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS x(piece)
    WHERE ST_Intersects(a.geom, %(scope)s::geometry) AND NOT ST_Touches(a.geom, b.geom)
          AND NOT ST_IsEmpty(x.piece) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
          AND NOT EXISTS (SELECT 1 FROM recon_changed AS o WHERE o.layer = 'grassland_parcels' AND o.id = a.id)
