-- The survey patches (三调) under one footprint (%(footprint)s: EWKB, EPSG:4490): per patch
-- its class, its polygon area (area_m2, ellipsoidal), its official class area (TBDLMJ, NULL
-- where the survey carries none), the ellipsoidal area of the piece under the footprint and
-- whether the patch lies wholly inside (then the piece is the patch). The caller takes a
-- cut patch's official area pro rata to the piece's share of its polygon area.
WITH fp AS (SELECT ST_GeomFromEWKB(%(footprint)s) AS g)
SELECT t.id,
       t.land_use_code,
       t.area_m2,
       t.official_area_m2,
       CASE WHEN whole.inside THEN t.area_m2
            ELSE ST_Area(geography(ST_CollectionExtract(ST_Intersection(t.geom, fp.g), 3)),
                         true) END AS piece_m2,
       whole.inside
FROM survey_patches AS t
CROSS JOIN fp
CROSS JOIN LATERAL (SELECT ST_CoveredBy(t.geom, fp.g) AS inside) AS whole
WHERE ST_Intersects(t.geom, fp.g) AND NOT ST_Touches(t.geom, fp.g)
ORDER BY t.id
