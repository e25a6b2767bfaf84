-- Overlaps between two control-line layers (identifiers composed in with psycopg.sql): each
-- pair of features whose interiors meet, with the overlap piece and its ellipsoidal area.
-- Features of layer a are those of the division (county code LIKE prefix), and those
-- without a county code (region-wide data). Each line in its version in force today
-- ({layer_a}, {layer_b}: the layer ids as literals).
SELECT a.{key_a} AS key_a, b.{key_b} AS key_b,
       ST_AsGeoJSON(piece.g, 8) AS geometry,
       ST_Area(geography(piece.g), true) AS area_m2
FROM {table_a} AS a
JOIN {table_b} AS b ON ST_Intersects(a.geom, b.geom) AND NOT ST_Touches(a.geom, b.geom)
CROSS JOIN LATERAL (
    SELECT ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS g
) AS piece
WHERE (coalesce(a.county_code, '') LIKE %(prefix)s OR a.county_code IS NULL)
  AND a.version = (SELECT control_line_version({layer_a}))
  AND b.version = (SELECT control_line_version({layer_b}))
  AND NOT ST_IsEmpty(piece.g)
ORDER BY key_a, key_b
