-- The part of a footprint (EWKB) inside a village plan's area but outside its planned
-- construction land (zones marked construction): what would draw on the village's
-- flexible quota, in m² (ellipsoidal).
WITH fp AS (SELECT ST_GeomFromEWKB(%(footprint)s) AS g),
     planned AS (
        SELECT ST_Union(z.geom) AS g FROM village_plan_zones AS z, fp
        WHERE z.village_code = %(village)s AND z.construction AND ST_Intersects(z.geom, fp.g))
SELECT ST_Area(geography(ST_Intersection(
           fp.g, CASE WHEN planned.g IS NULL THEN v.geom ELSE ST_Difference(v.geom, planned.g)
                 END)), true)
FROM fp, planned, village_plans AS v WHERE v.village_code = %(village)s
