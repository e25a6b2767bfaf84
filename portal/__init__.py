"""The map portal: Folium/Leaflet pages served by the API app
(a placeholder page until the portal issue lands)."""
