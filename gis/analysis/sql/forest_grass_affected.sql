-- The active findings of the division whose parcels include a changed one (recon_changed),
-- into the transaction's recon_affected: the only rows an incremental re-detection may match,
-- rewrite or close. Each finding stores its parcels' ids in parcels[].attributes.id.
-- Parameter: division.
CREATE TEMP TABLE recon_affected ON COMMIT DROP AS
SELECT DISTINCT f.id
FROM recon_findings AS f
CROSS JOIN LATERAL jsonb_array_elements(f.parcels) AS e(p)
JOIN recon_changed AS c ON c.layer = e.p->>'layer' AND c.id = (e.p->'attributes'->>'id')::bigint
WHERE f.division = :division AND f.status NOT IN ('closed', 'applied')
