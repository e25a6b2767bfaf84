"""Who did it: the actor recorded with every write to a ledger or work list.

The actor comes from authentication, never from what a request says about itself: over the
API it is the holder of the API key that signed the request (with the key's id, so a name
reused after a key is revoked stays distinguishable); in the command line and in library
calls it is the operating-system account running the process (``cli:<user>``,
``python:<user>``), since that account is what the database trusted. A name typed by the
caller may be kept as "on behalf of" (a clerk recording a decision the section chief made),
next to the actor, never in its place.

History rows written before this rule (when the actor was whatever the client typed) are
marked ``actor_verified = false`` by migration 0009 and shown as unverified.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from gis.errors import InputError
from gis.messages import msg

#: Longest free-text "on behalf of" accepted; a name, not an essay.
MAX_ON_BEHALF_OF = 200


@dataclass(frozen=True)
class Actor:
    """An authenticated actor. ``key_id`` is the API key's id (None for local processes)."""

    name: str
    key_id: str | None = None
    on_behalf_of: str | None = None

    @classmethod
    def cli(cls, on_behalf_of: str | None = None) -> Actor:
        """The operating-system user running the ``gis`` command."""
        return cls(f"cli:{os_user()}", None, clean_on_behalf_of(on_behalf_of))

    @classmethod
    def local(cls, on_behalf_of: str | None = None) -> Actor:
        """The operating-system user of a notebook or script calling the library directly."""
        return cls(f"python:{os_user()}", None, clean_on_behalf_of(on_behalf_of))

    def acting_for(self, on_behalf_of: str | None) -> Actor:
        return Actor(self.name, self.key_id, clean_on_behalf_of(on_behalf_of))

    def columns(self) -> dict[str, str | None]:
        """The values of the ``actor``, ``actor_key`` and ``on_behalf_of`` columns."""
        return {"actor": self.name, "actor_key": self.key_id,
                "on_behalf_of": self.on_behalf_of}


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid{os.getuid()}"


def clean_on_behalf_of(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_ON_BEHALF_OF or "\x00" in value:
        raise InputError(msg("identity.on_behalf_too_long", limit=MAX_ON_BEHALF_OF))
    return value


def resolve(actor: Actor | None) -> Actor:
    """``actor`` or, for direct library calls, the local user. A bare string is refused: a
    name is not an identity."""
    if actor is None:
        return Actor.local()
    if not isinstance(actor, Actor):
        raise InputError(msg("identity.not_an_actor", kind=type(actor).__name__))
    return actor
