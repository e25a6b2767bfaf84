-- What a detection of one division reads, into the transaction's recon_now (layer, id,
-- row_version): every parcel of the three layers in the box (x0, y0, x1, y1) spanned by the
-- forest and grassland parcels whose boxes meet the division's outline
-- (forest_grass_tile_extent.sql). Every first parcel of a finding is one of those, and every
-- second parcel meets a first one, so it lies in that box too. The row version is xmin,
-- which every insert and update changes; the next detection compares row versions by
-- equality (gis/analysis/forest_grass_changes.py). No parcel: the box is NULL, no rows.
CREATE TEMP TABLE recon_now ON COMMIT DROP AS
SELECT 'forest_parcels'::text AS layer, t.id, t.xmin::text::bigint AS row_version
FROM forest_parcels AS t WHERE t.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4490)
UNION ALL
SELECT 'grassland_parcels', t.id, t.xmin::text::bigint
FROM grassland_parcels AS t WHERE t.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4490)
UNION ALL
SELECT 'survey_patches', t.id, t.xmin::text::bigint
FROM survey_patches AS t WHERE t.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4490)
