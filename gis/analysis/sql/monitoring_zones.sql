-- Red-line zones and permanent basic farmland parcels intersecting the compared extent
-- (extent: WKB in EPSG:4490), as monitoring_detect.ZoneFeature rows; each in its version in
-- force today (control lines keep their versions, migration 0014).
SELECT 'eco_redline' AS layer, id, redline_code AS key, name, zone, county_code,
       ST_AsBinary(geom) AS wkb
FROM eco_redline WHERE ST_Intersects(geom, ST_GeomFromWKB(%(extent)s, 4490))
  AND version = (SELECT control_line_version('eco_redline'))
UNION ALL
SELECT 'basic_farmland', id, parcel_code, village, NULL, county_code, ST_AsBinary(geom)
FROM basic_farmland WHERE ST_Intersects(geom, ST_GeomFromWKB(%(extent)s, 4490))
  AND version = (SELECT control_line_version('basic_farmland'))
