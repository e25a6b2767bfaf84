"""Load a One-Map OGC API layer in QGIS (PyQGIS), as a desktop user would: an OAPIF layer
whose key is in a Basic authentication configuration of QGIS's auth manager, optionally
with a filter (a QGIS expression the OAPIF provider translates). Run with Debian's
``/usr/bin/python3`` under ``xvfb-run`` (``tests/clients/test_qgis.py``); prints one JSON
object: QGIS version, whether the layer is valid, its feature count and the sorted values
of its first property.

    xvfb-run -a /usr/bin/python3 tests/clients/qgis_load.py URL LAYER KEY [FILTER]
"""

import json
import os
import sys
import tempfile


def main() -> None:
    url, layer_name, key = sys.argv[1:4]
    subset = sys.argv[4] if len(sys.argv) > 4 else ""
    profile = tempfile.mkdtemp(prefix="qgis-profile-")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import (
        QgsApplication,
        QgsAuthMethodConfig,
        QgsDataSourceUri,
        QgsVectorLayer,
    )

    app = QgsApplication([], False, profile)
    app.initQgis()
    auth = QgsApplication.authManager()
    auth.setMasterPassword("one-map-test", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("one-map")
    config.setConfig("username", "qgis")
    config.setConfig("password", key)
    if not auth.storeAuthenticationConfig(config)[0]:
        print(json.dumps({"error": "could not store the auth configuration"}), flush=True)
        os._exit(1)
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    uri.setParam("typename", layer_name)
    uri.setAuthConfigId(config.id())
    layer = QgsVectorLayer(uri.uri(False), layer_name, "OAPIF")
    out = {"qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION, "valid": layer.isValid()}
    if layer.isValid():
        if subset:
            out["subset_accepted"] = layer.setSubsetString(subset)
        names = [f.name() for f in layer.fields()]
        first = names[0]  # the collection's first property (its code)
        values = sorted(str(f[first]) for f in layer.getFeatures())
        out.update(count=len(values), field=first, values=values, fields=names)
    else:
        out["error"] = layer.error().summary()
    print(json.dumps(out), flush=True)
    os._exit(0)  # QGIS 3.22 may crash in exitQgis() after a network layer: the answer is out


if __name__ == "__main__":
    main()
