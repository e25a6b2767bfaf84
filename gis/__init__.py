"""One-Map (一张图): territorial spatial planning analyses for Ningxia.

The library is pure: it knows PostGIS, files and rules, never HTTP. The API (`api`) and the
portal (`portal`) are thin layers over it.

Analysts start here, and need nothing else of the package::

    import gis

    om = gis.connect()                      # the database of the settings, or
    om = gis.connect("https://onemap.example", key)   # a shared server over its API
    om.layers                               # the catalogue, with feature counts
    redline = om.read("eco_redline", division="640202")
    check = om.check_siting(redline.geometry.iloc[0], "LA1", new_construction_land=False)

The public surface is ``__all__``; every other module is the library's inside and may
change. The names are imported on first use, so ``import gis`` (and with it ``gis --help``)
loads none of the data stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gis.onemap import OneMap, connect, use_cjk_font
    from gis.results import QuotaReport, Result, SitingCheck, areas

__version__ = "0.1.0"

#: The public names and the modules they live in (imported when first used).
_HOMES = {
    "connect": "gis.onemap", "OneMap": "gis.onemap", "Result": "gis.results",
    "SitingCheck": "gis.results", "QuotaReport": "gis.results", "areas": "gis.results",
    "use_cjk_font": "gis.onemap",
}
__all__ = ["OneMap", "QuotaReport", "Result", "SitingCheck", "areas", "connect",
           "use_cjk_font"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gis' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
