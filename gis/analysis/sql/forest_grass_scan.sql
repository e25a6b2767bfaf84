-- Detection into the transaction's temporary table recon_scan, one row per finding: the rows
-- of forest_grass_detect.sql (composed in at the placeholder with psycopg.sql), numbered in a
-- stable order, overlaps under the profile's mapping unit (min_m2) or thinner than its sliver
-- width (sliver_w, twice the area over the perimeter) relabelled as slivers. match_id is
-- filled later by the matching to the existing work list.
CREATE TEMP TABLE recon_scan ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY d.kind, d.parcel_keys) AS sid,
       CASE WHEN d.kind = ANY(%(overlap_kinds)s::text[]) AND (d.area_m2 < %(min_m2)s
              OR d.perimeter_m <= 0 OR 2 * d.area_m2 / d.perimeter_m < %(sliver_w)s)
            THEN 'sliver' ELSE d.kind END AS kind,
       d.parcels, d.kind || '|' || d.parcel_keys AS parcel_keys, d.geom, d.area_m2,
       d.township, d.village, NULL::bigint AS match_id
FROM ({detection}) AS d
