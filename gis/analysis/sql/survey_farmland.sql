-- Permanent basic farmland of a division (county code LIKE %(p)s, or none: region-wide data)
-- in the survey's official areas, the version in force today: each parcel is pinned to its
-- survey patch (survey_patch_no in the parcel's county, 001:1174-1176) and takes the patch's
-- 图斑地类面积 (TBDLMJ) pro rata to the parcel's share of the patch's polygon area (all of it
-- when the parcel is the patch); a parcel without a patch, or whose patch has no TBDLMJ,
-- counts its polygon area. Returns the area, the parcels and how many had an official area.
SELECT coalesce(sum(CASE WHEN s.official_area_m2 IS NOT NULL AND s.area_m2 > 0
                         THEN s.official_area_m2 * least(f.area_m2 / s.area_m2, 1.0)
                         ELSE f.area_m2 END), 0) AS area_m2,
       count(*) AS parcels,
       count(s.official_area_m2) AS official_parcels
FROM basic_farmland AS f
LEFT JOIN survey_patches AS s
       ON s.county_code = f.county_code AND s.patch_no = f.survey_patch_no
WHERE (coalesce(f.county_code, '') LIKE %(p)s OR f.county_code IS NULL)
  AND f.version = (SELECT control_line_version('basic_farmland'))
