"""The map portal: Folium/Leaflet pages served by the API app (viewer, siting check,
reconciliation work list, village quota dashboard), with Leaflet and its plugins vendored
from npm so that no page requests anything from a CDN."""
