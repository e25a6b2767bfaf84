"""The library's exceptions: no HTTP in here.

Each class carries a user-safe message (``str(exc)``) and optional structured ``details``
(e.g. the failing feature ids) that the CLI prints and the API puts into RFC 7807 problem
details. ``api/errors.py`` maps classes to status codes in one table.
"""

from __future__ import annotations

from typing import Any

from gis.messages import Lang, Message, text


class GISError(Exception):
    """Base class: something the user can fix, with a message that says what.

    The message is a catalogue :class:`~gis.messages.Message` (rendered in the reader's
    language by the API and the CLI) or, in code not yet moved to the catalogue, a plain
    English string. ``message``/``str(exc)`` are English either way (logs, tests)."""

    title = "GIS error"

    def __init__(self, message: str | Message, **details: Any) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.catalogued = message if isinstance(message, Message) else None
        self.details = details

    def render(self, lang: Lang) -> str:
        return self.catalogued.render(lang) if self.catalogued else self.message

    @classmethod
    def title_in(cls, lang: Lang) -> str:
        """The problem title in ``lang``: the catalogue's ``error.<Class>`` of the nearest
        class that has one."""
        for klass in cls.__mro__:
            try:
                return text(f"error.{klass.__name__}", lang)
            except KeyError:
                continue
        return cls.title


class ConfigurationError(GISError):
    title = "Configuration error"


class DatabaseUnavailable(GISError):
    title = "Database unavailable"


class UnknownLayer(GISError):
    title = "Unknown layer"


class InputError(GISError):
    """Bad input data in general; subclasses say which kind."""

    title = "Invalid input"


class InvalidParameter(InputError):
    """A malformed or unknown request parameter (bbox, crs, sortby, filter ...): HTTP 400."""

    title = "Invalid parameter"


class UnsupportedFormat(InputError):
    title = "Unsupported format"


class EmptySource(InputError):
    title = "Empty source"


class MissingCRS(InputError):
    title = "Missing CRS"


class CRSMismatch(InputError):
    title = "CRS mismatch"


class CoordinatesOutOfRange(InputError):
    title = "Coordinates out of range"


class WrongGeometryType(InputError):
    title = "Wrong geometry type"


class InvalidGeometry(InputError):
    title = "Invalid geometry"


class EncodingError(InputError):
    title = "Encoding error"


class FieldMappingError(InputError):
    title = "Field mapping error"


class DuplicateKey(InputError):
    title = "Duplicate natural key"


class NotFound(GISError):
    """A stored object (analysis run, finding) that does not exist."""

    title = "Not found"


class Conflict(GISError):
    """The object changed since the caller read it (optimistic concurrency)."""

    title = "Conflict"


class Unauthorized(GISError):
    """No key, or a key that is unknown or revoked, where a role is required."""

    title = "Unauthorized"


class Forbidden(GISError):
    """A valid key whose role may not do this."""

    title = "Forbidden"


class RateLimited(GISError):
    """Too many expensive requests from one key in a minute."""

    title = "Too many requests"
