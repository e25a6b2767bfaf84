-- The tiled three-control-line conflicts' pieces, as the workers returned them, measured and
-- written like sql/control_line_pairs.sql does it: ellipsoidal area of the geography, GeoJSON
-- with 8 decimals, rows ordered by pair and keys (the database's collation, as there).
-- Parameters: pair (int[]: the pair's index), key_a, key_b (text[]), wkb (bytea[]: the piece,
-- storage SRID).
SELECT t.pair, t.key_a, t.key_b,
       ST_AsGeoJSON(g.geom, 8) AS geometry,
       ST_Area(geography(g.geom), true) AS area_m2
FROM unnest(%(pair)s::integer[], %(key_a)s::text[], %(key_b)s::text[], %(wkb)s::bytea[])
     AS t(pair, key_a, key_b, wkb)
CROSS JOIN LATERAL (SELECT ST_GeomFromWKB(t.wkb, 4490) AS geom) AS g
ORDER BY t.pair, t.key_a, t.key_b
