"""Request-side access control: who is calling, may they read this layer, may they write.

The key travels in the ``X-API-Key`` header, or as the password of HTTP Basic
authentication (any user name): desktop clients that cannot add a header send that, QGIS
3.22 through a Basic authentication configuration and GDAL with ``GDAL_HTTP_AUTH=BASIC``
and ``GDAL_HTTP_USERPWD=name:key`` (``gis.auth.basic_key``). When both are sent the header
wins. No key means the anonymous ``public`` role; an unknown or revoked key, or a malformed
or wrong Basic password, is refused (401) rather than silently downgraded, so a
misconfigured client notices. Checked keys are cached for ``auth_cache_seconds`` so tile and
item requests do not each cost a database round trip.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from api.deps import get_engine
from api.observability import set_caller
from gis.auth import (
    PUBLIC,
    Principal,
    authenticate,
    basic_key,
    can_read,
    layer_sensitivity,
)
from gis.errors import Forbidden, RateLimited, Unauthorized
from gis.layers.catalogue import Layer, load_catalogue
from gis.messages import AnyOf, Label, msg
from gis.settings import Settings

API_KEY_HEADER = "X-API-Key"
AUTHORIZATION = "Authorization"
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False,
                        description="Issued with `gis users add NAME --role ROLE`.")


class _KeyCache:
    """principal by key digest, for a few seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, digest: str) -> tuple[bool, Principal | None]:
        with self._lock:
            hit = self._entries.get(digest)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, digest: str, principal: Principal | None, ttl: float) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + ttl, principal)


class RateLimiter:
    """Token bucket per caller: ``limit`` requests per minute, refilled continuously.

    In-process, so with N server workers a caller gets up to N times the limit; that bounds
    abuse well enough for a bureau service without a shared store.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, caller: str, limit: int) -> float:
        """0 if the request may go ahead, else the seconds until it could."""
        now = time.monotonic()
        rate = limit / 60.0
        with self._lock:
            tokens, stamp = self._buckets.get(caller, (float(limit), now))
            tokens = min(float(limit), tokens + (now - stamp) * rate)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / rate


def _state(request: Request, name: str, factory: Callable[[], object]) -> object:
    value = getattr(request.app.state, name, None)
    if value is None:
        value = factory()
        setattr(request.app.state, name, value)
    return value


async def current_principal(request: Request,
                            key: Annotated[str | None, Depends(_api_key)] = None) -> Principal:
    """The caller, from the key. ``async`` and answered from the cache without I/O: a sync
    dependency costs every request a hop through the thread pool (9% of a vector tile's
    Python time under load, py-spy on the 1M table); only a cache miss reads the database,
    in the pool."""
    header = API_KEY_HEADER
    if not key:
        authorization = request.headers.get(AUTHORIZATION)
        if not authorization or not authorization.lower().startswith("basic "):
            return PUBLIC
        header, key = AUTHORIZATION, basic_key(authorization)
        if key is None:
            raise Unauthorized(msg("auth.inactive_key", header=AUTHORIZATION))
    settings: Settings = request.app.state.settings
    cache: _KeyCache = _state(request, "key_cache", _KeyCache)  # type: ignore[assignment]
    digest = hashlib.sha256(key.encode()).hexdigest()
    found, principal = cache.get(digest)
    if not found:
        principal = await run_in_threadpool(authenticate, get_engine(request), key)
        cache.put(digest, principal, settings.api.auth_cache_seconds)
    if principal is None:
        raise Unauthorized(msg("auth.inactive_key", header=header))
    set_caller(request.scope.setdefault("state", {}), principal.name)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only ``roles`` (admin always); 401 without a key, 403 with one."""
    allowed = frozenset(roles) | {"admin"}
    roles_needed = AnyOf("role", tuple(sorted(allowed)))

    async def _check(principal: PrincipalDep) -> Principal:  # no I/O: no thread hop
        if principal.role in allowed:
            return principal
        if principal.anonymous:
            raise Unauthorized(msg("auth.key_needed", roles=roles_needed,
                                   header=API_KEY_HEADER))
        raise Forbidden(msg("auth.role_forbidden", role=Label("role", principal.role),
                            roles=roles_needed))

    return _check


async def rate_limited(request: Request, principal: PrincipalDep) -> Principal:
    """Charge one expensive request to the caller (the key, or the client address).
    ``async``: no I/O, so no hop through the thread pool."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = _state(request, "rate_limiter", RateLimiter)  # type: ignore[assignment]
    if principal.anonymous:
        caller = f"ip:{request.client.host if request.client else 'unknown'}"
    else:
        caller = f"key:{principal.name}"
    limit = principal.rate_limit_per_minute or settings.api.rate_limit_per_minute
    wait = limiter.take(caller, limit)
    if wait > 0:
        raise RateLimited(msg("auth.rate_limited", limit=limit, seconds=math.ceil(wait)),
                          retry_after_seconds=math.ceil(wait))
    return principal


def readable_layer(layer_id: str, principal: Principal, settings: Settings) -> Layer:
    """The catalogue layer if the caller may read it; 404 for unknown ids, 401/403 otherwise."""
    layer = load_catalogue().get(layer_id)  # UnknownLayer -> 404
    sensitivity = layer_sensitivity(layer, settings.api.layer_sensitivity)
    if can_read(principal.role, sensitivity):
        return layer
    if principal.anonymous:
        raise Unauthorized(msg("auth.layer_restricted", layer=layer_id,
                               sensitivity=Label("role", sensitivity), header=API_KEY_HEADER))
    raise Forbidden(msg("auth.layer_forbidden", role=Label("role", principal.role),
                        layer=layer_id, sensitivity=Label("role", sensitivity)))


def readable_layers(principal: Principal, settings: Settings) -> list[Layer]:
    return [layer for layer in load_catalogue()
            if can_read(principal.role, layer_sensitivity(layer, settings.api.layer_sensitivity))]


Planner = Depends(require_roles("planner"))
Forestry = Depends(require_roles("forestry"))
AnyRole = Depends(require_roles("planner", "forestry"))
Expensive = Depends(rate_limited)
