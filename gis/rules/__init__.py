"""Rule profiles: the rules the analyses check, as validated data with citations.

``load_profile("dawukou")`` returns the Dawukou profile merged over the Ningxia one it
extends. Merging is by section: mappings (documents, rules, targets, siting) are merged key
by key with the child winning; lists and other values are replaced when the child gives them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from gis.errors import GISError
from gis.messages import Joined, msg
from gis.rules.models import Profile

_MERGED_MAPPINGS = ("documents", "rules", "targets", "siting", "indicators", "reconciliation")


class UnknownProfile(GISError):
    title = "Unknown rule profile"


def available_profiles() -> list[str]:
    folder = resources.files("gis.rules").joinpath("profiles")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def _raw(profile_id: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if profile_id in seen:
        raise GISError(msg("rules.profile_cycle", chain=" -> ".join(seen)))
    if profile_id not in available_profiles():
        raise UnknownProfile(msg("rules.unknown_profile", profile=profile_id,
                                 available=Joined.of(available_profiles())))
    text = resources.files("gis.rules").joinpath("profiles", f"{profile_id}.yaml").read_text(
        encoding="utf-8")
    data = yaml.safe_load(text)
    parent_id = data.get("extends")
    if not parent_id:
        return data
    merged = dict(_raw(parent_id, (*seen, profile_id)))
    for key, value in data.items():
        if key in _MERGED_MAPPINGS and isinstance(value, dict):
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = value
    return merged


@cache
def load_profile(profile_id: str) -> Profile:
    return Profile.model_validate(_raw(profile_id))


def division_prefix(code: str) -> str:
    """The significant part of a division code: 640000 -> 64, 640202 -> 640202."""
    return code.rstrip("0") or code


def profile_for_division(code: str) -> Profile:
    """The most specific profile whose jurisdiction contains division ``code`` (a county,
    township or village code): 640202100201 -> dawukou, 641234... -> ningxia."""
    covering = [
        (len(division_prefix(p.division_code)), p.id)
        for p in map(load_profile, available_profiles())
        if p.division_code and code.startswith(division_prefix(p.division_code))
    ]
    if not covering:
        raise UnknownProfile(msg("rules.no_profile_for_division", division=code))
    return load_profile(max(covering)[1])


__all__ = ["Profile", "UnknownProfile", "available_profiles", "division_prefix",
           "load_profile", "profile_for_division"]
