"""What the work lists' routers share (``reconciliation.py``, ``monitoring.py``): the request
bodies of a decision and a status change, the answer to a change (the item as it is now and
its whole history, so a client never shows a version it did not make), the exports with the
list's filters in the caller's language, and the field-check package and its import.

The routes stay in their routers, under the URLs the guides document; these helpers do the
work once for any :class:`gis.analysis.worklist.WorkList`. What a caller sees of an item or
a file is its role's view (:func:`view`, the one field policy in
:mod:`gis.analysis.worklist_policy`): every route that shows items goes through it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.errors import lang_of
from api.models import OnBehalfOf, Version
from gis.analysis import worklist_export, worklist_field, worklist_policy
from gis.analysis.worklist import Event, WorkList
from gis.analysis.worklist_field import ImportSummary
from gis.analysis.worklist_policy import FULL, View
from gis.auth import Principal
from gis.errors import EmptySource, UnsupportedFormat
from gis.messages import msg

#: A file name for an upload (``?filename=``), as the footprint upload takes it.
FileName = Annotated[str, Query(min_length=1, max_length=255,
                                description="Name of the uploaded file (.gpkg)")]


class DecisionRequest(BaseModel):
    decision: str
    on_behalf_of: OnBehalfOf = None
    reason: str = Field(min_length=1)
    version: Version


class StatusRequest(BaseModel):
    status: str = Field(description="open | field_check")
    on_behalf_of: OnBehalfOf = None
    reason: str | None = None
    version: Version


class WithHistory(BaseModel):
    """Added to an item in the answer to a change: its history after the change."""

    history: list[Event]


def view(wl: WorkList, who: Principal) -> View:
    """What the caller's role sees of the list's items (gis.analysis.worklist_policy)."""
    return worklist_policy.view(wl.name, who.role)


def changed(model: type[BaseModel], result: Any, view: View = FULL, **extra: Any) -> Any:
    """The answer to a change: the item (``model``, a subclass of the item's model with
    :class:`WithHistory`) as ``view`` sees it, and its history, read in the change's
    transaction."""
    item, history = result
    return model(**view.item(item).model_dump(), history=history, **extra)


def _download(data: bytes, fmt: str, filename: str) -> Response:
    return Response(data, media_type=worklist_export.MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})


async def export(wl: WorkList, engine: Any, fmt: str, filters: Mapping[str, Any],
                 request: Request, filename: str, who: Principal) -> Response:
    """The list's xlsx or GeoPackage with the same filters as the list, in the caller's
    language (the portal sends its page's), as the caller's role may see it."""
    data = await run_in_threadpool(worklist_export.export_bytes, engine, wl, fmt, dict(filters),
                                   lang_of(request.headers), view(wl, who))
    return _download(data, fmt, filename)


async def field_package(wl: WorkList, engine: Any, filters: Mapping[str, Any],
                        request: Request, filename: str, who: Principal) -> Response:
    """The field-check package (items in field check, one layer per township), as the
    caller's role may see them."""
    lang, seen = lang_of(request.headers), view(wl, who)

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "field-package.gpkg"
            worklist_field.package(engine, wl, path, dict(filters), lang, seen)
            return path.read_bytes()

    return _download(await run_in_threadpool(build), "gpkg", filename)


async def field_import(wl: WorkList, engine: Any, request: Request, who: Principal,
                       filename: str, on_behalf_of: str | None) -> ImportSummary:
    """Import a filled-in package sent as the request body: all rows or none."""
    actor = who.actor(on_behalf_of)
    if Path(filename).suffix.lower() != ".gpkg":
        raise UnsupportedFormat(msg("worklist.field.package_format",
                                    suffix=Path(filename).suffix))
    data = await request.body()
    if not data:
        raise EmptySource(msg("upload.empty", filename=filename))

    def load() -> ImportSummary:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "results.gpkg"
            path.write_bytes(data)
            return worklist_field.import_results(engine, wl, path, actor, filename)

    return await run_in_threadpool(load)
