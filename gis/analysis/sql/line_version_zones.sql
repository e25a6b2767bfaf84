-- Two versions of one control line compared zone by zone ({table} and {zone} composed with
-- psycopg.sql; a layer without zones compares as one zone, ''). Each version's features are
-- unioned per zone, then differenced both ways: what the later version adds and what it
-- removes, with ellipsoidal (GRS80) areas and the pieces as GeoJSON (the diff map layer).
WITH a AS (
    SELECT coalesce({zone}, '') AS zone, ST_Union(geom) AS g
    FROM {table} WHERE version = %(a)s GROUP BY 1
), b AS (
    SELECT coalesce({zone}, '') AS zone, ST_Union(geom) AS g
    FROM {table} WHERE version = %(b)s GROUP BY 1
), pairs AS (
    SELECT coalesce(a.zone, b.zone) AS zone, a.g AS ga, b.g AS gb
    FROM a FULL JOIN b ON a.zone = b.zone
), cut AS (
    SELECT zone, ga, gb,
           CASE WHEN gb IS NULL THEN NULL WHEN ga IS NULL THEN gb
                ELSE ST_CollectionExtract(ST_Difference(gb, ga), 3) END AS added,
           CASE WHEN ga IS NULL THEN NULL WHEN gb IS NULL THEN ga
                ELSE ST_CollectionExtract(ST_Difference(ga, gb), 3) END AS removed
    FROM pairs
)
SELECT zone,
       coalesce(ST_Area(geography(ga), true), 0) AS before_m2,
       coalesce(ST_Area(geography(gb), true), 0) AS after_m2,
       coalesce(ST_Area(geography(added), true), 0) AS added_m2,
       coalesce(ST_Area(geography(removed), true), 0) AS removed_m2,
       ST_AsGeoJSON(added, 8) AS added,
       ST_AsGeoJSON(removed, 8) AS removed
FROM cut
ORDER BY zone
