-- Forest/grassland one-map conflicts inside one division, one row per finding.
-- Parameters: scope (the division's outline, EWKB), forest, grass, cultivated, construction
-- (arrays of GB/T 21010 first-level codes), cert_tol, m2_per_mu.
-- Every spatial join is ST_Intersects (GiST) AND NOT ST_Touches: for polygons that is "the
-- interiors meet". Parcels of one layer are a partition, so nearly every candidate pair is a
-- neighbour sharing an edge; ST_Intersection on coincident edges falls back to GEOS's slow
-- robust overlay, while ST_Touches rejects the pair for a fraction of the cost. Attributes
-- and intersections are computed only for the pairs that pass.
-- Joins name the base tables (not CTEs): a CTE used twice is materialized and loses the
-- GiST index. "b.id - a.id > 0" (not "a.id < b.id") keeps the planner from turning the
-- primary key into an index condition (half the table per row) AND-ed with the GiST probe.
-- The outline is a bound value, not a CTE, so the joins can run in parallel workers.
WITH pairs AS (
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
),
singles AS (
    SELECT kind, 'forest_parcels' AS layer, concat_ws('/', p.county_code, p.lin_ban, p.xiao_ban)
           AS pkey, {attrs:forest_parcels:p} AS attrs, p.geom
    FROM forest_parcels AS p
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN nullif(trim(p.owner), '') IS NULL THEN 'missing_owner' END),
        (CASE WHEN nullif(trim(p.certificate_no), '') IS NULL THEN 'missing_certificate' END),
        (CASE WHEN p.certificate_area_mu IS NOT NULL AND
                   abs(p.certificate_area_mu * %(m2_per_mu)s - p.area_m2)
                   > %(cert_tol)s * p.area_m2 THEN 'certificate_mismatch' END)
    ) AS k(kind)
    WHERE kind IS NOT NULL AND ST_Intersects(p.geom, %(scope)s::geometry)
    UNION ALL
    SELECT kind, 'grassland_parcels', p.parcel_no, {attrs:grassland_parcels:p}, p.geom
    FROM grassland_parcels AS p
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN nullif(trim(p.owner), '') IS NULL THEN 'missing_owner' END),
        (CASE WHEN nullif(trim(p.certificate_no), '') IS NULL THEN 'missing_certificate' END),
        (CASE WHEN p.certificate_area_mu IS NOT NULL AND
                   abs(p.certificate_area_mu * %(m2_per_mu)s - p.area_m2)
                   > %(cert_tol)s * p.area_m2 THEN 'certificate_mismatch' END)
    ) AS k(kind)
    WHERE kind IS NOT NULL AND ST_Intersects(p.geom, %(scope)s::geometry)
),
found AS (
    SELECT kind,
           jsonb_build_array(
               jsonb_build_object('layer', layer_a, 'key', key_a, 'attributes', attrs_a),
               jsonb_build_object('layer', layer_b, 'key', key_b, 'attributes', attrs_b)
           ) AS parcels,
           layer_a || ':' || key_a || '|' || layer_b || ':' || key_b AS parcel_keys,
           piece AS geom
    FROM pairs
    UNION ALL
    SELECT kind, jsonb_build_array(jsonb_build_object('layer', layer, 'key', pkey,
                                                      'attributes', attrs)),
           layer || ':' || pkey, ST_Multi(geom)
    FROM singles
)
SELECT f.kind, f.parcels, f.parcel_keys, f.geom,
       ST_Area(geography(f.geom), true) AS area_m2,
       ST_Perimeter(geography(f.geom), true) AS perimeter_m,
       town.name AS township, village.name AS village
-- Each piece is computed once, in its branch (the OFFSET 0 laterals stop the planner from
-- copying the ST_Intersection expression into every place that uses it), so the areas and
-- township lookups here are plain column references and run in the parallel workers too.
FROM found AS f
CROSS JOIN LATERAL ST_PointOnSurface(f.geom) AS p(pt)
LEFT JOIN LATERAL (
    SELECT name FROM admin_divisions
    WHERE level = 'township' AND ST_Intersects(geom, p.pt) LIMIT 1
) AS town ON TRUE
LEFT JOIN LATERAL (
    SELECT name FROM admin_divisions
    WHERE level = 'village' AND ST_Intersects(geom, p.pt) LIMIT 1
) AS village ON TRUE
