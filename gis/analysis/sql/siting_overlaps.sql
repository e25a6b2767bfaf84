-- Overlap of one footprint with one layer: the pieces, per feature, with spheroidal areas.
-- {table}, {zone}, {key}, {name} are composed identifiers/expressions (psycopg.sql);
-- {version} keeps a control line to one version (the version bound), else TRUE;
-- %(footprint)s is the footprint as EWKB (EPSG:4490). ST_Intersects uses the GiST index;
-- the CASE skips ST_Intersection when one geometry covers the other.
WITH fp AS (SELECT ST_GeomFromEWKB(%(footprint)s) AS g)
SELECT t.id,
       {key} AS feature_key,
       {name} AS feature_name,
       {zone} AS zone,
       {grade} AS grade,
       ST_AsBinary(piece.g) AS piece,
       ST_Area(geography(piece.g), true) AS area_m2
FROM {table} AS t
CROSS JOIN fp
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN ST_CoveredBy(fp.g, t.geom) THEN fp.g
        WHEN ST_CoveredBy(t.geom, fp.g) THEN t.geom
        ELSE ST_CollectionExtract(ST_Intersection(t.geom, fp.g), 3)
    END AS g
) AS piece
WHERE ST_Intersects(t.geom, fp.g) AND {version}
ORDER BY t.id
