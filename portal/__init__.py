"""The map portal: Folium/Leaflet pages served by the API app (placeholder until the portal issue)."""
