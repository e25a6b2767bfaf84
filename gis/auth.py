"""API keys and roles: who may read which layer and who may write.

Keys are random 32-byte tokens shown once when issued; only their SHA-256 is stored. A fast
hash is the right tool here (unlike for passwords): the secret has 256 bits of entropy, so
there is nothing to brute-force, and a slow KDF would cost every request tens of ms. Keys look
like ``om_<8-char id>_<secret>``; the id part finds the row, the hash comparison is constant-time.

Roles are fixed (``public`` is the anonymous caller). What a role may read is decided by the
layer's ``sensitivity`` in the catalogue, which settings can override per layer
(``GIS_LAYER_SENSITIVITY='{"eco_redline": "public"}'``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from gis.db.records import api_keys
from gis.errors import Conflict, InputError, NotFound, Unauthorized
from gis.identity import Actor, clean_on_behalf_of
from gis.layers.catalogue import Layer
from gis.messages import msg

ROLES = ("public", "planner", "forestry", "admin")
ISSUABLE_ROLES = ("planner", "forestry", "admin")
SENSITIVITIES = ("public", "planner", "forestry")

#: Which layer sensitivities each role may read. Planners and forestry staff each see their own
#: restricted data; only admins see everything.
READABLE: dict[str, frozenset[str]] = {
    "public": frozenset({"public"}),
    "planner": frozenset({"public", "planner"}),
    "forestry": frozenset({"public", "forestry"}),
    "admin": frozenset(SENSITIVITIES),
}

KEY_PREFIX = "om_"


@dataclass(frozen=True)
class Principal:
    """The caller of a request: an issued key's name and role, or the anonymous public."""

    name: str
    role: str
    rate_limit_per_minute: int | None = None
    key_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.role == "public"

    def actor(self, on_behalf_of: str | None = None) -> Actor:
        """The authenticated actor for a write: the key's holder, never a request field."""
        if self.anonymous:
            raise Unauthorized(msg("auth.anonymous_write"))
        return Actor(self.name, self.key_id, clean_on_behalf_of(on_behalf_of))


PUBLIC = Principal(name="public", role="public")


@dataclass(frozen=True)
class KeyInfo:
    name: str
    role: str
    key_id: str
    created_at: datetime
    revoked_at: datetime | None
    rate_limit_per_minute: int | None


def layer_sensitivity(layer: Layer, overrides: dict[str, str] | None = None) -> str:
    value = (overrides or {}).get(layer.id, layer.sensitivity)
    if value not in SENSITIVITIES:
        raise InputError(msg("auth.bad_sensitivity", layer=layer.id,
                             allowed=", ".join(SENSITIVITIES), value=value))
    return value


def can_read(role: str, sensitivity: str) -> bool:
    return sensitivity in READABLE.get(role, frozenset())


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(key: str) -> tuple[str, str] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    rest = key[len(KEY_PREFIX):]
    key_id, sep, secret = rest.partition("_")
    if not sep or len(key_id) != 8 or not secret:
        return None
    return key_id, secret


def issue_key(engine: Engine, name: str, role: str,
              rate_limit_per_minute: int | None = None) -> str:
    """Create a key for ``name`` with ``role`` and return it; it cannot be shown again."""
    name = name.strip()
    if not name:
        raise InputError(msg("auth.key_name_missing"))
    if role not in ISSUABLE_ROLES:
        raise InputError(msg("auth.bad_role", allowed=", ".join(ISSUABLE_ROLES), value=role))
    if rate_limit_per_minute is not None and rate_limit_per_minute <= 0:
        raise InputError(msg("auth.bad_rate_limit"))
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        taken = conn.execute(sa.select(api_keys.c.name).where(
            api_keys.c.name == name, api_keys.c.revoked_at.is_(None))).first()
        if taken:
            raise Conflict(msg("auth.name_taken", name=name))
        conn.execute(api_keys.insert().values(
            name=name, role=role, key_id=key_id, key_hash=_hash(secret),
            rate_limit_per_minute=rate_limit_per_minute))
    return f"{KEY_PREFIX}{key_id}_{secret}"


def revoke_key(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        done = conn.execute(
            api_keys.update()
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=sa.func.now())
        ).rowcount
    if not done:
        raise NotFound(msg("auth.no_such_key", name=name))


def list_keys(engine: Engine) -> list[KeyInfo]:
    cols = [api_keys.c.name, api_keys.c.role, api_keys.c.key_id, api_keys.c.created_at,
            api_keys.c.revoked_at, api_keys.c.rate_limit_per_minute]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*cols).order_by(api_keys.c.created_at)).all()
    return [KeyInfo(*row) for row in rows]


def basic_key(authorization: str) -> str | None:
    """The key in an HTTP Basic ``Authorization`` header value: the password, whatever the
    user name (QGIS and GDAL send credentials this way). None when the value is not Basic
    credentials (bad base64, no ``:``, not UTF-8, an empty password)."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon and password else None


def authenticate(engine: Engine, key: str) -> Principal | None:
    """The principal of an active key, or None for an unknown, malformed or revoked key."""
    parts = _split(key.strip())
    if parts is None:
        return None
    key_id, secret = parts
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(api_keys.c.name, api_keys.c.role, api_keys.c.key_hash,
                      api_keys.c.rate_limit_per_minute)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        ).first()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(secret)):
        return None
    return Principal(name=row.name, role=row.role,
                     rate_limit_per_minute=row.rate_limit_per_minute, key_id=key_id)
