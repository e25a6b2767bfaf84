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
-- The changed placeholders are TRUE in a full scan; in an incremental one they keep the
-- parcels listed in recon_changed (gis/analysis/forest_grass_changes.py), whose pairs then
-- come from forest_grass_changed_pairs.sql.
WITH pairs AS (
{pairs}
),
singles AS (
    SELECT kind, 'forest_parcels' AS layer, {key:forest_parcels:p}
           AS pkey, {parcel:forest_parcels:p} AS parcel, p.geom
    FROM forest_parcels AS p
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN nullif(trim(p.owner), '') IS NULL THEN 'missing_owner' END),
        (CASE WHEN nullif(trim(p.certificate_no), '') IS NULL THEN 'missing_certificate' END),
        (CASE WHEN p.certificate_area_mu IS NOT NULL AND
                   abs(p.certificate_area_mu * %(m2_per_mu)s - p.area_m2)
                   > %(cert_tol)s * p.area_m2 THEN 'certificate_mismatch' END)
    ) AS k(kind)
    WHERE kind IS NOT NULL AND ST_Intersects(p.geom, %(scope)s::geometry)
          AND {changed:forest_parcels:p}
    UNION ALL
    SELECT kind, 'grassland_parcels', {key:grassland_parcels:p}, {parcel:grassland_parcels:p}, p.geom
    FROM grassland_parcels AS p
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN nullif(trim(p.owner), '') IS NULL THEN 'missing_owner' END),
        (CASE WHEN nullif(trim(p.certificate_no), '') IS NULL THEN 'missing_certificate' END),
        (CASE WHEN p.certificate_area_mu IS NOT NULL AND
                   abs(p.certificate_area_mu * %(m2_per_mu)s - p.area_m2)
                   > %(cert_tol)s * p.area_m2 THEN 'certificate_mismatch' END)
    ) AS k(kind)
    WHERE kind IS NOT NULL AND ST_Intersects(p.geom, %(scope)s::geometry)
          AND {changed:grassland_parcels:p}
),
found AS (
    SELECT kind,
           jsonb_build_array(parcel_a, parcel_b) AS parcels,
           layer_a || ':' || key_a || '|' || layer_b || ':' || key_b AS parcel_keys,
           piece AS geom
    FROM pairs
    UNION ALL
    SELECT kind, jsonb_build_array(parcel),
           layer || ':' || pkey, ST_Multi(geom)
    FROM singles
)
-- Each piece is computed once, in its branch, so the measures here are plain column
-- references. The township and village come from division_name_at() (migration 0017), a
-- parallel-safe function: a LATERAL subquery with a LIMIT is never run in a parallel worker,
-- and with one every finding's measures and lookups ran in the leader alone.
SELECT f.kind, f.parcels, f.parcel_keys, f.geom,
       ST_Area(geography(f.geom), true) AS area_m2,
       ST_Perimeter(geography(f.geom), true) AS perimeter_m,
       division_name_at('township', p.pt) AS township,
       division_name_at('village', p.pt) AS village
FROM found AS f
CROSS JOIN LATERAL ST_PointOnSurface(f.geom) AS p(pt)
