-- Forest/grassland one-map conflicts inside one division, one row per finding.
-- Parameters: %(division)s (admin_divisions.code), %(forest)s %(grass)s %(cultivated)s
-- %(construction)s (arrays of GB/T 21010 first-level codes), %(cert_tol)s, %(m2_per_mu)s.
-- Every spatial join is ST_Intersects first (GiST), ST_Intersection only for the pairs.
-- Joins name the base tables (not CTEs): a CTE used twice is materialized and loses the
-- GiST index, which turned the forest x grass join quadratic. "b.id + 0" keeps the planner
-- from AND-ing the primary key (id > a.id: half the table per row) into the GiST probe.
WITH scope AS (
    SELECT ST_Union(geom) AS g FROM admin_divisions WHERE code = %(division)s
),
pairs AS (
    -- forest x grassland: the same ground in both layers
    SELECT 'forest_grass_overlap' AS kind, 'forest_parcels' AS layer_a, concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban) AS key_a,
           {attrs:forest_parcels:a} AS attrs_a, 'grassland_parcels' AS layer_b, b.parcel_no AS key_b,
           {attrs:grassland_parcels:b} AS attrs_b, ST_Intersection(a.geom, b.geom) AS piece
    FROM scope, forest_parcels AS a JOIN grassland_parcels AS b ON ST_Intersects(a.geom, b.geom)
    WHERE ST_Intersects(a.geom, scope.g)
    UNION ALL
    -- forestry says forest, the survey says grassland, cultivated or construction land
    SELECT 'class_mismatch', 'forest_parcels', concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban), {attrs:forest_parcels:a},
           'survey_patches', concat_ws('/', b.county_code, b.patch_no), {attrs:survey_patches:b},
           ST_Intersection(a.geom, b.geom)
    FROM scope, forest_parcels AS a JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    WHERE ST_Intersects(a.geom, scope.g) AND left(b.land_use_code, 2) = ANY(%(grass)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    -- grassland says grass, the survey says forest, cultivated or construction land
    SELECT 'class_mismatch', 'grassland_parcels', a.parcel_no, {attrs:grassland_parcels:a},
           'survey_patches', concat_ws('/', b.county_code, b.patch_no), {attrs:survey_patches:b},
           ST_Intersection(a.geom, b.geom)
    FROM scope, grassland_parcels AS a
    JOIN survey_patches AS b ON ST_Intersects(a.geom, b.geom)
    WHERE ST_Intersects(a.geom, scope.g) AND left(b.land_use_code, 2) = ANY(%(forest)s::text[] || %(cultivated)s::text[] || %(construction)s::text[])
    UNION ALL
    -- two parcels of one layer with different owners on the same ground
    SELECT 'ownership_overlap', 'forest_parcels', concat_ws('/', a.county_code, a.lin_ban, a.xiao_ban), {attrs:forest_parcels:a},
           'forest_parcels', concat_ws('/', b.county_code, b.lin_ban, b.xiao_ban), {attrs:forest_parcels:b}, ST_Intersection(a.geom, b.geom)
    FROM scope, forest_parcels AS a
    JOIN forest_parcels AS b ON a.id < b.id + 0 AND ST_Intersects(a.geom, b.geom)
    WHERE ST_Intersects(a.geom, scope.g) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
    UNION ALL
    SELECT 'ownership_overlap', 'grassland_parcels', a.parcel_no, {attrs:grassland_parcels:a},
           'grassland_parcels', b.parcel_no, {attrs:grassland_parcels:b},
           ST_Intersection(a.geom, b.geom)
    FROM scope, grassland_parcels AS a
    JOIN grassland_parcels AS b ON a.id < b.id + 0 AND ST_Intersects(a.geom, b.geom)
    WHERE ST_Intersects(a.geom, scope.g) AND coalesce(a.owner, '') <> coalesce(b.owner, '')
),
singles AS (
    SELECT kind, 'forest_parcels' AS layer, concat_ws('/', p.county_code, p.lin_ban, p.xiao_ban)
           AS pkey, {attrs:forest_parcels:p} AS attrs, p.geom
    FROM scope, forest_parcels AS p
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN nullif(trim(p.owner), '') IS NULL THEN 'missing_owner' END),
        (CASE WHEN nullif(trim(p.certificate_no), '') IS NULL THEN 'missing_certificate' END),
        (CASE WHEN p.certificate_area_mu IS NOT NULL AND
                   abs(p.certificate_area_mu * %(m2_per_mu)s - p.area_m2)
                   > %(cert_tol)s * p.area_m2 THEN 'certificate_mismatch' END)
    ) AS k(kind)
    WHERE kind IS NOT NULL AND ST_Intersects(p.geom, scope.g)
    UNION ALL
    SELECT kind, 'grassland_parcels', p.parcel_no, {attrs:grassland_parcels:p}, p.geom
    FROM scope, grassland_parcels AS p
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN nullif(trim(p.owner), '') IS NULL THEN 'missing_owner' END),
        (CASE WHEN nullif(trim(p.certificate_no), '') IS NULL THEN 'missing_certificate' END),
        (CASE WHEN p.certificate_area_mu IS NOT NULL AND
                   abs(p.certificate_area_mu * %(m2_per_mu)s - p.area_m2)
                   > %(cert_tol)s * p.area_m2 THEN 'certificate_mismatch' END)
    ) AS k(kind)
    WHERE kind IS NOT NULL AND ST_Intersects(p.geom, scope.g)
),
found AS (
    SELECT kind,
           jsonb_build_array(
               jsonb_build_object('layer', layer_a, 'key', key_a, 'attributes', attrs_a),
               jsonb_build_object('layer', layer_b, 'key', key_b, 'attributes', attrs_b)
           ) AS parcels,
           layer_a || ':' || key_a || '|' || layer_b || ':' || key_b AS parcel_keys,
           ST_Multi(ST_CollectionExtract(piece, 3)) AS geom
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
-- OFFSET 0 fences the subquery: the empty-piece filter runs on its output (one
-- ST_Intersection per pair), and areas and township lookups only for what is left.
FROM (SELECT * FROM found OFFSET 0) AS f
LEFT JOIN LATERAL (
    SELECT name FROM admin_divisions
    WHERE level = 'township' AND ST_Intersects(geom, ST_PointOnSurface(f.geom)) LIMIT 1
) AS town ON TRUE
LEFT JOIN LATERAL (
    SELECT name FROM admin_divisions
    WHERE level = 'village' AND ST_Intersects(geom, ST_PointOnSurface(f.geom)) LIMIT 1
) AS village ON TRUE
WHERE NOT ST_IsEmpty(f.geom)
