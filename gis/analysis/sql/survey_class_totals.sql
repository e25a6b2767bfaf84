-- Land-class totals of the survey patches (三调) of a division (county code LIKE
-- %(prefix)s), per first-level class (GB/T 21010: the code's first two digits): the official
-- class area (图斑地类面积 TBDLMJ) where the patch carries one and its polygon area where not,
-- the polygon (ellipsoidal) areas, the deducted area (KCMJ) and how many patches carried an
-- official area.
SELECT left(land_use_code, 2) AS code,
       count(*) AS patches,
       count(official_area_m2) AS official_patches,
       coalesce(sum(coalesce(official_area_m2, area_m2)), 0) AS area_m2,
       coalesce(sum(area_m2), 0) AS polygon_m2,
       coalesce(sum(deducted_area_m2) FILTER (WHERE official_area_m2 IS NOT NULL), 0)
           AS deducted_m2
FROM survey_patches
WHERE county_code LIKE %(prefix)s
GROUP BY 1
ORDER BY 1
