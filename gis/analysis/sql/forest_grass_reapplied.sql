-- The findings applied since the division's previous detection (an 'applied' event above its
-- mark) whose parcels did not change, back into recon_scan as found again: a full scan would
-- find them and, as they are off the work list, match them like new ones. Their sid is set
-- by the renumbering that follows. Parameters: division, mark.
INSERT INTO recon_scan (kind, parcels, parcel_keys, geom, area_m2, township, village)
SELECT f.kind, f.parcels, f.parcel_keys, f.geom, f.area_m2, f.township, f.village
FROM recon_findings AS f
WHERE f.division = :division AND f.status = 'applied'
  AND f.id IN (SELECT finding_id FROM recon_events WHERE id > :mark AND action = 'applied')
  AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(f.parcels) AS e(p)
      JOIN recon_changed AS c
          ON c.layer = e.p->>'layer' AND c.id = (e.p->'attributes'->>'id')::bigint)
