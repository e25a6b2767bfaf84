-- Cultivated land (耕地, first-level class 01) of the survey patches of a division (county
-- code LIKE %(prefix)s): the official class areas (TBDLMJ) where present, else the polygon
-- areas; how many patches, how many with an official area, and the counties summed.
SELECT coalesce(sum(coalesce(official_area_m2, area_m2)), 0) AS area_m2,
       count(*) AS patches,
       count(official_area_m2) AS official_patches,
       coalesce(array_agg(DISTINCT county_code ORDER BY county_code), '{}') AS counties
FROM survey_patches
WHERE county_code LIKE %(prefix)s AND land_use_code LIKE '01%%'
