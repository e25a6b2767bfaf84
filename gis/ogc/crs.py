"""OGC API - Features Part 2 (CRS by reference): the CRSs we serve and their axis order.

PostGIS always stores x = easting/longitude. The EPSG definitions of EPSG:4490 and EPSG:4326
put latitude first, and EPSG:4544 (CGCS2000 3-degree Gauss-Kruger CM 105E) puts northing
first, so coordinates in those CRSs are written and read in that order, as Part 2 requires.
CRS84 is lon/lat. Between CRS84 and CGCS2000 no datum shift is applied (they agree to a few
centimetres, well inside the accuracy of the layers), which is also what PROJ does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis.errors import InvalidParameter
from gis.messages import Joined, msg

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class ServedCRS:
    uri: str
    srid: int  # PostGIS SRID the coordinates are computed in
    swap_axes: bool  # authority axis order is y-first (lat/lon or northing/easting)
    decimals: int  # 7 decimal degrees ~ 1 cm; 3 decimals of a metre = 1 mm

    @property
    def label(self) -> str:
        return "CRS84" if self.uri == CRS84_URI else f"EPSG:{self.srid}"


CRS84 = ServedCRS(CRS84_URI, 4490, False, 7)
SERVED: tuple[ServedCRS, ...] = (
    CRS84,
    ServedCRS(_EPSG_URI.format(4490), 4490, True, 7),
    ServedCRS(_EPSG_URI.format(4326), 4326, True, 7),
    ServedCRS(_EPSG_URI.format(4544), 4544, True, 3),
)
STORAGE_CRS_URI = _EPSG_URI.format(4490)
_BY_URI = {c.uri: c for c in SERVED}
_CURIE = re.compile(r"^\[?(EPSG|OGC):(\w+)\]?$", re.IGNORECASE)
_URI_FORM = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/(\w+)$")


def served_crs(value: str | None, parameter: str = "crs") -> ServedCRS:
    """The CRS named by a URI (or a ``[EPSG:4490]`` CURIE); 400-type error for others."""
    if value is None or value == "":
        return CRS84
    text = value.strip()
    match = _URI_FORM.match(text) or _CURIE.match(text)
    if match:
        authority, code = match.group(1).upper(), match.group(2)
        uri = CRS84_URI if (authority, code.upper()) == ("OGC", "CRS84") \
            else _EPSG_URI.format(code)
        if uri in _BY_URI:
            return _BY_URI[uri]
    raise InvalidParameter(msg("ogc.crs_unsupported", parameter=parameter, value=value,
                               supported=Joined.of(c.uri for c in SERVED)),
                           parameter=parameter)


def content_crs_header(crs: ServedCRS) -> str:
    return f"<{crs.uri}>"
