-- Every village plan under a division (code LIKE prefix) with its ledger: the areas of its
-- draws and reversals, summed by the caller to the centi-square-metre (rows found invalid
-- have a NULL area and count for nothing), and how many rows are invalid.
SELECT v.village_code, v.village_name, v.township_name, v.planned_construction_m2,
       v.flexible_quota_m2, d.areas, coalesce(d.invalid, 0)
FROM village_plans AS v
LEFT JOIN (SELECT village_code, array_agg(area_m2) FILTER (WHERE area_m2 IS NOT NULL) AS areas,
                  count(*) FILTER (WHERE invalid_value IS NOT NULL) AS invalid
           FROM quota_draws GROUP BY village_code) AS d USING (village_code)
WHERE v.village_code LIKE :prefix
ORDER BY v.village_code
