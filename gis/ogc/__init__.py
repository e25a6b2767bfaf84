"""OGC API building blocks that do not depend on HTTP: CRS by reference, CQL2 compiled to
SQL, and the items query. ``api/routers/ogc_features.py`` puts them on the web."""
