-- Where each patch lies (i: its index, w: its WKB in EPSG:4490, as two arrays).
-- Township and district: the division containing a point of the patch. Nearest village: the
-- five nearest by planar distance in degrees (index-assisted), then the nearest in metres.
WITH p AS (
    SELECT i, ST_GeomFromWKB(w, 4490) AS g
    FROM unnest(%(i)s::int[], %(w)s::bytea[]) AS t(i, w))
SELECT p.i,
       (SELECT a.name FROM admin_divisions AS a WHERE a.level = 'township'
          AND ST_Intersects(a.geom, ST_PointOnSurface(p.g)) ORDER BY a.code LIMIT 1),
       (SELECT a.code FROM admin_divisions AS a WHERE a.level = 'district'
          AND ST_Intersects(a.geom, ST_PointOnSurface(p.g)) ORDER BY a.code LIMIT 1),
       v.village_name, v.village_code, v.township_name, v.dist
FROM p LEFT JOIN LATERAL (
    SELECT near.*, ST_Distance(geography(near.geom), geography(p.g)) AS dist
    FROM (SELECT village_name, village_code, township_name, geom FROM village_plans
          ORDER BY geom <-> p.g LIMIT 5) AS near
    ORDER BY dist LIMIT 1) AS v ON true
ORDER BY p.i
