"""Versions of the control lines: every delineation kept, one in force on any day.

A control-line layer (the catalogue's ``versioned`` layers: red line, permanent basic
farmland, urban development boundary) holds every version ever loaded; each row carries its
``version`` and ``control_line_versions`` says for each version its basis (依据: an approval,
or which automatic adjustment, 003:237-239; ``version_bases.yaml``), document number,
approving body and effective date. Loading never deletes: a file that differs from the latest
version becomes the next version (a version is the whole layer as delineated, not a patch of
it), and a file identical to it changes nothing.

The version *in force* on a day is the one with the latest effective date on or before it
(ties: the later loaded); a version without an effective date (data loaded before versions
existed) counts as in force from the start. Days are calendar days in China (UTC+08:00), as
approval documents date them. The database answers the same question with
``control_line_version(layer, day)`` (migration 0014), so SQL reading a layer filters with
``version = (SELECT control_line_version('eco_redline', :day))`` and never sees two versions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine

from gis.errors import InputError, InvalidParameter, NotFound
from gis.layers.catalogue import Layer, get_layer, load_catalogue
from gis.layers.schema import control_line_versions, table_for
from gis.messages import Joined, Named, msg

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def today() -> dt.date:
    """Today in China: the day a check "as of today" is made for."""
    return dt.datetime.now(CHINA_TIME).date()


# ------------------------------------------------------------------------------ the bases
class Approver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str
    en: str
    spellings: list[str]


class BasisCitation(BaseModel):
    """Where a basis stands in the seed (the fields of ``gis.rules.models.Citation``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str
    section: str
    seed: str
    lines: str
    quote: str


class BasisForLayer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approver: Approver | None
    citation: BasisCitation | None


class Basis(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str
    en: str
    #: false only for ``unrecorded``: a load that stated no basis.
    recorded: bool
    layers: dict[str, BasisForLayer]


@cache
def bases() -> dict[str, Basis]:
    """``version_bases.yaml``, validated: every layer named is a versioned catalogue layer."""
    raw = resources.files("gis.layers").joinpath("version_bases.yaml").read_text("utf-8")
    out = {key: Basis.model_validate(value) for key, value in yaml.safe_load(raw)["bases"].items()}
    versioned = {layer.id for layer in versioned_layers()}
    for key, basis in out.items():
        if unknown := set(basis.layers) - versioned:
            raise ValueError(f"version basis {key}: {sorted(unknown)} are not versioned layers")
    return out


def versioned_layers() -> list[Layer]:
    return [layer for layer in load_catalogue() if layer.versioned]


def versioned_layer(layer_id: str) -> Layer:
    """The catalogue layer, refused (400) unless it keeps versions."""
    layer = get_layer(layer_id)
    if not layer.versioned:
        raise InvalidParameter(msg("versions.not_versioned", layer=layer_id, versioned=Joined.of(
            lay.id for lay in versioned_layers())), parameter="layer")
    return layer


# ------------------------------------------------------------------------- what a version is
@dataclass(frozen=True)
class VersionSpec:
    """What a load says about the version it makes. ``basis`` ``unrecorded`` (the default,
    for a load that states nothing) takes effect on the day of loading."""

    basis: str = "unrecorded"
    document_no: str | None = None
    approved_by: str | None = None
    effective_date: dt.date | None = None
    note: str | None = None

    def checked(self, layer: Layer) -> VersionSpec:
        """The spec completed and checked for ``layer``: a recorded basis applies to the
        layer and names its document and effective date; the approving body is the one the
        seed names (filled in when not given, refused when another), else stated."""
        known = bases()
        basis = known.get(self.basis)
        if basis is None or layer.id not in basis.layers:
            allowed = [k for k, b in known.items() if layer.id in b.layers]
            raise InputError(msg("versions.bad_basis", basis=self.basis, layer=layer.id,
                                 allowed=Joined.of(allowed)))
        rule = basis.layers[layer.id]
        effective = self.effective_date
        if not basis.recorded:
            return VersionSpec(self.basis, self.document_no, self.approved_by,
                               effective or today(), self.note)
        missing = [name for name, value in (("document_no", self.document_no),
                                            ("effective_date", effective)) if not value]
        approver = (self.approved_by or "").strip() or None
        if rule.approver is not None:
            if approver is None:
                approver = rule.approver.zh
            elif approver not in rule.approver.spellings:
                raise InputError(msg("versions.wrong_approver", basis=Named(basis.zh, basis.en),
                                     layer=layer.id, given=approver,
                                     approver=Named(rule.approver.zh, rule.approver.en),
                                     source=rule.citation.seed[:3] + ":" + rule.citation.lines
                                     if rule.citation else "-"))
            else:
                approver = rule.approver.zh
        elif approver is None:
            missing.append("approved_by")
        if missing:
            raise InputError(msg("versions.missing", basis=Named(basis.zh, basis.en),
                                 fields=Joined.of(missing)))
        return VersionSpec(self.basis, self.document_no, approver, effective, self.note)


class ControlLineVersion(BaseModel):
    """A version as results and reports name it (the siting result's
    ``control_line_versions``)."""

    layer: str
    version: int
    basis: str
    document_no: str | None
    approved_by: str | None
    effective_date: dt.date | None


class VersionRecord(ControlLineVersion):
    """A version with its bookkeeping: who loaded it, when, from what, and its size."""

    basis_zh: str
    basis_en: str
    layer_zh: str
    note: str | None = None
    source: str | None = None
    features: int
    loaded_at: dt.datetime
    loaded_by: str | None = None
    #: Whether it is the version in force on the day asked about (see :func:`list_versions`).
    in_force: bool = False

    def brief(self) -> ControlLineVersion:
        return ControlLineVersion(**{k: getattr(self, k) for k in ControlLineVersion.model_fields})


def _record(row: Any, in_force: int | None = None) -> VersionRecord:
    basis = bases().get(row.basis)
    return VersionRecord(
        layer=row.layer, version=row.version, basis=row.basis,
        basis_zh=basis.zh if basis else row.basis, basis_en=basis.en if basis else row.basis,
        layer_zh=get_layer(row.layer).zh, document_no=row.document_no,
        approved_by=row.approved_by, effective_date=row.effective_date, note=row.note,
        source=row.source, features=row.features, loaded_at=row.loaded_at,
        loaded_by=row.loaded_by, in_force=row.version == in_force)


# ------------------------------------------------------------------------ choosing a version
def in_force_number(layer_id: str, day: dt.date | None = None) -> sa.ScalarSelect[Any]:
    """The version number in force on ``day`` (today in China if None), as a scalar subquery
    (evaluated once per statement, not once per row)."""
    return sa.select(sa.func.control_line_version(
        sa.literal(layer_id, sa.Text), sa.bindparam(None, day, type_=sa.Date))).scalar_subquery()


def version_condition(layer: Layer, version: int | None = None,
                      day: dt.date | None = None) -> sa.ColumnElement[bool]:
    """The rows of one version of ``layer``: ``version`` if given, else the one in force on
    ``day`` (today). Every row of a layer without versions."""
    if not layer.versioned:
        return sa.true()
    column = table_for(layer).c.version
    if version is not None:
        return column == sa.bindparam(None, version, type_=sa.Integer)
    return column == in_force_number(layer.id, day)


def in_force(conn: Connection, layer_id: str, day: dt.date | None = None
             ) -> VersionRecord | None:
    """The version of ``layer_id`` in force on ``day`` (today), or None if none is yet."""
    number = conn.execute(sa.select(in_force_number(layer_id, day))).scalar()
    if number is None:
        return None
    return get_version(conn, layer_id, number)


def versions_in_force(engine: Engine, day: dt.date | None = None
                      ) -> dict[str, VersionRecord | None]:
    """The version in force on ``day`` (today) of each versioned layer that has versions:
    None where none is in force yet; a layer never loaded is left out."""
    with engine.connect() as conn:
        loaded = set(conn.execute(sa.select(control_line_versions.c.layer).distinct()).scalars())
        return {layer.id: in_force(conn, layer.id, day) for layer in versioned_layers()
                if layer.id in loaded}


def get_version(conn: Connection, layer_id: str, version: int) -> VersionRecord:
    row = conn.execute(sa.select(control_line_versions).where(
        control_line_versions.c.layer == layer_id,
        control_line_versions.c.version == version)).first()
    if row is None:
        raise NotFound(msg("versions.no_version", layer=layer_id, version=version))
    return _record(row)


def list_versions(engine: Engine, layer_id: str, day: dt.date | None = None
                  ) -> list[VersionRecord]:
    """Every version of a layer, oldest first, the one in force on ``day`` (today) marked."""
    versioned_layer(layer_id)
    with engine.connect() as conn:
        current = conn.execute(sa.select(in_force_number(layer_id, day))).scalar()
        rows = conn.execute(sa.select(control_line_versions).where(
            control_line_versions.c.layer == layer_id).order_by(
            control_line_versions.c.version)).all()
    return [_record(row, current) for row in rows]


def check_version(engine: Engine, layer: Layer, version: int | None) -> None:
    """An explicit ``version`` must be one the layer has (404 otherwise); layers without
    versions take none (400)."""
    if version is None:
        return
    versioned_layer(layer.id)
    with engine.connect() as conn:
        get_version(conn, layer.id, version)
