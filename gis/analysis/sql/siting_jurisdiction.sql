-- The footprint (%(fp)s, EWKB in EPSG:4490) against the loaded outlines of a jurisdiction:
-- the region, city and district outlines whose code starts with %(prefix)s, taken together
-- (a footprint across two loaded districts is inside their union, not partly outside each).
-- Returns how many outlines are loaded, whether the jurisdiction's own outline (%(code)s) is
-- among them, the footprint's area outside the union of the outlines it meets (the whole
-- footprint when it meets none), and the names of the loaded outlines by code.
WITH fp AS (SELECT ST_GeomFromEWKB(%(fp)s) AS g),
outlines AS (
    SELECT code, name, geom FROM admin_divisions
    WHERE code LIKE %(prefix)s AND level IN ('region', 'city', 'district')
),
met AS (
    SELECT ST_Union(o.geom) AS g FROM outlines AS o, fp WHERE ST_Intersects(o.geom, fp.g)
)
SELECT (SELECT count(*) FROM outlines) AS loaded,
       (SELECT bool_or(code = %(code)s) FROM outlines) AS whole,
       met.g IS NOT NULL AS meets,
       CASE WHEN met.g IS NULL THEN ST_Area(geography(fp.g), true)
            WHEN ST_CoveredBy(fp.g, met.g) THEN 0.0
            ELSE ST_Area(geography(ST_Difference(fp.g, met.g)), true) END AS outside_m2,
       (SELECT array_agg(name ORDER BY code) FROM outlines) AS names
FROM fp, met
