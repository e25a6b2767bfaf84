"""What each role may see of a work list: the one field policy of the findings and the
patches, for every route that shows them (lists, GeoJSON, one item, the answer to a change,
overdue exit plans) and every file that carries them (xlsx, GeoPackage, field packages).

Roles reach a work list by its routes' dependencies (reconciliation: forestry and admin;
monitoring: planner, forestry and admin); this table says which fields of an item each of
them reads. The rule behind it is the layer catalogue's sensitivity: a role sees a layer's
identifying attributes and outlines only if it may read that layer (``gis.auth.READABLE``).

- **Monitoring, forestry.** A patch lies in the red line or in permanent basic farmland,
  both planner layers. Forestry staff inspect patches, so they see where a patch is
  (division, township, village, its bounding box), what changed (classes, dates, area), its
  control line and zone (the rules they decide by depend on it, 003:223-229), the work-list
  state and history. They do not see which red-line area or farmland parcel it is
  (``feature_id``, ``feature_key``, ``feature_name``) nor its outline: the patch is clipped
  to the zone, so its outline traces the red line or the parcel; their geometry is the
  patch's bounding box instead.
- **Reconciliation, forestry.** Findings pair forest and grassland parcels (forestry layers,
  shown whole) with survey patches (三调, a planner layer). Of a survey patch forestry staff
  see its number and its land-use class, which the reconciliation is about (000:1559-1579);
  not its row id, owner unit, ownership type, located unit or official area. The finding's
  geometry is the overlap inside their own parcel, the object of the decision, and stays.
- **Planners** (monitoring) and **admins** see everything.

A withheld field is ``null`` in JSON, absent from the exports' columns, and named in the
docs (docs/security.md); nothing is filtered by the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from gis.errors import Forbidden
from gis.messages import Label, msg

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class View:
    """What one role sees of one work list."""

    #: Item fields withheld (``null`` in answers, their columns left out of files).
    hidden: frozenset[str] = frozenset()
    #: False: the geometry is replaced by its bounding box (a rectangle, still a
    #: MultiPolygon) so the item can be found without its outline.
    outline: bool = True
    #: Per parcel layer, the only attributes kept of its parcels (layers not named: all).
    parcel_attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        return not self.hidden and self.outline and not self.parcel_attributes

    def item(self, item: M) -> M:
        """``item`` as this role may see it (a copy; the original is untouched)."""
        if self.full:
            return item
        update: dict[str, Any] = {name: None for name in self.hidden
                                  if name in type(item).model_fields}
        geometry = getattr(item, "geometry", None)
        if not self.outline and geometry is not None:
            update["geometry"] = bounding_box(geometry)
        parcels = getattr(item, "parcels", None)
        if self.parcel_attributes and parcels is not None:
            update["parcels"] = [self.parcel(p) for p in parcels]
        return item.model_copy(update=update)

    def items(self, items: Iterable[M]) -> list[M]:
        return [self.item(i) for i in items]

    def parcel(self, parcel: dict[str, Any]) -> dict[str, Any]:
        kept = self.parcel_attributes.get(str(parcel.get("layer")))
        if kept is None:
            return parcel
        attributes = parcel.get("attributes") or {}
        return {**parcel, "attributes": {k: v for k, v in attributes.items() if k in kept}}

    def shows(self, name: str | None) -> bool:
        """Whether a field (an export column's) is shown to this role."""
        return name is None or name not in self.hidden


def bounding_box(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """The bounding box of a GeoJSON geometry, as a one-rectangle GeoJSON MultiPolygon."""
    import shapely
    from shapely.geometry import mapping, shape

    minx, miny, maxx, maxy = shape(geometry).bounds
    box = shapely.box(minx, miny, maxx, maxy, ccw=True)
    return dict(mapping(shapely.MultiPolygon([box])))


FULL = View()

#: Work list name -> role -> what the role sees. A role not listed may not read the list.
POLICY: dict[str, dict[str, View]] = {
    "monitoring": {
        "admin": FULL,
        "planner": FULL,
        "forestry": View(hidden=frozenset({"feature_id", "feature_key", "feature_name"}),
                         outline=False),
    },
    "reconciliation": {
        "admin": FULL,
        "forestry": View(parcel_attributes={
            "survey_patches": frozenset({"county_code", "patch_no", "land_use_code",
                                         "land_use_name"})}),
    },
}


def view(worklist: str, role: str) -> View:
    """What ``role`` sees of the work list named ``worklist``; Forbidden for a role the
    table does not admit (the routes refuse it first; this is the second lock)."""
    try:
        return POLICY[worklist][role]
    except KeyError:
        raise Forbidden(msg("security.worklist_forbidden", role=Label("role", role))) from None
