-- The parcels changed since the division's previous detection, into the transaction's
-- recon_changed (layer, id): inserted (no recorded row version), updated (another one) and
-- deleted or gone out of reach (recorded, not read now). Parameter: division.
CREATE TEMP TABLE recon_changed ON COMMIT DROP AS
SELECT coalesce(n.layer, s.layer) AS layer, coalesce(n.id, s.id) AS id
FROM recon_now AS n
FULL JOIN (SELECT layer, id, row_version FROM recon_parcel_state WHERE division = :division) AS s
    ON s.layer = n.layer AND s.id = n.id
WHERE n.row_version IS DISTINCT FROM s.row_version
