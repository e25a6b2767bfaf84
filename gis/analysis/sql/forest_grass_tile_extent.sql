-- The extent the tiled detection's grid covers, and how many parcels it holds. Parameter:
-- scope (the division's outline, EWKB). Every piece lies inside a forest or grassland parcel
-- that meets the division, so the forest and grassland parcels whose boxes meet the
-- division's box bound the grid; survey patches there are counted because tiles read them too.
SELECT ST_XMin(e.box), ST_YMin(e.box), ST_XMax(e.box), ST_YMax(e.box), e.n + s.n
FROM (
    SELECT ST_Extent(geom)::geometry AS box, count(*) AS n
    FROM (SELECT geom FROM forest_parcels WHERE geom && %(scope)s::geometry
          UNION ALL
          SELECT geom FROM grassland_parcels WHERE geom && %(scope)s::geometry) AS p
) AS e
CROSS JOIN (SELECT count(*) AS n FROM survey_patches WHERE geom && %(scope)s::geometry) AS s
